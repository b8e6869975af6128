package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;
import static org.bitengine.io.IoErrors.reason;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bitengine.engine.BitEngineException;

/**
 * The binary versions of CIFAR-10 and CIFAR-100 (the {@code cifar-10-batches-bin} and
 * {@code cifar-100-binary} folders of the official archives), 32×32 RGB images.
 *
 * <ul>
 *   <li>CIFAR-10: {@code data_batch_1.bin} … {@code data_batch_5.bin} (TRAIN, whichever are present,
 *       in number order) and {@code test_batch.bin} (TEST); records of 1 label byte + 3072 pixel bytes
 *       (the 1024 R values, then G, then B, each plane row-major). Class names from
 *       {@code batches.meta.txt} when present, else "0".."9".</li>
 *   <li>CIFAR-100: {@code train.bin}, {@code test.bin}; records of a coarse and a fine label byte +
 *       3072 pixel bytes; the fine label (100 classes) is used, with names from
 *       {@code fine_label_names.txt} when present, else "0".."99".</li>
 * </ul>
 * The files are read into memory at open (CIFAR-10's training set is 154 MB).
 */
public final class CifarDataset implements ImageDataset {

    private static final int SIDE = 32;
    private static final int PLANE = SIDE * SIDE;
    private static final int PIXELS = 3 * PLANE;
    private static final Pattern BATCH = Pattern.compile("data_batch_(\\d+)\\.bin");

    private final List<Path> files;
    private final List<byte[]> data;
    private final int[] fileStart; // first example index of each file, plus the total at the end
    private final int labelBytes;
    private final List<String> classes;

    private CifarDataset(List<Path> files, List<byte[]> data, int labelBytes, List<String> classes) {
        this.files = files;
        this.data = data;
        this.labelBytes = labelBytes;
        this.classes = classes;
        this.fileStart = new int[files.size() + 1];
        int record = labelBytes + PIXELS;
        for (int i = 0; i < files.size(); i++) {
            fileStart[i + 1] = fileStart[i] + data.get(i).length / record;
        }
    }

    /** Whether {@code dir} holds CIFAR-10 batches ({@code data_batch_*.bin} or {@code test_batch.bin}). */
    static boolean isCifar10(Path dir) {
        if (Files.isRegularFile(dir.resolve("test_batch.bin"))) {
            return true;
        }
        return !cifar10Batches(dir).isEmpty();
    }

    /** Whether {@code dir} holds CIFAR-100's {@code train.bin} or {@code test.bin}. */
    static boolean isCifar100(Path dir) {
        return Files.isRegularFile(dir.resolve("train.bin")) || Files.isRegularFile(dir.resolve("test.bin"));
    }

