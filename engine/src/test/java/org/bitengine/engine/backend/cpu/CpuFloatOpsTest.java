package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Supplier;

import org.bitengine.engine.backend.Backend.GroupNormGrads;
import org.bitengine.engine.backend.Backend.GroupNormResult;
import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The float32 fast paths of {@link CpuBackend} against the same backend op on the inputs cast to float64
 * (the plain reference), on random data at BiT's shapes and odd ones, and the fast paths' independence of
 * the thread count.
 */
@ExtendWith(RestoreThreads.class)
class CpuFloatOpsTest {

    private static final CpuBackend BE = CpuBackend.get();
    private static final double GN_EPS = 1e-5, WS_EPS = 1e-10;

    // ---- helpers -------------------------------------------------------------------------------------

    private static Tensor random(Random r, double lo, double hi, int... dims) {
        float[] a = new float[Shape.of(dims).size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return BE.wrap(a, Shape.of(dims));
    }

    private static Tensor f64(Tensor t) {
        return BE.cast(t, DType.F64);
    }

    private static float[] f(Tensor t) {
        assertEquals(DType.F32, t.dtype(), "the fast path must return float32");
        return t.toFloatArray();
    }

    /** max |got − ref| ≤ rel · max |ref|, with 1e-9 absolute allowed for references that are (nearly) all zero. */
    private static void assertRel(Tensor ref, Tensor got, double rel, String what) {
        assertEquals(ref.shape(), got.shape(), what + ": shape");
        double[] r = ref.toDoubleArray();
        float[] g = f(got);
        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < r.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(r[i]));
            maxErr = Math.max(maxErr, Math.abs(g[i] - r[i]));
        }
        assertTrue(maxErr <= Math.max(rel * maxRef, 1e-9), what + ": max error " + maxErr + " vs max |ref| " + maxRef);
    }

    /** max |got − ref| ≤ abs. */
    private static void assertAbs(Tensor ref, Tensor got, double abs, String what) {
        assertEquals(ref.shape(), got.shape(), what + ": shape");
        double[] r = ref.toDoubleArray();
        float[] g = f(got);
        double maxErr = 0;
        for (int i = 0; i < r.length; i++) maxErr = Math.max(maxErr, Math.abs(g[i] - r[i]));
        assertTrue(maxErr <= abs, what + ": max error " + maxErr);
    }

    /** Bit-identical to the reference rounded to float (numerically: −0 and +0 count as equal). */
    private static void assertExact(Tensor ref, Tensor got, String what) {
        assertEquals(ref.shape(), got.shape(), what + ": shape");
        float[] r = ref.toFloatArray(), g = f(got);
        for (int i = 0; i < r.length; i++) {
            if (!(r[i] == g[i] || (Float.isNaN(r[i]) && Float.isNaN(g[i])))) {
                throw new AssertionError(what + ": element " + i + " is " + g[i] + ", reference " + r[i]);
            }
        }
    }

    /** The op's float32 results with 1, 2 and 3 threads are bit-identical. */
    private static void assertThreadIndependent(String what, Supplier<List<Tensor>> op) {
        CpuParallel.setThreads(1);
        List<Tensor> one = op.get();
        for (int t : new int[] {2, 3}) {
            CpuParallel.setThreads(t);
            List<Tensor> many = op.get();
            for (int i = 0; i < one.size(); i++) {
                assertArrayEquals(f(one.get(i)), f(many.get(i)), what + ": output " + i + " differs between 1 and " + t + " threads");
            }
        }
    }

    // ---- weight standardisation ----------------------------------------------------------------------

    private static final int[][] KERNELS = {{3, 3, 64, 128}, {7, 7, 3, 64}, {1, 1, 256, 64}, {2, 3, 5, 7}, {1, 1, 1, 4}, {3, 3, 16, 1}};

    @Test
    void weightStandardizeMatchesReference() {
        Random r = new Random(1);
        for (int[] k : KERNELS) {
            for (double mean : new double[] {0, 0.5}) {
                Tensor w = random(r, mean - 0.1, mean + 0.1, k);
                Tensor g = random(r, -1, 1, k);
                String what = "WS " + Shape.of(k) + " mean " + mean;
                assertAbs(BE.weightStandardize(f64(w), WS_EPS), BE.weightStandardize(w, WS_EPS), 1e-5, what);
                assertRel(BE.weightStandardizeBackward(f64(w), f64(g), WS_EPS), BE.weightStandardizeBackward(w, g, WS_EPS), 1e-5,
                        what + " backward");
            }
        }
    }

    @Test
    void weightStandardizeIsThreadIndependent() {
        Random r = new Random(2);
        for (int[] k : new int[][] {{3, 3, 64, 128}, {1, 1, 64, 1000}}) {
            Tensor w = random(r, -0.1, 0.1, k), g = random(r, -1, 1, k);
            assertThreadIndependent("WS " + Shape.of(k), () -> List.of(BE.weightStandardize(w, WS_EPS), BE.weightStandardizeBackward(w, g, WS_EPS)));
        }
    }

    // ---- GroupNorm -----------------------------------------------------------------------------------

    private record GnCase(int groups, int... dims) {}

    private static final GnCase[] GN_CASES = {
        new GnCase(32, 2, 7, 9, 64), new GnCase(3, 3, 5, 5, 12), new GnCase(32, 1, 1, 1, 32), new GnCase(1, 2, 6, 6, 16),
        new GnCase(32, 2, 4, 4, 256), new GnCase(4, 2, 10, 8), new GnCase(2, 5, 6)};

    @Test
    void groupNormMatchesReference() {
        Random r = new Random(3);
        for (GnCase gc : GN_CASES) {
            for (double mean : new double[] {0, 50}) {
                int c = gc.dims()[gc.dims().length - 1];
                Tensor x = random(r, mean - 2, mean + 2, gc.dims());
                Tensor gamma = random(r, 0.5, 1.5, c), beta = random(r, -0.5, 0.5, c);
                Tensor dy = random(r, -1, 1, gc.dims());
                String what = "GN " + Shape.of(gc.dims()) + " groups " + gc.groups() + " mean " + mean;
                GroupNormResult ref = BE.groupNorm(f64(x), f64(gamma), f64(beta), gc.groups(), GN_EPS);
                GroupNormResult got = BE.groupNorm(x, gamma, beta, gc.groups(), GN_EPS);
                assertAbs(ref.y(), got.y(), 1e-5, what + " y");
                assertRel(ref.mean(), got.mean(), 1e-6, what + " mean");
                assertRel(ref.rstd(), got.rstd(), 1e-6, what + " rstd");
                // Both backward passes start from the same float32 statistics.
                GroupNormGrads gRef = BE.groupNormBackward(f64(dy), f64(x), f64(gamma), f64(got.mean()), f64(got.rstd()), gc.groups());
                GroupNormGrads gGot = BE.groupNormBackward(dy, x, gamma, got.mean(), got.rstd(), gc.groups());
                assertRel(gRef.dx(), gGot.dx(), 1e-5, what + " dx");
                assertRel(gRef.dgamma(), gGot.dgamma(), 1e-5, what + " dgamma");
                assertRel(gRef.dbeta(), gGot.dbeta(), 1e-5, what + " dbeta");
            }
        }
    }

    /** The fused float32 GroupNorm+ReLU against the float64 pair of ops it replaces (the Backend's default). */
    @Test
    void groupNormReluMatchesGroupNormThenRelu() {
        Random r = new Random(5);
        for (GnCase gc : GN_CASES) {
            int c = gc.dims()[gc.dims().length - 1];
            Tensor x = random(r, -2, 2, gc.dims()), dy = random(r, -1, 1, gc.dims());
            Tensor gamma = random(r, 0.5, 1.5, c), beta = random(r, -0.5, 0.5, c);
            String what = "GN+ReLU " + Shape.of(gc.dims()) + " groups " + gc.groups();
            GroupNormResult ref = BE.groupNormRelu(f64(x), f64(gamma), f64(beta), gc.groups(), GN_EPS);
            GroupNormResult got = BE.groupNormRelu(x, gamma, beta, gc.groups(), GN_EPS);
            assertAbs(ref.y(), got.y(), 1e-5, what + " y");
            assertRel(ref.rstd(), got.rstd(), 1e-6, what + " rstd");
            // The same float32 statistics and mask on both sides, so only the arithmetic differs.
            GroupNormGrads gRef = BE.groupNormReluBackward(f64(dy), f64(got.y()), f64(x), f64(gamma), f64(got.mean()), f64(got.rstd()),
                    gc.groups());
            GroupNormGrads gGot = BE.groupNormReluBackward(dy, got.y(), x, gamma, got.mean(), got.rstd(), gc.groups());
            assertRel(gRef.dx(), gGot.dx(), 1e-5, what + " dx");
            assertRel(gRef.dgamma(), gGot.dgamma(), 1e-5, what + " dgamma");
            assertRel(gRef.dbeta(), gGot.dbeta(), 1e-5, what + " dbeta");
        }
    }

    @Test
    void groupNormIsThreadIndependent() {
        Random r = new Random(4);
        for (GnCase gc : new GnCase[] {new GnCase(32, 4, 16, 16, 256), new GnCase(32, 3, 9, 9, 512), new GnCase(8, 1, 40, 40, 64)}) {
            int c = gc.dims()[gc.dims().length - 1];
            Tensor x = random(r, -2, 2, gc.dims()), dy = random(r, -1, 1, gc.dims());
            Tensor gamma = random(r, 0.5, 1.5, c), beta = random(r, -0.5, 0.5, c);
            assertThreadIndependent("GN " + Shape.of(gc.dims()), () -> {
                GroupNormResult y = BE.groupNorm(x, gamma, beta, gc.groups(), GN_EPS);
                GroupNormGrads g = BE.groupNormBackward(dy, x, gamma, y.mean(), y.rstd(), gc.groups());
                return List.of(y.y(), y.mean(), y.rstd(), g.dx(), g.dgamma(), g.dbeta());
            });
        }
    }

    // ---- element-wise --------------------------------------------------------------------------------

    private static final int[][] SHAPES = {{2, 7, 9, 64}, {3, 5, 7}, {1}, {4, 16, 16, 256}, {5, 3, 3, 7}};

    @Test
    void reluAndBackwardMatchReference() {
        Random r = new Random(5);
        for (int[] s : SHAPES) {
            Tensor x = random(r, -1, 1, s), dy = random(r, -1, 1, s);
            assertExact(BE.relu(f64(x)), BE.relu(x), "relu " + Shape.of(s));
            assertExact(BE.reluBackward(f64(x), f64(dy)), BE.reluBackward(x, dy), "reluBackward " + Shape.of(s));
        }
    }

    @Test
    void reluKeepsNaNAndItsBackwardZeroesInactiveUnitsWhateverTheGradient() {
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        Tensor x = BE.wrap(new float[] {nan, -1, 0, 2, -3, 4, -0f, 5}, Shape.of(8));
        Tensor dy = BE.wrap(new float[] {1, nan, inf, 3, -inf, nan, 7, -2}, Shape.of(8));
        float[] y = f(BE.relu(x));
        assertTrue(Float.isNaN(y[0]));
        assertArrayEquals(new float[] {0, 0, 2, 0, 4, 0, 5}, java.util.Arrays.copyOfRange(y, 1, 8));
        assertExact(BE.reluBackward(f64(x), f64(dy)), BE.reluBackward(x, dy), "reluBackward with NaN and infinities");
        float[] dx = f(BE.reluBackward(x, dy));
        assertArrayEquals(new float[] {0, 0, 0, 3, 0, Float.NaN, 0, -2}, dx);
        // A long tensor: the non-finite values sit in one check block among finite ones.
        Random r = new Random(6);
        Tensor bx = random(r, -1, 1, 100_000), bdy = random(r, -1, 1, 100_000);
        float[] raw = ((CpuStorage.F32) bdy.storage()).data();
        float[] rx = ((CpuStorage.F32) bx.storage()).data();
        rx[70_001] = -1;
        raw[70_001] = nan;
        rx[70_002] = nan;
        assertExact(BE.reluBackward(f64(bx), f64(bdy)), BE.reluBackward(bx, bdy), "reluBackward, long");
    }

    @Test
    void binaryOpsWithBroadcastMatchReference() {
        Random r = new Random(7);
        int[][][] pairs = {
            {{2, 7, 9, 64}, {64}}, {{2, 7, 9, 64}, {2, 7, 9, 64}}, {{2, 7, 9, 64}, {9, 64}}, {{3, 5, 7}, {7}}, {{3, 5, 7}, {1}},
            {{3, 5, 7}, {}}, {{8, 1000}, {1000}}, {{4, 16, 16, 256}, {256}}, {{4, 16, 16, 256}, {4, 16, 16, 256}}, {{6000, 3}, {3}},
            {{2, 5000}, {5000}}};
        for (int[][] p : pairs) {
            Tensor a = random(r, -2, 2, p[0]), b = random(r, -2, 2, p[1]);
            for (BinaryOp op : BinaryOp.values()) {
                assertExact(BE.binary(op, f64(a), f64(b)), BE.binary(op, a, b), op + " " + Shape.of(p[0]) + " ⊕ " + Shape.of(p[1]));
            }
        }
    }

    @Test
    void scaleAddInPlaceAndReductionsMatchReference() {
        Random r = new Random(8);
        for (int[] s : SHAPES) {
            Tensor x = random(r, -1, 1, s), y = random(r, -1, 1, s);
            assertExact(BE.scale(f64(x), 0.37), BE.scale(x, 0.37), "scale " + Shape.of(s));
            Tensor acc = BE.copy(x), acc64 = f64(x);
            BE.addInPlace(acc, y);
            BE.addInPlace(acc64, f64(y));
            assertExact(acc64, acc, "addInPlace " + Shape.of(s));
            assertRel(BE.sum(f64(x)), BE.sum(x), 1e-6, "sum " + Shape.of(s));
        }
        int[][][] sums = {{{2, 7, 9, 64}, {64}}, {{2, 7, 9, 64}, {9, 64}}, {{2, 7, 9, 64}, {1}}, {{3, 5000}, {5000}}, {{50_000, 3}, {3}},
            {{4, 16, 16, 256}, {256}}, {{8, 1000}, {1000}}};
        for (int[][] p : sums) {
            Tensor x = random(r, -1, 1, p[0]);
            assertRel(BE.sumToSuffix(f64(x), Shape.of(p[1])), BE.sumToSuffix(x, Shape.of(p[1])), 1e-6,
                    "sumToSuffix " + Shape.of(p[0]) + " → " + Shape.of(p[1]));
        }
    }

    @Test
    void elementwiseOpsAreThreadIndependent() {
        Random r = new Random(9);
        Tensor x = random(r, -1, 1, 4, 16, 16, 256), y = random(r, -1, 1, 4, 16, 16, 256), c = random(r, -1, 1, 256);
        Tensor narrow = random(r, -1, 1, 70_000, 3), wide = random(r, -1, 1, 9, 10_000);
        assertThreadIndependent("element-wise", () -> {
            Tensor acc = BE.copy(x);
            BE.addInPlace(acc, y);
            return List.of(BE.relu(x), BE.reluBackward(x, y), BE.binary(BinaryOp.ADD, x, y), BE.binary(BinaryOp.MUL, x, c),
                    BE.binary(BinaryOp.SUB, x, c), BE.scale(x, -1.5), acc, BE.sum(x), BE.sumToSuffix(x, Shape.of(256)),
                    BE.sumToSuffix(narrow, Shape.of(3)), BE.sumToSuffix(wide, Shape.of(10_000)));
        });
    }

    // ---- spatial -------------------------------------------------------------------------------------

    @Test
    void padAndCropMatchReference() {
        Random r = new Random(10);
        for (int[] s : new int[][] {{2, 7, 9, 64}, {3, 5, 4, 3}, {1, 1, 1, 1}}) {
            Tensor x = random(r, -1, 1, s);
            for (int[] p : new int[][] {{1, 1, 1, 1}, {0, 2, 3, 0}, {3, 3, 3, 3}}) {
                String what = Shape.of(s) + " pad " + java.util.Arrays.toString(p);
                Tensor padded = BE.pad2d(x, p[0], p[1], p[2], p[3], 0.0);
                assertExact(BE.pad2d(f64(x), p[0], p[1], p[2], p[3], 0.0), padded, "pad2d " + what);
                assertExact(BE.pad2d(f64(x), p[0], p[1], p[2], p[3], -2.5), BE.pad2d(x, p[0], p[1], p[2], p[3], -2.5), "pad2d value " + what);
                assertExact(BE.crop2d(f64(padded), p[0], p[1], p[2], p[3]), BE.crop2d(padded, p[0], p[1], p[2], p[3]), "crop2d " + what);
                assertExact(x, BE.crop2d(padded, p[0], p[1], p[2], p[3]), "crop2d ∘ pad2d " + what);
            }
        }
    }

    @Test
    void maxPoolMatchesReferenceIncludingTies() {
        Random r = new Random(11);
        for (int[] s : new int[][] {{2, 9, 9, 64}, {3, 10, 7, 5}, {1, 3, 3, 2}, {2, 17, 17, 16}}) {
            for (int[] ks : new int[][] {{3, 2}, {2, 2}, {3, 1}}) {
                // Values on a coarse grid, so windows often hold several equal maxima; integer dy keeps sums exact.
                Tensor x = random(r, -4, 4, s);
                float[] xv = ((CpuStorage.F32) x.storage()).data();
                for (int i = 0; i < xv.length; i++) xv[i] = Math.round(xv[i]);
                Tensor y = BE.maxPool2d(x, ks[0], ks[1]);
                String what = Shape.of(s) + " k" + ks[0] + " s" + ks[1];
                assertExact(BE.maxPool2d(f64(x), ks[0], ks[1]), y, "maxPool2d " + what);
                Tensor dy = random(r, -8, 8, y.shape().dims());
                float[] dyv = ((CpuStorage.F32) dy.storage()).data();
                for (int i = 0; i < dyv.length; i++) dyv[i] = Math.round(dyv[i]);
                assertExact(BE.maxPool2dBackward(f64(x), f64(dy), ks[0], ks[1]), BE.maxPool2dBackward(x, dy, ks[0], ks[1]),
                        "maxPool2dBackward " + what);
            }
        }
    }

    @Test
    void maxPoolHandlesNaNInfinitiesAndSignedZerosAsTheReference() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 1f, -1f};
        Random r = new Random(14);
        for (int trial = 0; trial < 20; trial++) {
            Tensor x = random(r, -1, 1, 2, 7, 7, 5);
            float[] xv = ((CpuStorage.F32) x.storage()).data();
            for (int i = 0; i < xv.length; i++) if (r.nextInt(3) > 0) xv[i] = special[r.nextInt(special.length)];
            Tensor y = BE.maxPool2d(x, 3, 2);
            assertExact(BE.maxPool2d(f64(x), 3, 2), y, "maxPool2d with special values");
            Tensor dy = random(r, -8, 8, y.shape().dims());
            float[] dyv = ((CpuStorage.F32) dy.storage()).data();
            for (int i = 0; i < dyv.length; i++) dyv[i] = Math.round(dyv[i]);
            assertExact(BE.maxPool2dBackward(f64(x), f64(dy), 3, 2), BE.maxPool2dBackward(x, dy, 3, 2), "maxPool2dBackward with special values");
        }
    }

    @Test
    void globalAvgPoolMatchesReference() {
        Random r = new Random(12);
        for (int[] s : new int[][] {{2, 7, 9, 64}, {3, 5, 4, 3}, {8, 7, 7, 2048}, {1, 1, 1, 600}}) {
            Tensor x = random(r, -1, 1, s);
            assertExact(BE.globalAvgPool(f64(x)), BE.globalAvgPool(x), "globalAvgPool " + Shape.of(s));
            Tensor dy = random(r, -1, 1, s[0], s[3]);
            assertExact(BE.globalAvgPoolBackward(f64(dy), Shape.of(s)), BE.globalAvgPoolBackward(dy, Shape.of(s)),
                    "globalAvgPoolBackward " + Shape.of(s));
        }
    }

    @Test
    void spatialOpsAreThreadIndependent() {
        Random r = new Random(13);
        Tensor x = random(r, -1, 1, 3, 57, 57, 64), big = random(r, -1, 1, 4, 14, 14, 1024);
        Function<Tensor, Tensor> pool = t -> BE.maxPool2d(t, 3, 2);
        Tensor dy = random(r, -1, 1, pool.apply(x).shape().dims()), dyAvg = random(r, -1, 1, 4, 1024);
        assertThreadIndependent("spatial", () -> List.of(BE.pad2d(x, 1, 1, 1, 1, 0), BE.crop2d(x, 1, 2, 3, 4), pool.apply(x),
                BE.maxPool2dBackward(x, dy, 3, 2), BE.globalAvgPool(big), BE.globalAvgPoolBackward(dyAvg, big.shape())));
    }
}
