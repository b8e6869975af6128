package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * What the fake GPU ({@link FakeGpu}) shows beyond op parity ({@link FakeGpuParityTest}): the backend
 * opens over the stand-in libraries, kernels go through the driver's launch call, misuse is reported
 * in one line, the batch uploader delivers what was submitted, and out-of-memory names the bytes.
 * Skipped where the fake cannot be built.
 */
class FakeGpuTest {

    @Test
    void theBackendOpensOverTheFakeLibraries() {
        String d = FakeGpu.backend().describe();
        assertTrue(d.startsWith("cuda:0 (Fake GPU), driver CUDA 13.0"), d);
        assertTrue(d.contains("cuDNN 91000"), d);
        assertTrue(d.endsWith("TF32 off"), d);
    }

    @Test
    void kernelsAreLaunchedThroughTheDriver() {
        CudaBackend fake = FakeGpu.backend();
        int before = FakeGpu.launches();
        Tensor x = fake.fromHost(new float[] {1, -1, 2}, Shape.of(3));
        assertArrayEquals(new float[] {1, 0, 2}, fake.relu(x).toFloatArray());
        assertEquals(2, fake.sum(x).item());
        assertEquals(before + 3, FakeGpu.launches(), "relu 1, sum 2");
        BitEngineException e = assertThrows(BitEngineException.class, () -> fake.relu(fake.fromHost(new double[] {1}, Shape.of(1))));
        assertTrue(e.getMessage().startsWith("the CUDA backend computes relu in float32 only, got a F64 tensor"), e.getMessage());
        IllegalArgumentException wrongBackend = assertThrows(IllegalArgumentException.class, () -> fake.relu(Tensor.of(new float[] {1}, 1)));
        assertTrue(wrongBackend.getMessage().contains("Devices.to"), wrongBackend.getMessage());
    }

    @Test
    void batchUploaderDeliversWhatWasSubmitted() {
        CudaBackend fake = FakeGpu.backend();
        Shape images = Shape.of(2, 3, 3, 1);
        try (BatchUploader up = fake.batchUploader(images, 2)) {
            up.submit(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, new int[] {4, 2});
            for (int step = 0; step < 4; step++) {
                BatchUploader.Batch b = up.take();
                float[] next = new float[18];
                java.util.Arrays.fill(next, step + 1);
                up.submit(next, new int[] {step + 1, step + 1});
                assertEquals(step == 0 ? 17f : step, b.images().toFloatArray()[17], "batch " + step);
                assertEquals(step == 0 ? 4 : step, (int) b.labels().toDoubleArray()[0], "labels of batch " + step);
            }
            assertThrows(IllegalStateException.class, () -> {
                up.submit(new float[18], new int[2]);
                up.submit(new float[18], new int[2]);
            }, "a third batch before a take");
        }
    }

    @Test
    void outOfMemoryIsOneLineWithTheBytesAskedFor() {
        CudaBackend fake = FakeGpu.backend();
        BitEngineException e = assertThrows(BitEngineException.class, () -> fake.zeros(DType.F32, Shape.of(300_000_000)));
        String m = e.getMessage();
        assertTrue(m.startsWith("CUDA out of memory on cuda:0 (Fake GPU): asked for 1200000000 bytes (1144 MiB)"), m);
        assertTrue(m.endsWith("use a smaller batch or --batch-split"), m);
        assertFalse(m.contains("\n"), m);
    }
}
