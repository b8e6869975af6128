package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;
import static org.bitengine.io.IoErrors.reason;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.bitengine.engine.BitEngineException;

/**
 * MNIST-style idx files: an image file {@code *-images-idx3-ubyte} (magic 0x00000803, then N, rows,
 * cols as big-endian int32, then N·rows·cols unsigned bytes) and a label file
 * {@code *-labels-idx1-ubyte} (magic 0x00000801, N, then N bytes), each optionally gzipped
 * ({@code .gz}). Everything is read into memory at open (MNIST's 60 000 images are 47 MB).
 *
 * <p>Class names are Fashion-MNIST's ("T-shirt/top", "Trouser", … "Ankle boot") when the image file's
 * path mentions "fashion", else "0".."K−1" with K = max(label) + 1.
 */
public final class IdxDataset implements ImageDataset {

    /** Fashion-MNIST's class names, by label. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress",
            "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;
    /** A file name as the MNIST family names them: {prefix}{train|t10k|test}-{images|labels}[-.]idx{3|1}-ubyte[.gz]. */
    private static final Pattern NAME = Pattern.compile(
            "(?i)(.*?)(train|t10k|test)-(images|labels)[-.]idx([13])-ubyte(\\.gz)?");

    private final Path imagesFile;
    private final int n;
    private final int rows;
    private final int cols;
    private final byte[] pixels;
    private final byte[] labels;
    private final List<String> classes;

    private IdxDataset(Path imagesFile, int n, int rows, int cols, byte[] pixels, byte[] labels, List<String> classes) {
        this.imagesFile = imagesFile;
        this.n = n;
        this.rows = rows;
        this.cols = cols;
        this.pixels = pixels;
        this.labels = labels;
        this.classes = classes;
    }