    /**
     * Opens the split of the CIFAR-10 or CIFAR-100 folder {@code dir}.
     *
     * @throws BitEngineException when the split's files are missing, two files are the same CIFAR-10
     *                            training batch, a file is not a whole number of records, or a label is
     *                            out of range
     */
    public static CifarDataset open(Path dir, Split split) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(split, "split");
        if (isCifar10(dir)) {
            List<Path> files;
            if (split == Split.TRAIN) {
                files = cifar10TrainingBatches(dir);
                if (files.isEmpty()) {
                    throw error(dir + ": has no CIFAR-10 training batches (data_batch_1.bin .. data_batch_5.bin);"
                            + " extract them from cifar-10-binary.tar.gz or pick the test split");
                }
            } else {
                Path test = dir.resolve("test_batch.bin");
                if (!Files.isRegularFile(test)) {
                    throw error(dir + ": has no CIFAR-10 test batch (test_batch.bin); extract it from"
                            + " cifar-10-binary.tar.gz or pick the training split");
                }
                files = List.of(test);
            }
            return load(files, 1, 10, dir.resolve("batches.meta.txt"));
        }
        if (isCifar100(dir)) {
            Path f = dir.resolve(split == Split.TRAIN ? "train.bin" : "test.bin");
            if (!Files.isRegularFile(f)) {
                throw error(dir + ": has no CIFAR-100 " + f.getFileName() + "; extract it from cifar-100-binary.tar.gz"
                        + " or pick the other split");
            }
            return load(List.of(f), 2, 100, dir.resolve("fine_label_names.txt"));
        }
        throw error(dir + ": holds neither CIFAR-10 (data_batch_*.bin, test_batch.bin) nor CIFAR-100 (train.bin,"
                + " test.bin) binary files; pass the extracted cifar-10-batches-bin or cifar-100-binary folder");
    }

    /** A {@code data_batch_N.bin} file and its N. */
    private record NumberedBatch(long number, Path file) {}

    /**
     * The training batches in number order. Two files of one number ({@code data_batch_1.bin} and
     * {@code data_batch_01.bin}) are refused: which one is the real batch is not ours to guess, and
     * reading both would train on the batch twice, in an order that depends on the folder listing.
     */
    private static List<Path> cifar10TrainingBatches(Path dir) {
        List<NumberedBatch> batches = cifar10Batches(dir);
        for (int i = 1; i < batches.size(); i++) {
            NumberedBatch previous = batches.get(i - 1);
            NumberedBatch next = batches.get(i);
            if (previous.number() == next.number()) {
                throw error(dir + ": " + previous.file().getFileName() + " and " + next.file().getFileName()
                        + " are both CIFAR-10 training batch " + next.number() + "; keep one of them");
            }
        }
        return batches.stream().map(NumberedBatch::file).toList();
    }

    /** The {@code data_batch_N.bin} files by number, then by name: the refusal above names them the same on every file system. */
    private static List<NumberedBatch> cifar10Batches(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<NumberedBatch> numbered = new ArrayList<>();
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                Matcher m = BATCH.matcher(f.getFileName().toString());
                if (m.matches() && m.group(1).length() < 10) {
                    numbered.add(new NumberedBatch(Long.parseLong(m.group(1)), f));
                }
            }
            numbered.sort(Comparator.comparingLong(NumberedBatch::number).thenComparing(NumberedBatch::file));
            return numbered;
        } catch (IOException e) {
            throw error(dir + ": cannot list folder: " + reason(e) + "; check the path and permissions", e);
        }
    }

    private static CifarDataset load(List<Path> files, int labelBytes, int numClasses, Path namesFile) {
        int record = labelBytes + PIXELS;
        String kind = numClasses == 10 ? "CIFAR-10" : "CIFAR-100";
        List<byte[]> data = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            long size;
            try {
                size = Files.size(f);
            } catch (IOException e) {
                throw error(f + ": cannot read " + kind + " file: " + reason(e) + "; check the path and permissions", e);
            }
            if (size == 0 || size % record != 0) {
                throw error(f + ": " + size + " bytes is not a whole number of " + record + "-byte " + kind
                        + " records; the file is truncated or not a " + kind + " binary file, extract it again");
            }
            if (total + size / record > Integer.MAX_VALUE - 8 || size > Integer.MAX_VALUE - 8) {
                throw error(f + ": too many records (" + size / record + "); split the file");
            }
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(f);
            } catch (IOException e) {
                throw error(f + ": cannot read " + kind + " file: " + reason(e) + "; check the path and permissions", e);
            }
            if (bytes.length != size) {
                throw error(f + ": the file changed while it was read; read it again");
            }
            int fineAt = labelBytes - 1;
            for (int r = 0; r < bytes.length / record; r++) {
                int label = bytes[r * record + fineAt] & 0xFF;
                if (label >= numClasses) {
                    throw error(f + ": record " + r + " has label " + label + " but " + kind + " has " + numClasses
                            + " classes; the file is not a " + kind + " binary file"
                            + (numClasses == 10 ? " (CIFAR-100 files are named train.bin/test.bin)" : ""));
                }
            }
            data.add(bytes);
            total += bytes.length / record;
        }
        return new CifarDataset(List.copyOf(files), data, labelBytes, classNames(namesFile, numClasses));
    }

    /** The names in the file (one per line, blank lines skipped), or numbers when it is absent or incomplete. */
    private static List<String> classNames(Path namesFile, int numClasses) {
        List<String> names = new ArrayList<>();
        if (Files.isRegularFile(namesFile)) {
            try {
                for (String line : Files.readAllLines(namesFile, StandardCharsets.UTF_8)) {
                    if (!line.isBlank()) {
                        names.add(line.strip());
                    }
                }
            } catch (IOException e) {
                names.clear(); // a damaged names file is not worth refusing the data for: numbers will do
            }
        }
        if (names.size() < numClasses) {
            return ArrayImages.numberedClasses(numClasses);
        }
        return List.copyOf(names.subList(0, numClasses));
    }

    /** The batch files read, in example order. */
    public List<Path> files() {
        return files;
    }

    private int fileOf(int index) {
        Objects.checkIndex(index, size());
        int f = 0;
        while (index >= fileStart[f + 1]) {
            f++;
        }
        return f;
    }

    @Override
    public int size() {
        return fileStart[files.size()];
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        int f = fileOf(index);
        int r = index - fileStart[f];
        return data.get(f)[r * (labelBytes + PIXELS) + labelBytes - 1] & 0xFF;
    }

    @Override
    public Image image(int index) {
        int f = fileOf(index);
        int r = index - fileStart[f];
        byte[] b = data.get(f);
        int base = r * (labelBytes + PIXELS) + labelBytes;
        float[] px = new float[PIXELS];
        for (int i = 0; i < PLANE; i++) {
            px[3 * i] = b[base + i] & 0xFF;
            px[3 * i + 1] = b[base + PLANE + i] & 0xFF;
            px[3 * i + 2] = b[base + 2 * PLANE + i] & 0xFF;
        }
        return new Image(SIDE, SIDE, px, false);
    }

    @Override
    public String describe(int index) {
        int f = fileOf(index);
        return files.get(f) + " record " + (index - fileStart[f]);
    }

    @Override
    public int[] nominalSize() {
        return new int[] {SIDE, SIDE};
    }

    @Override
    public String toString() {
        return (labelBytes == 1 ? "CIFAR-10 " : "CIFAR-100 ") + files.get(0).getParent() + " (" + size()
                + " images, " + classes.size() + " classes)";
    }
}
