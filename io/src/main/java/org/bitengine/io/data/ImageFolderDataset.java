package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;
import static org.bitengine.io.IoErrors.reason;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.image.ImageDecoder;

/**
 * A directory with one sub-folder per class, as torchvision's {@code ImageFolder} reads it:
 * {@code root/<class>/**}{@code /<image>.jpg}. Class index = position of the sub-folder's name in
 * sorted order; files are collected recursively and sorted by their path inside the class folder.
 *
 * <p>JPEG and PNG files are taken (extensions .jpg, .jpeg, .png in any case); other files, hidden
 * files and hidden folders are ignored and counted ({@link #ignoredFiles()}). At open, each image's
 * header is read (not its pixels) for its size; a file that cannot be read is skipped with one warning
 * line and counted ({@link #skipped()}). Pixels are decoded on demand by {@link #image(int)} through
 * {@link ImageDecoder}, so the dataset holds only file names and is safe to use from several threads.
 */
public final class ImageFolderDataset implements ImageDataset {

    private final Path root;
    private final List<String> classes;
    private final Path[] files;
    private final int[] labels;
    private final int[] nominal;
    private final int skipped;
    private final int ignored;

    private ImageFolderDataset(Path root, List<String> classes, Path[] files, int[] labels, int[] nominal,
                               int skipped, int ignored) {
        this.root = root;
        this.classes = classes;
        this.files = files;
        this.labels = labels;
        this.nominal = nominal;
        this.skipped = skipped;
        this.ignored = ignored;
    }

