package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.bitengine.engine.backend.Backend.GroupNormGrads;
import org.bitengine.engine.backend.Backend.GroupNormResult;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fused GroupNorm → ReLU kernels of {@link GroupNormF32} against GroupNorm then ReLU through the
 * backend: bit-identical to the unfused float32 ops (same arithmetic), close to the float64 reference,
 * exact about the ReLU mask when gradients are not finite, and independent of the thread count.
 */
@ExtendWith(RestoreThreads.class)
class GroupNormReluF32Test {

    private static final CpuBackend BE = CpuBackend.get();
    private static final double EPS = 1e-5;

    private record Fused(float[] y, float[] mean, float[] rstd, float[] dx, float[] dgamma, float[] dbeta) {}

    private static Fused fused(float[] x, float[] dy, int[] dims, int groups, float[] gamma, float[] beta) {
        int n = dims[0], c = dims[dims.length - 1], s = x.length / (n * c);
        float[] y = new float[x.length], mean = new float[n * groups], rstd = new float[n * groups];
        GroupNormF32.forwardRelu(x, n, s, c, groups, gamma, beta, EPS, y, mean, rstd);
        float[] dx = new float[x.length], dgamma = new float[c], dbeta = new float[c];
        GroupNormF32.backwardRelu(dy, x, y, n, s, c, groups, gamma, mean, rstd, dx, dgamma, dbeta);
        return new Fused(y, mean, rstd, dx, dgamma, dbeta);
    }

