package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.Map;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.torch.TorchStateDict;
import org.bitengine.io.torch.TorchTensorHeader;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch {@code .pth}: the zip, the pickle VM, the storages and the strided views. */
class TorchFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void pth(byte[] input) {
        Path file = FuzzSupport.write(dir, "a.pth", input);
        FuzzSupport.expectOwnErrors(input.length, 2 * 1032, () -> {
            Map<String, TorchTensorHeader> headers = TorchStateDict.headers(file);
            Map<String, NpyArray> tensors = TorchStateDict.read(file);
            assertEquals(headers.keySet(), tensors.keySet());
            for (Map.Entry<String, NpyArray> e : tensors.entrySet()) {
                assertArrayEquals(headers.get(e.getKey()).shape(), e.getValue().shape());
            }
        });
    }
}