    /**
     * Reads an image file and its label file.
     *
     * @throws BitEngineException naming the file when a magic number is wrong, a file is truncated or
     *                            too long, or the counts of images and labels differ
     */
    public static IdxDataset open(Path images, Path labels) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        Idx im = read(images, IMAGES_MAGIC);
        Idx lb = read(labels, LABELS_MAGIC);
        if (im.dims[0] != lb.dims[0]) {
            throw error(images + " holds " + im.dims[0] + " images but " + labels + " holds " + lb.dims[0]
                    + " labels; pass the label file that belongs to these images");
        }
        if (im.dims[0] == 0) {
            throw error(images + ": holds no images (its header says 0); pass a non-empty idx file");
        }
        int max = -1;
        for (byte b : lb.data) {
            max = Math.max(max, b & 0xFF);
        }
        List<String> classes;
        if (images.toAbsolutePath().toString().toLowerCase(Locale.ROOT).contains("fashion")) {
            if (max >= FASHION_MNIST_CLASSES.size()) {
                throw error(labels + ": label " + max + " is not a Fashion-MNIST class (0..9); the file is not"
                        + " Fashion-MNIST's, rename its folder so that it does not say 'fashion'");
            }
            classes = FASHION_MNIST_CLASSES;
        } else {
            classes = ArrayImages.numberedClasses(max + 1);
        }
        return new IdxDataset(images, im.dims[0], im.dims[1], im.dims[2], im.data, lb.data, classes);
    }

    /**
     * Finds the split's image and label files in a directory, or among the files starting with a path
     * prefix ({@code data/emnist/emnist-digits} finds {@code emnist-digits-train-images-idx3-ubyte}):
     * {@code train-*} for TRAIN, {@code t10k-*} (or {@code test-*}) for TEST; an uncompressed file is
     * preferred to its {@code .gz}.
     *
     * @return the pair, or null when there is no idx file at all there
     * @throws BitEngineException when idx files are there but the split's pair is incomplete or ambiguous
     */
    static Path[] find(Path dirOrPrefix, Split split) {
        Path dir;
        String prefix;
        if (Files.isDirectory(dirOrPrefix)) {
            dir = dirOrPrefix;
            prefix = "";
        } else {
            dir = dirOrPrefix.toAbsolutePath().getParent();
            prefix = dirOrPrefix.getFileName().toString();
            if (dir == null || !Files.isDirectory(dir)) {
                return null;
            }
            Matcher m = NAME.matcher(prefix);
            if (m.matches()) { // the path of one idx file itself: take its prefix
                prefix = m.group(1);
            }
        }
        // key: prefix + "|" + kind -> file; plain sorts before .gz so that putIfAbsent keeps it
        TreeMap<String, Path> found = new TreeMap<>();
        boolean any = false;
        List<Path> listing;
        try (Stream<Path> s = Files.list(dir)) {
            listing = s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw error(dir + ": cannot list folder: " + reason(e) + "; check the path and permissions", e);
        }
        String lowerPrefix = prefix.toLowerCase(Locale.ROOT);
        for (Path p : listing) {
            String name = p.getFileName().toString();
            Matcher m = NAME.matcher(name);
            if (!m.matches() || !name.toLowerCase(Locale.ROOT).startsWith(lowerPrefix)) {
                continue;
            }
            any = true;
            String word = m.group(2).toLowerCase(Locale.ROOT);
            boolean train = word.equals("train");
            if (train != (split == Split.TRAIN)) {
                continue;
            }
            String kind = m.group(3).toLowerCase(Locale.ROOT);
            String key = m.group(1) + "|" + kind;
            Path previous = found.get(key);
            if (previous == null || previous.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")) {
                found.put(key, p);
            }
        }
        if (!any) {
            return null;
        }
        List<String> prefixes = found.keySet().stream().map(k -> k.substring(0, k.indexOf('|'))).distinct().toList();
        String want = split == Split.TRAIN ? "train-images-idx3-ubyte and train-labels-idx1-ubyte"
                : "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte";
        if (prefixes.isEmpty()) {
            throw error(dirOrPrefix + ": has idx files but not the " + split.name().toLowerCase(Locale.ROOT) + " split ("
                    + want + ", optionally .gz); add them or pick the other split");
        }
        if (prefixes.size() > 1) {
            throw error(dir + ": holds several idx datasets (" + prefixes.stream().map(p -> "'" + p + "'").toList()
                    + "); pass the path with the prefix of the one to use, e.g. " + dir.resolve(prefixes.get(0)));
        }
        Path images = found.get(prefixes.get(0) + "|images");
        Path labels = found.get(prefixes.get(0) + "|labels");
        if (images == null || labels == null) {
            throw error(dirOrPrefix + ": the " + split.name().toLowerCase(Locale.ROOT) + " split lacks its "
                    + (images == null ? "image" : "label") + " file (" + want + ", optionally .gz); add it");
        }
        return new Path[] {images, labels};
    }

    private record Idx(int[] dims, byte[] data) {}

    private static Idx read(Path file, int magic) {
        boolean gz = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
        String what = magic == IMAGES_MAGIC ? "idx3 image file" : "idx1 label file";
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw error(file + ": cannot read " + what + ": " + reason(e) + "; check the path", e);
        }
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = gz ? new GZIPInputStream(new BufferedInputStream(raw), 1 << 16) : new BufferedInputStream(raw, 1 << 16)) {
            DataInputStream d = new DataInputStream(in);
            int m;
            try {
                m = d.readInt();
            } catch (EOFException e) {
                throw error(file + ": too short to be an " + what + " (no 4-byte magic number); download it again", e);
            }
            if (m != magic) {
                String expected = String.format("0x%08X", magic);
                throw error(file + ": not an " + what + " (magic number " + String.format("0x%08X", m) + ", expected "
                        + expected + ")" + (m == (magic ^ 2) ? "; it looks like the "
                        + (magic == IMAGES_MAGIC ? "label" : "image") + " file, swap the two" : "; pass an MNIST-format "
                        + (magic == IMAGES_MAGIC ? "*-images-idx3-ubyte" : "*-labels-idx1-ubyte") + " file")
                        + (gz ? "" : " (if it is gzipped, name it .gz)"));
            }
            int ndim = magic & 0xFF;
            int[] dims = new int[ndim];
            long count = 1;
            for (int i = 0; i < ndim; i++) {
                try {
                    dims[i] = d.readInt();
                } catch (EOFException e) {
                    throw error(file + ": truncated " + what + " (the header ends early); download it again", e);
                }
                if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                    throw error(file + ": " + what + " header has the bad size " + dims[i] + "; the file is damaged,"
                            + " download it again");
                }
                count *= dims[i];
                // Checked after every dimension: each is below 2^31, so the product cannot overflow a
                // long before it is refused (three dimensions multiplied unchecked can wrap negative).
                if (count > Integer.MAX_VALUE - 8) {
                    throw error(file + ": " + what + " header claims " + describe(dims, i + 1) + ", more than one array"
                            + " can hold; the file is damaged or too large");
                }
            }
            long header = 4 + 4L * ndim;
            if (!gz && header + count != fileSize) {
                throw error(file + ": " + (header + count > fileSize ? "truncated" : "too long") + " " + what
                        + ": its header says " + describe(dims) + " = " + (header + count) + " bytes but the file has "
                        + fileSize + "; download it again");
            }
            // For a .gz the size is only a claim: readNBytes grows its buffer as data arrives, so a
            // header that lies allocates no more than the data really there.
            byte[] data = in.readNBytes((int) count);
            if (data.length < count) {
                throw error(file + ": truncated " + what + ": its header says " + describe(dims) + " = " + count
                        + " data bytes but only " + data.length + " follow; download it again");
            }
            if (in.read() != -1) {
                throw error(file + ": " + what + " has data beyond the " + describe(dims) + " its header says;"
                        + " the file is damaged, download it again");
            }
            return new Idx(dims, data);
        } catch (BitEngineException e) {
            throw e;
        } catch (IOException e) {
            throw error(file + ": cannot read " + what + ": " + reason(e) + "; the file is damaged or truncated,"
                    + " download it again", e);
        }
    }

    /** The first {@code n} dimensions as the header gives them, e.g. {@code 60000 x 28 x 28 bytes}. */
    private static String describe(int[] dims, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i > 0 ? " x " : "").append(dims[i]);
        }
        return sb.append(" bytes").toString();
    }

    private static String describe(int[] dims) {
        return dims.length == 3 ? dims[0] + " images of " + dims[1] + "x" + dims[2] : dims[0] + " labels";
    }

    /** The image file. */
    public Path imagesFile() {
        return imagesFile;
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, n)] & 0xFF;
    }

    @Override
    public Image image(int index) {
        Objects.checkIndex(index, n);
        int len = rows * cols;
        return ArrayImages.image(rows, cols, 1, ArrayImages.unsigned(pixels, index * len, len), false);
    }

    @Override
    public String describe(int index) {
        return imagesFile.getFileName() + "[" + index + "]";
    }

    @Override
    public int[] nominalSize() {
        return new int[] {rows, cols};
    }

    @Override
    public String toString() {
        return "idx " + imagesFile + " (" + n + " images " + rows + "x" + cols + ", " + classes.size() + " classes)";
    }
}
