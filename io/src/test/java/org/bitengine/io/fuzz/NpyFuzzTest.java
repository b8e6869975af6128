package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import org.bitengine.io.npy.Npy;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyHeader;
import org.junit.jupiter.api.io.TempDir;

/** {@code .npy}: the file reader, the header-only reader and the stream reader on the same bytes. */
class NpyFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void npy(byte[] input) {
        Path file = FuzzSupport.write(dir, "a.npy", input);
        FuzzSupport.expectOwnErrors(input.length, 4, () -> {
            NpyHeader h = Npy.readHeader(file);
            NpyArray a = Npy.read(file);
            // What the header promised is what the data holds.
            assertEquals(h.dataLength(), a.byteSize());
            assertEquals(h.dataOffset() + h.dataLength(), input.length);
        });
        FuzzSupport.expectOwnErrors(input.length, 4, () -> Npy.read(new ByteArrayInputStream(input), "stream"));
    }
}
