package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.bitengine.io.data.CifarDataset;
import org.bitengine.io.data.Split;
import org.junit.jupiter.api.io.TempDir;

/**
 * CIFAR folders built from the input, so that most inputs are whole records and the reader's later
 * checks (labels, batch order, class names, the split's files) are reached; {@link CifarFuzzTest}
 * feeds raw bytes, which mutations rarely keep a multiple of 3073 or 3074 bytes long.
 *
 * <p>The input is read as a stream of bytes (0 once it runs out):
 * <ol>
 *   <li>flags: bit 0 CIFAR-100, bit 1 the training split, bit 2 a class-names file, bit 3 the other
 *       split's file(s) too, bit 4 leave out the split's own file(s) (they are still built from the
 *       input, so the rest of it reads the same);</li>
 *   <li>CIFAR-10 training split only: the number of batch files (1 + b % 3), then per file its batch
 *       number (b % 8) and whether the name has a leading zero (b & 0x80, {@code data_batch_01.bin});</li>
 *   <li>per file: its record count (b % 5; 0 gives an empty file), extra bytes after the records
 *       (b - 239 when b ≥ 240, else none), then per record its label byte(s) (b % classes below 240, else
 *       b as it is: the fine label may be out of range), a pattern length k (b % 17) and k bytes that
 *       tile the 3072 pixels;</li>
 *   <li>the names file: a line count (b % 110), then per line a length (b % 12) and that many bytes.</li>
 * </ol>
 * What is expected follows from what was written: a folder of whole records with labels in range
 * and no two files of one batch number, present for the split asked for, opens, and the dataset gives back exactly those records, in batch-number order, with their labels,
 * pixels (planes interleaved to RGB) and class names of one line each; any other folder fails with our
 * own one-line error.
 */
class CifarRecordsFuzzTest {

    private static final int PIXELS = 3072;
    private static final int PLANE = 1024;

    @TempDir
    static Path dir;