    /**
     * Scans {@code root}. Warnings (one line per unreadable file, one line summing up ignored files) go
     * to {@code warnings}.
     *
     * @throws BitEngineException if root is not a directory, has no class sub-folders, or a class
     *                            folder holds no readable image
     */
    public static ImageFolderDataset open(Path root, Consumer<String> warnings) {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(warnings, "warnings");
        if (!Files.isDirectory(root)) {
            throw error(root + ": " + (Files.exists(root) ? "is not a directory" : "no such directory")
                    + "; pass a folder with one sub-folder of images per class");
        }
        List<Path> classDirs = new ArrayList<>();
        int looseImages = 0;
        int ignored = 0;
        for (Path p : list(root)) {
            if (isHidden(p)) {
                if (!Files.isDirectory(p)) {
                    ignored++;
                }
            } else if (Files.isDirectory(p)) {
                classDirs.add(p);
            } else if (ImageDecoder.hasImageExtension(p)) {
                looseImages++;
            } else {
                ignored++;
            }
        }
        if (classDirs.isEmpty()) {
            throw error(root + ": has no class sub-folders" + (looseImages > 0 ? " (it holds " + looseImages
                    + " images directly)" : "") + "; put each class's images in a sub-folder named after the class,"
                    + " e.g. " + root.resolve("cat").resolve("001.jpg"));
        }
        classDirs.sort(Comparator.comparing(p -> p.getFileName().toString()));

        List<Path> candidates = new ArrayList<>();
        List<Integer> candidateClass = new ArrayList<>();
        for (int c = 0; c < classDirs.size(); c++) {
            List<Path> found = new ArrayList<>();
            ignored += walk(classDirs.get(c), found);
            for (Path f : found) {
                candidates.add(f);
                candidateClass.add(c);
            }
        }
        // Header reads are I/O bound and independent: spread them over the common pool.
        String[] failures = new String[candidates.size()];
        int[][] sizes = new int[candidates.size()][];
        IntStream.range(0, candidates.size()).parallel().forEach(i -> {
            try {
                ImageDecoder.Header h = ImageDecoder.readHeader(candidates.get(i));
                sizes[i] = new int[] {h.height(), h.width()};
            } catch (BitEngineException e) {
                failures[i] = e.getMessage();
            }
        });
        int skipped = 0;
        int[] perClass = new int[classDirs.size()];
        int[] unreadablePerClass = new int[classDirs.size()];
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<int[]> kept = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            int c = candidateClass.get(i);
            if (failures[i] != null) {
                skipped++;
                unreadablePerClass[c]++;
                warnings.accept("skipped unreadable image: " + failures[i]);
                continue;
            }
            files.add(candidates.get(i));
            labels.add(c);
            kept.add(sizes[i]);
            perClass[c]++;
        }
        if (looseImages > 0) {
            warnings.accept(root + ": ignored " + looseImages + " image" + (looseImages == 1 ? "" : "s")
                    + " lying directly in it, outside the class sub-folders; move them into a class folder");
        }
        if (ignored > 0) {
            warnings.accept(root + ": ignored " + ignored + " file" + (ignored == 1 ? "" : "s")
                    + " that are not .jpg/.jpeg/.png images (or are hidden)");
        }
        for (int c = 0; c < classDirs.size(); c++) {
            if (perClass[c] == 0) {
                throw error("class folder " + classDirs.get(c) + " has no readable images"
                        + (unreadablePerClass[c] > 0 ? " (" + unreadablePerClass[c] + " unreadable skipped)" : "")
                        + "; add .jpg/.jpeg/.png images or remove it");
            }
        }
        List<String> names = classDirs.stream().map(p -> p.getFileName().toString()).toList();
        return new ImageFolderDataset(root, names, files.toArray(Path[]::new),
                labels.stream().mapToInt(Integer::intValue).toArray(), median(kept), skipped, ignored);
    }

    /** Lower medians of the heights and of the widths. */
    static int[] median(List<int[]> sizes) {
        int[] h = sizes.stream().mapToInt(s -> s[0]).sorted().toArray();
        int[] w = sizes.stream().mapToInt(s -> s[1]).sorted().toArray();
        return new int[] {h[(h.length - 1) / 2], w[(w.length - 1) / 2]};
    }

    private static boolean isHidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw error(dir + ": cannot list folder: " + reason(e) + "; check the path and permissions", e);
        }
    }

    /** Collects the image files under {@code dir} (recursively, sorted); returns how many other files it saw. */
    private static int walk(Path dir, List<Path> out) {
        int[] ignored = {0};
        try (Stream<Path> s = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            List<Path> all = s.filter(p -> !p.equals(dir)).toList();
            List<Path> images = new ArrayList<>();
            for (Path p : all) {
                Path rel = dir.relativize(p);
                boolean hidden = false;
                for (Path part : rel) {
                    hidden |= part.toString().startsWith(".");
                }
                if (Files.isDirectory(p)) {
                    continue;
                }
                if (!hidden && ImageDecoder.hasImageExtension(p)) {
                    images.add(p);
                } else {
                    ignored[0]++;
                }
            }
            images.sort(Comparator.comparing(p -> dir.relativize(p).toString().replace('\\', '/')));
            out.addAll(images);
            return ignored[0];
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            String why = io instanceof FileSystemLoopException ? "a symbolic link loops back to a parent folder"
                    : reason(io);
            throw error(dir + ": cannot list class folder: " + why + "; fix the folder or remove it", e);
        }
    }

    /** The folder this dataset was read from. */
    public Path root() {
        return root;
    }

    /** The file of example {@code index}. */
    public Path file(int index) {
        return files[Objects.checkIndex(index, files.length)];
    }

    /** Image files skipped at open because their header could not be read. */
    public int skipped() {
        return skipped;
    }

    /** Files ignored at open because they are not JPEG/PNG by name, or are hidden. */
    public int ignoredFiles() {
        return ignored;
    }

    @Override
    public int size() {
        return files.length;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, labels.length)];
    }

    /**
     * Decodes the image.
     *
     * @throws BitEngineException naming the file when it can no longer be decoded (changed or damaged
     *                            after the dataset was opened)
     */
    @Override
    public Image image(int index) {
        return ImageDecoder.decode(file(index));
    }

    @Override
    public String describe(int index) {
        return file(index).toString();
    }

    @Override
    public int[] nominalSize() {
        return nominal.clone();
    }

    @Override
    public String toString() {
        return "image folder " + root + " (" + files.length + " images, " + classes.size() + " classes)";
    }
}
