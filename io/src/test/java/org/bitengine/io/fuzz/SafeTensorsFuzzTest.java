package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.Map;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.safetensors.SafeTensorHeader;
import org.bitengine.io.safetensors.SafeTensors;
import org.junit.jupiter.api.io.TempDir;

/** safetensors: the length prefix, the JSON header, offsets, dtypes and the data. */
class SafeTensorsFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void safetensors(byte[] input) {
        Path file = FuzzSupport.write(dir, "a.safetensors", input);
        // F16/BF16 become float32 (2x); the JSON header's maps and lists cost more per byte.
        FuzzSupport.expectOwnErrors(input.length, 256, () -> {
            Map<String, SafeTensorHeader> headers = SafeTensors.headers(file);
            SafeTensors.metadata(file);
            Map<String, NpyArray> tensors = SafeTensors.read(file);
            assertEquals(headers.keySet(), tensors.keySet());
            for (Map.Entry<String, NpyArray> e : tensors.entrySet()) {
                assertArrayEquals(headers.get(e.getKey()).shape(), e.getValue().shape());
            }
        });
    }
}
