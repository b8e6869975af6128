package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.bitengine.engine.backend.Backend.BatchNormGrads;
import org.bitengine.engine.backend.Backend.BatchNormResult;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The EfficientNet primitives (BatchNorm, sigmoid, swish, channel scaling): float32 fast paths against
 * the float64 reference, their independence of the thread count, and hand-computed BatchNorm values.
 */
@ExtendWith(RestoreThreads.class)
class BatchNormActivationF32Test {

    private static final CpuBackend BE = CpuBackend.get();

    private static Tensor random(Random r, double lo, double hi, int... dims) {
        float[] a = new float[Shape.of(dims).size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return BE.wrap(a, Shape.of(dims));
    }

    private static Tensor f64(Tensor t) {
        return BE.cast(t, DType.F64);
    }

    /** max |got − ref| ≤ rel · max |ref| (1e-9 absolute for all-zero references); got must be float32. */
    private static void assertRel(Tensor ref, Tensor got, double rel, String what) {
        assertEquals(DType.F64, ref.dtype(), what + ": reference dtype");
        assertEquals(DType.F32, got.dtype(), what + ": the fast path must return float32");
        assertEquals(ref.shape(), got.shape(), what + ": shape");
        double[] r = ref.toDoubleArray();
        float[] g = got.toFloatArray();
        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < r.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(r[i]));
            maxErr = Math.max(maxErr, Math.abs(g[i] - r[i]));
        }
        assertTrue(maxErr <= Math.max(rel * maxRef, 1e-9), what + ": max error " + maxErr + " vs max |ref| " + maxRef);
    }

    // ---- float32 against the reference --------------------------------------------------------------

    @Test
    void batchNormTrainMatchesReference() {
        Random r = new Random(1);
        // 4·9·10 = 360 rows: several blocks of 64, a partial last one; a mean far from zero tests the shift.
        for (int[] dims : new int[][] {{4, 9, 10, 12}, {8, 3}, {2, 7, 7, 33}}) {
            int c = dims[dims.length - 1];
            Tensor x = random(r, 4, 6, dims), gamma = random(r, 0.5, 1.5, c), beta = random(r, -1, 1, c);
            Tensor dy = random(r, -1, 1, dims);
            BatchNormResult f = BE.batchNorm(x, gamma, beta, 1e-3);
            BatchNormResult d = BE.batchNorm(f64(x), f64(gamma), f64(beta), 1e-3);
            assertRel(d.y(), f.y(), 2e-6, "y");
            assertRel(d.mean(), f.mean(), 1e-6, "mean");
            assertRel(d.rstd(), f.rstd(), 1e-5, "rstd");
            assertRel(d.unbiasedVar(), f.unbiasedVar(), 1e-5, "unbiased var");
            BatchNormGrads gf = BE.batchNormBackward(dy, x, gamma, f.mean(), f.rstd());
            BatchNormGrads gd = BE.batchNormBackward(f64(dy), f64(x), f64(gamma), d.mean(), d.rstd());
            assertRel(gd.dx(), gf.dx(), 1e-4, "dx");
            assertRel(gd.dgamma(), gf.dgamma(), 1e-4, "dgamma");
            assertRel(gd.dbeta(), gf.dbeta(), 1e-5, "dbeta");
        }
    }

    @Test
    void batchNormInferenceMatchesReference() {
        Random r = new Random(2);
        int[] dims = {3, 5, 6, 20};
        Tensor x = random(r, -2, 2, dims), gamma = random(r, 0.5, 1.5, 20), beta = random(r, -1, 1, 20);
        Tensor rm = random(r, -0.5, 0.5, 20), rv = random(r, 0.2, 2, 20), dy = random(r, -1, 1, dims);
        assertRel(BE.batchNormInference(f64(x), f64(gamma), f64(beta), f64(rm), f64(rv), 1e-3),
                BE.batchNormInference(x, gamma, beta, rm, rv, 1e-3), 1e-6, "y");
        BatchNormGrads gf = BE.batchNormInferenceBackward(dy, x, gamma, rm, rv, 1e-3);
        BatchNormGrads gd = BE.batchNormInferenceBackward(f64(dy), f64(x), f64(gamma), f64(rm), f64(rv), 1e-3);
        assertRel(gd.dx(), gf.dx(), 1e-6, "dx");
        assertRel(gd.dgamma(), gf.dgamma(), 1e-5, "dgamma");
        assertRel(gd.dbeta(), gf.dbeta(), 1e-5, "dbeta");
    }

    @Test
    void activationsMatchReference() {
        Random r = new Random(3);
        Tensor x = random(r, -12, 12, 70_001);
        float[] xv = x.toFloatArray();
        xv[0] = -100f;
        xv[1] = 100f;
        xv[2] = 0f;
        x = BE.wrap(xv, x.shape());
        Tensor dy = random(r, -1, 1, 70_001);
        Tensor s = BE.sigmoid(x);
        assertRel(BE.sigmoid(f64(x)), s, 1e-7, "sigmoid");
        assertRel(BE.sigmoidBackward(f64(s), f64(dy)), BE.sigmoidBackward(s, dy), 1e-7, "sigmoid backward");
        assertRel(BE.swish(f64(x)), BE.swish(x), 1e-7, "swish");
        assertRel(BE.swishBackward(f64(x), f64(dy)), BE.swishBackward(x, dy), 1e-7, "swish backward");
        float[] sv = s.toFloatArray();
        assertEquals(0f, sv[0], 1e-40f);
        assertEquals(1f, sv[1]);
        assertEquals(0.5f, sv[2]);
    }

    @Test
    void scaleChannelsMatchesReference() {
        Random r = new Random(4);
        Tensor x = random(r, -1, 1, 3, 7, 9, 40), s = random(r, 0, 1, 3, 40), dy = random(r, -1, 1, 3, 7, 9, 40);
        assertRel(BE.scaleChannels(f64(x), f64(s)), BE.scaleChannels(x, s), 1e-7, "scaleChannels");
        assertRel(BE.scaleChannelsBackwardScale(f64(dy), f64(x), s.shape()), BE.scaleChannelsBackwardScale(dy, x, s.shape()), 1e-5, "ds");
        assertThrows(IllegalArgumentException.class, () -> BE.scaleChannels(x, random(r, 0, 1, 40)));
    }

    @Test
    void fastPathsDoNotDependOnTheThreadCount() {
        Random r = new Random(5);
        int[] dims = {6, 16, 16, 24};
        Tensor x = random(r, -2, 2, dims), gamma = random(r, 0.5, 1.5, 24), beta = random(r, -1, 1, 24), dy = random(r, -1, 1, dims);
        Tensor s = random(r, 0, 1, 6, 24);
        float[][] one = run(1, x, gamma, beta, dy, s);
        float[][] many = run(4, x, gamma, beta, dy, s);
        for (int i = 0; i < one.length; i++) assertArrayEquals(one[i], many[i], "output " + i);
    }

    private static float[][] run(int threads, Tensor x, Tensor gamma, Tensor beta, Tensor dy, Tensor s) {
        CpuParallel.setThreads(threads);
        BatchNormResult f = BE.batchNorm(x, gamma, beta, 1e-5);
        BatchNormGrads g = BE.batchNormBackward(dy, x, gamma, f.mean(), f.rstd());
        return new float[][] {f.y().toFloatArray(), f.mean().toFloatArray(), f.unbiasedVar().toFloatArray(),
            g.dx().toFloatArray(), g.dgamma().toFloatArray(), BE.swish(x).toFloatArray(),
            BE.scaleChannelsBackwardScale(dy, x, s.shape()).toFloatArray()};
    }

    // ---- hand-computed BatchNorm ----------------------------------------------------------------------

    /**
     * x [2,1,2,2]: channel 0 holds 1, 2, 3, 6 (mean 3, biased variance 3.5, unbiased 14/3), channel 1
     * holds 5 four times (variance 0). eps 0.5 makes channel 0's rstd exactly 0.5.
     */
    private static Tensor handX(DType dtype) {
        return BE.cast(BE.fromHost(new double[] {1, 5, 2, 5, 3, 5, 6, 5}, Shape.of(2, 1, 2, 2)), dtype);
    }

    private static Tensor vec(DType dtype, double... v) {
        return BE.cast(BE.fromHost(v, Shape.of(v.length)), dtype);
    }

    @Test
    void batchNormTrainByHand() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            BatchNormResult r = BE.batchNorm(handX(dt), vec(dt, 2, 3), vec(dt, 1, -1), 0.5);
            // channel 0: (x − 3)·0.5·2 + 1; channel 1: 0·… − 1.
            assertArrayEquals(new double[] {-1, -1, 0, -1, 1, -1, 4, -1}, r.y().toDoubleArray(), 1e-6, dt + " y");
            assertArrayEquals(new double[] {3, 5}, r.mean().toDoubleArray(), 1e-6, dt + " mean");
            assertArrayEquals(new double[] {0.5, 1 / Math.sqrt(0.5)}, r.rstd().toDoubleArray(), 1e-6, dt + " rstd");
            assertArrayEquals(new double[] {14.0 / 3, 0}, r.unbiasedVar().toDoubleArray(), 1e-6, dt + " unbiased var");
            // dy = 1 at channel 0 of the first row: x̂ = −1, −0.5, 0, 1.5; Σdy = 1, Σdy·x̂ = −1;
            // dx = rstd·γ·(dy − 1/4 − x̂·(−1)/4) = dy − 0.25 + 0.25·x̂.
            Tensor dy = BE.cast(BE.fromHost(new double[] {1, 0, 0, 0, 0, 0, 0, 0}, Shape.of(2, 1, 2, 2)), dt);
            BatchNormGrads g = BE.batchNormBackward(dy, handX(dt), vec(dt, 2, 3), r.mean(), r.rstd());
            assertArrayEquals(new double[] {0.5, 0, -0.375, 0, -0.25, 0, 0.125, 0}, g.dx().toDoubleArray(), 1e-6, dt + " dx");
            assertArrayEquals(new double[] {-1, 0}, g.dgamma().toDoubleArray(), 1e-6, dt + " dgamma");
            assertArrayEquals(new double[] {1, 0}, g.dbeta().toDoubleArray(), 1e-6, dt + " dbeta");
        }
    }

    @Test
    void batchNormInferenceByHand() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            // running mean {1, 5}, var {3, 3}, eps 1 → divide by 2; γ {2, 1}, β {1, 0}: channel 0 becomes x.
            Tensor y = BE.batchNormInference(handX(dt), vec(dt, 2, 1), vec(dt, 1, 0), vec(dt, 1, 5), vec(dt, 3, 3), 1.0);
            assertArrayEquals(new double[] {1, 0, 2, 0, 3, 0, 6, 0}, y.toDoubleArray(), 1e-6, dt + " y");
            Tensor ones = BE.full(dt, Shape.of(2, 1, 2, 2), 1);
            BatchNormGrads g = BE.batchNormInferenceBackward(ones, handX(dt), vec(dt, 2, 1), vec(dt, 1, 5), vec(dt, 3, 3), 1.0);
            assertArrayEquals(new double[] {1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5}, g.dx().toDoubleArray(), 1e-6, dt + " dx");
            assertArrayEquals(new double[] {(0 + 1 + 2 + 5) / 2.0, 0}, g.dgamma().toDoubleArray(), 1e-6, dt + " dgamma");
            assertArrayEquals(new double[] {4, 4}, g.dbeta().toDoubleArray(), 1e-6, dt + " dbeta");
        }
    }

    @Test
    void runningStatUpdateIsPyTorchsConvention() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            Tensor mean = vec(dt, 0, 0), var = vec(dt, 1, 1);
            BatchNormResult r = BE.batchNorm(handX(dt), vec(dt, 1, 1), vec(dt, 0, 0), 0.5);
            BE.runningStatUpdateInPlace(mean, r.mean(), 0.1);
            BE.runningStatUpdateInPlace(var, r.unbiasedVar(), 0.1);
            assertArrayEquals(new double[] {0.3, 0.5}, mean.toDoubleArray(), 1e-6, dt + " running mean");
            assertArrayEquals(new double[] {0.9 + 0.1 * 14 / 3, 0.9}, var.toDoubleArray(), 1e-6, dt + " running var");
            // Keras momentum 0.99 ≡ PyTorch momentum 0.01.
            BE.runningStatUpdateInPlace(mean, vec(dt, 1.3, 0.5), 1 - 0.99);
            assertArrayEquals(new double[] {0.31, 0.5}, mean.toDoubleArray(), 1e-6, dt + " keras momentum");
        }
    }
}
