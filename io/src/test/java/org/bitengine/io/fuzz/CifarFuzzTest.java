package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bitengine.io.data.CifarDataset;
import org.bitengine.io.data.Split;
import org.junit.jupiter.api.io.TempDir;

/** CIFAR binary batches: the input as CIFAR-10's test_batch.bin and as CIFAR-100's test.bin. */
class CifarFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void cifar(byte[] input) throws IOException {
        Path c10 = Files.createDirectories(dir.resolve("cifar10"));
        Path c100 = Files.createDirectories(dir.resolve("cifar100"));
        FuzzSupport.write(c10, "test_batch.bin", input);
        FuzzSupport.write(c100, "test.bin", input);
        FuzzSupport.expectOwnErrors(input.length, 8, () -> use(CifarDataset.open(c10, Split.TEST)));
        FuzzSupport.expectOwnErrors(input.length, 8, () -> use(CifarDataset.open(c100, Split.TEST)));
    }

    private static void use(CifarDataset d) {
        assertEquals(32 * 32 * 3, d.image(d.size() - 1).pixels().length);
        d.label(0);
    }
}