    private static float[] random(Random r, int size, double lo, double hi) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    /** Equal as numbers (−0 == +0), NaN matching NaN. */
    private static void assertSameValues(float[] expected, float[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (!(expected[i] == got[i] || (Float.isNaN(expected[i]) && Float.isNaN(got[i])))) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + expected[i]);
            }
        }
    }

    private static void assertClose(double[] ref, float[] got, double rel, String what) {
        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
        }
        assertTrue(maxErr <= Math.max(rel * maxRef, 1e-9), what + ": max error " + maxErr + " vs max |ref| " + maxRef);
    }

    private static final int[][] SHAPES = {{2, 7, 9, 64}, {3, 5, 5, 12}, {4, 16, 16, 256}, {1, 1, 1, 32}, {2, 10, 8}};
    private static final int[] GROUPS = {32, 3, 32, 32, 4};

    /** Checks one case against GroupNorm then ReLU through the backend, in float32 and in float64. */
    private static void checkCase(int[] dims, int groups, float[] x, float[] dy, float[] gamma, float[] beta, String what) {
        Shape shape = Shape.of(dims);
        int c = dims[dims.length - 1];
        Fused f = fused(x, dy, dims, groups, gamma, beta);
        Tensor tx = BE.wrap(x, shape), tdy = BE.wrap(dy, shape), tg = BE.wrap(gamma, Shape.of(c)), tb = BE.wrap(beta, Shape.of(c));

        GroupNormResult gn = BE.groupNorm(tx, tg, tb, groups, EPS);
        Tensor y = BE.relu(gn.y());
        GroupNormGrads g = BE.groupNormBackward(BE.reluBackward(gn.y(), tdy), tx, tg, gn.mean(), gn.rstd(), groups);
        assertSameValues(y.toFloatArray(), f.y(), what + " y vs GN then ReLU (float32)");
        assertArrayEquals(gn.mean().toFloatArray(), f.mean(), what + " mean");
        assertArrayEquals(gn.rstd().toFloatArray(), f.rstd(), what + " rstd");
        assertSameValues(g.dx().toFloatArray(), f.dx(), what + " dx vs unfused (float32)");
        assertSameValues(g.dgamma().toFloatArray(), f.dgamma(), what + " dgamma vs unfused (float32)");
        assertSameValues(g.dbeta().toFloatArray(), f.dbeta(), what + " dbeta vs unfused (float32)");

        Tensor x64 = BE.cast(tx, DType.F64), dy64 = BE.cast(tdy, DType.F64), g64 = BE.cast(tg, DType.F64);
        GroupNormResult gn64 = BE.groupNorm(x64, g64, BE.cast(tb, DType.F64), groups, EPS);
        assertClose(BE.relu(gn64.y()).toDoubleArray(), f.y(), 1e-5, what + " y vs float64 reference");
        // The float64 backward from the same float32 statistics and mask, as the fused op would record them.
        Tensor m32 = BE.wrap(f.mean(), gn.mean().shape()), r32 = BE.wrap(f.rstd(), gn.rstd().shape());
        GroupNormGrads g64s = BE.groupNormBackward(BE.reluBackward(BE.cast(y, DType.F64), dy64), x64, g64,
                BE.cast(m32, DType.F64), BE.cast(r32, DType.F64), groups);
        assertClose(g64s.dx().toDoubleArray(), f.dx(), 1e-5, what + " dx vs float64 reference");
        assertClose(g64s.dgamma().toDoubleArray(), f.dgamma(), 1e-5, what + " dgamma vs float64 reference");
        assertClose(g64s.dbeta().toDoubleArray(), f.dbeta(), 1e-5, what + " dbeta vs float64 reference");
    }

    @Test
    void fusedMatchesGroupNormThenRelu() {
        Random r = new Random(21);
        for (int i = 0; i < SHAPES.length; i++) {
            int[] dims = SHAPES[i];
            int size = Shape.of(dims).size(), c = dims[dims.length - 1];
            float[] x = random(r, size, -2, 2), dy = random(r, size, -1, 1);
            checkCase(dims, GROUPS[i], x, dy, random(r, c, 0.5, 1.5), random(r, c, -0.5, 0.5), "GN+ReLU " + Shape.of(dims));
        }
    }

    /** Infinite and NaN gradients behind inactive units are dropped, exactly as ReLU's backward drops them. */
    @Test
    void nonFiniteGradientsBehindInactiveUnitsAreDropped() {
        Random r = new Random(22);
        int[] dims = {2, 6, 6, 64};
        int size = Shape.of(dims).size(), c = 64;
        float[] x = random(r, size, -2, 2), dy = random(r, size, -1, 1), gamma = random(r, c, 0.5, 1.5), beta = random(r, c, -0.5, 0.5);
        Fused clean = fused(x, dy, dims, 32, gamma, beta);
        int poisoned = 0;
        for (int i = 0; i < size && poisoned < 20; i += 37) {
            if (clean.y()[i] <= 0) {
                dy[i] = poisoned % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
                poisoned++;
            }
        }
        assertTrue(poisoned > 0);
        Fused f = fused(x, dy, dims, 32, gamma, beta);
        assertArrayEquals(clean.dx(), f.dx(), "dx unchanged by gradients the ReLU blocks");
        assertArrayEquals(clean.dgamma(), f.dgamma());
        assertArrayEquals(clean.dbeta(), f.dbeta());
        checkCase(dims, 32, x, dy, gamma, beta, "GN+ReLU with non-finite dy");
    }

    @Test
    void fusedIsThreadIndependent() {
        Random r = new Random(23);
        int[] dims = {4, 16, 16, 256};
        int size = Shape.of(dims).size();
        float[] x = random(r, size, -2, 2), dy = random(r, size, -1, 1), gamma = random(r, 256, 0.5, 1.5), beta = random(r, 256, -0.5, 0.5);
        CpuParallel.setThreads(1);
        Fused one = fused(x, dy, dims, 32, gamma, beta);
        for (int t : new int[] {2, 3}) {
            CpuParallel.setThreads(t);
            Fused many = fused(x, dy, dims, 32, gamma, beta);
            assertArrayEquals(one.y(), many.y(), "y, " + t + " threads");
            assertArrayEquals(one.mean(), many.mean());
            assertArrayEquals(one.rstd(), many.rstd());
            assertArrayEquals(one.dx(), many.dx(), "dx, " + t + " threads");
            assertArrayEquals(one.dgamma(), many.dgamma());
            assertArrayEquals(one.dbeta(), many.dbeta());
        }
    }
}
