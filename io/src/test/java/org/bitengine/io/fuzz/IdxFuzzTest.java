package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.bitengine.io.data.IdxDataset;
import org.junit.jupiter.api.io.TempDir;

/**
 * MNIST idx files: the input as an image file (plain, and gzipped, where sizes are only claims until
 * the data arrives) beside a label file that matches its count, then as a label file.
 */
class IdxFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void idx(byte[] input) {
        int n = claimedCount(input);
        Path labelsFor = FuzzSupport.write(dir, "train-labels-idx1-ubyte", labels(n));
        Path images = FuzzSupport.write(dir, "train-images-idx3-ubyte", input);
        FuzzSupport.expectOwnErrors(input.length, 8, () -> use(IdxDataset.open(images, labelsFor)));
        Path gz = FuzzSupport.write(dir, "train-images-idx3-ubyte.gz", gzip(input));
        FuzzSupport.expectOwnErrors(input.length, 8, () -> use(IdxDataset.open(gz, labelsFor)));

        Path labels = FuzzSupport.write(dir, "t10k-labels-idx1-ubyte", input);
        Path imagesFor = FuzzSupport.write(dir, "t10k-images-idx3-ubyte", images(n));
        FuzzSupport.expectOwnErrors(input.length, 8, () -> use(IdxDataset.open(imagesFor, labels)));
    }

    /** Reads the first and last example, as training would. */
    private static void use(IdxDataset d) {
        int[] size = d.nominalSize();
        assertEquals(size[0] * size[1] * 3, d.image(0).pixels().length); // grey replicated to RGB
        d.image(d.size() - 1);
        d.label(d.size() - 1);
    }

    /** The count in the input's header when it is small enough to build a partner file for, else 1. */
    private static int claimedCount(byte[] input) {
        if (input.length < 8) {
            return 1;
        }
        int n = ByteBuffer.wrap(input, 4, 4).getInt();
        return n >= 1 && n <= 4096 ? n : 1;
    }

    private static byte[] labels(int n) {
        ByteBuffer b = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        return b.array();
    }

    private static byte[] images(int n) {
        ByteBuffer b = ByteBuffer.allocate(16 + n).putInt(0x803).putInt(n).putInt(1).putInt(1);
        return b.array();
    }

    private static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
