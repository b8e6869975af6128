package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The op-by-op parity suite ({@link CudaOpsParity}) on the real GPU, TF32 off; plus TF32's tolerance
 * for convolution and GEMM, and the batch uploader overlapping copies with steps. Skipped, with the
 * reason, where no GPU can be opened.
 */
class CudaBackendParityTest extends CudaOpsParity {

    @Override
    CudaBackend backend() {
        return Gpu.exact();
    }

    /** TF32 keeps a 10-bit mantissa in the products: about 1e-3 relative, with float32 accumulation. */
    @Test
    void convolutionAndMatmulWithTf32StayWithinTf32Tolerance() {
        CudaBackend g = Gpu.tf32();
        Random r = new Random(2);
        Tensor x = random(r, -1, 1, 2, 16, 16, 64), w = random(r, -0.5, 0.5, 3, 3, 64, 64);
        assertClose("3x3 conv TF32", CPU.conv2d(x, w, ConvSpec.of(1, 1)), g.conv2d(gpu(g, x), gpu(g, w), ConvSpec.of(1, 1)), 1e-2);
        Tensor a = random(r, -1, 1, 64, 512), b = random(r, -1, 1, 512, 100);
        assertClose("matmul TF32", CPU.matmul(a, b, false, false), g.matmul(gpu(g, a), gpu(g, b), false, false), 1e-2);
    }

    @Test
    void batchUploaderDeliversBatchesInOrderWhileStepsRun() {
        CudaBackend g = Gpu.exact();
        Shape images = Shape.of(4, 8, 8, 3);
        try (BatchUploader up = g.batchUploader(images, 4)) {
            up.submit(pattern(images.size(), 0), new int[] {0, 1, 2, 3});
            for (int step = 0; step < 5; step++) {
                BatchUploader.Batch b = up.take();
                up.submit(pattern(images.size(), step + 1), new int[] {step + 1, 0, 0, 0});
                // A step that reads the batch after the next copy was queued.
                Tensor sum = g.sum(g.scale(b.images(), 1));
                double expected = 0;
                for (float v : pattern(images.size(), step)) expected += v;
                assertEquals(expected, sum.item(), 1e-3 * Math.abs(expected), "batch " + step);
                assertEquals(step, (int) b.labels().toDoubleArray()[0], "labels of batch " + step);
            }
        }
    }

    private static float[] pattern(int n, int batch) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i % 7) * 0.25f + batch;
        return a;
    }
}
