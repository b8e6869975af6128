package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyHeader;
import org.bitengine.io.npy.NpzReader;
import org.junit.jupiter.api.io.TempDir;

/** {@code .npz}: the zip directory, then every entry's header and data. */
class NpzFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void npz(byte[] input) {
        Path file = FuzzSupport.write(dir, "a.npz", input);
        // Deflate expands at most 1032:1, so that is what an entry can back per byte of the file.
        FuzzSupport.expectOwnErrors(input.length, 2 * 1032, () -> {
            try (NpzReader r = NpzReader.open(file)) {
                for (String key : r.keys()) {
                    NpyHeader h = r.header(key);
                    NpyArray a = r.read(key);
                    assertEquals(h.dtype(), a.dtype());
                    assertArrayEquals(h.shape(), a.shape());
                }
            }
        });
    }
}