    /** One file to write: its name and records, and bytes that follow the last record. */
    private record BatchFile(String name, int number, List<Example> examples, byte[] extra) {
        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Example e : examples) out.writeBytes(e.record());
            out.writeBytes(extra);
            return out.toByteArray();
        }
    }

    /** One record: the label byte(s) as written (the fine label last) and the 3072 pixel bytes, plane by plane. */
    private record Example(byte[] labels, byte[] planes) {
        int fineLabel() {
            return labels[labels.length - 1] & 0xFF;
        }

        byte[] record() {
            byte[] r = new byte[labels.length + PIXELS];
            System.arraycopy(labels, 0, r, 0, labels.length);
            System.arraycopy(planes, 0, r, labels.length, PIXELS);
            return r;
        }

        /** The pixels as the reader must give them: RGB interleaved, 0..255. */
        float[] rgb() {
            float[] px = new float[PIXELS];
            for (int i = 0; i < PLANE; i++) {
                for (int c = 0; c < 3; c++) px[3 * i + c] = planes[c * PLANE + i] & 0xFF;
            }
            return px;
        }
    }

    /** The input as a stream of bytes that reads 0 past its end, so every input builds a folder. */
    private static final class Bytes {
        private final byte[] input;
        private int at;

        Bytes(byte[] input) {
            this.input = input;
        }

        int next() {
            return at < input.length ? input[at++] & 0xFF : 0;
        }

        byte[] next(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) b[i] = (byte) next();
            return b;
        }
    }

    @FuzzTest
    void records(byte[] input) throws IOException {
        clear(dir);
        Bytes in = new Bytes(input);
        int flags = in.next();
        boolean cifar100 = (flags & 1) != 0;
        Split split = (flags & 2) != 0 ? Split.TRAIN : Split.TEST;
        boolean namesFile = (flags & 4) != 0;
        boolean otherSplitToo = (flags & 8) != 0;
        boolean splitMissing = (flags & 16) != 0;
        int labelBytes = cifar100 ? 2 : 1;
        int classes = cifar100 ? 100 : 10;

        List<BatchFile> read = new ArrayList<>();
        if (cifar100) {
            read.add(batchFile(in, split == Split.TRAIN ? "train.bin" : "test.bin", 0, labelBytes, classes));
        } else if (split == Split.TEST) {
            read.add(batchFile(in, "test_batch.bin", 0, labelBytes, classes));
        } else {
            // A later file of the same name replaces an earlier one, as on disk.
            TreeMap<String, BatchFile> byName = new TreeMap<>();
            for (int files = 1 + in.next() % 3; files > 0; files--) {
                int number = in.next();
                String name = "data_batch_" + ((number & 0x80) != 0 ? "0" : "") + number % 8 + ".bin";
                byName.put(name, batchFile(in, name, number % 8, labelBytes, classes));
            }
            read.addAll(byName.values());
            read.sort(Comparator.comparingInt(BatchFile::number).thenComparing(BatchFile::name));
        }
        if (!splitMissing) {
            for (BatchFile f : read) FuzzSupport.write(dir, f.name(), f.bytes());
        }
        if (otherSplitToo) {
            String other = cifar100 ? (split == Split.TRAIN ? "test.bin" : "train.bin")
                    : (split == Split.TRAIN ? "test_batch.bin" : "data_batch_1.bin");
            FuzzSupport.write(dir, other, batchFile(in, other, 1, labelBytes, classes).bytes());
        }
        if (namesFile) {
            ByteArrayOutputStream names = new ByteArrayOutputStream();
            for (int lines = in.next() % 110; lines > 0; lines--) {
                names.writeBytes(in.next(in.next() % 12));
                names.write('\n');
            }
            FuzzSupport.write(dir, cifar100 ? "fine_label_names.txt" : "batches.meta.txt", names.toByteArray());
        }

        boolean valid = !splitMissing && read.stream().map(BatchFile::number).distinct().count() == read.size()
                && read.stream().allMatch(f -> !f.examples().isEmpty() && f.extra().length == 0
                        && f.examples().stream().allMatch(e -> e.fineLabel() < classes));
        boolean[] opened = {false};
        FuzzSupport.expectOwnErrors(input.length, 8, () -> {
            CifarDataset d = CifarDataset.open(dir, split);
            assertTrue(valid, "an invalid folder opened: " + d);
            assertHoldsExactly(read, classes, d);
            opened[0] = true;
        });
        assertEquals(valid, opened[0], "the folder opens exactly when it is valid (see the class comment)");
    }

    /** The dataset holds exactly the records written, in file order, and one-line class names. */
    private static void assertHoldsExactly(List<BatchFile> read, int classes, CifarDataset d) {
        assertEquals(read.stream().map(f -> dir.resolve(f.name())).toList(), d.files());
        assertEquals(classes, d.classes().size());
        for (String name : d.classes()) {
            assertFalse(name.isBlank() || name.contains("\n") || name.contains("\r"), "class name '" + name + "'");
        }
        int index = 0;
        for (BatchFile f : read) {
            for (Example e : f.examples()) {
                assertEquals(e.fineLabel(), d.label(index));
                assertArrayEquals(e.rgb(), d.image(index).pixels());
                index++;
            }
        }
        assertEquals(index, d.size());
    }

    private static BatchFile batchFile(Bytes in, String name, int number, int labelBytes, int classes) {
        int count = in.next() % 5;
        int extra = in.next();
        List<Example> examples = new ArrayList<>();
        for (int r = 0; r < count; r++) {
            byte[] labels = new byte[labelBytes];
            for (int i = 0; i < labelBytes; i++) {
                int b = in.next();
                labels[i] = (byte) (b < 240 ? b % classes : b);
            }
            byte[] pattern = in.next(in.next() % 17);
            byte[] planes = new byte[PIXELS];
            for (int i = 0; pattern.length > 0 && i < PIXELS; i++) planes[i] = pattern[i % pattern.length];
            examples.add(new Example(labels, planes));
        }
        return new BatchFile(name, number, examples, new byte[extra >= 240 ? extra - 239 : 0]);
    }

    private static void clear(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.toList()) Files.delete(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
