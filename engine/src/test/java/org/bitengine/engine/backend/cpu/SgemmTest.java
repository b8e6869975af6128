package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Runs every case on the Vector API kernel when the module is present; {@link SgemmPlainTest} on the plain one. */
@ExtendWith(RestoreThreads.class)
class SgemmTest {

    private boolean simdBefore;

    /** Which kernel the cases run on. */
    boolean simd() {
        return true;
    }

    @BeforeEach
    void chooseKernel() {
        simdBefore = Sgemm.simd();
        Sgemm.useSimd(simd());
    }

    @AfterEach
    void restore() {
        Sgemm.forceOrientation = 0;
        Sgemm.useSimd(simdBefore);
    }

    @Test
    void kernelInUseIsTheOneAskedFor() {
        boolean moduleThere = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        // The build runs tests with the module; then the SIMD kernel must be the one tested here.
        assertEquals(simd() && moduleThere, Sgemm.simd());
    }

    /** A GEMM call's operands, with storage padded around the matrices to catch stray reads and writes. */
    private static final class Case {
        final boolean ta, tb;
        final int m, n, k, aOff, lda, bOff, ldb, cOff, ldc;
        final float alpha, beta;
        final float[] a, b, c0;

        Case(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, int pad, long seed) {
            this.ta = ta;
            this.tb = tb;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            Random r = new Random(seed);
            int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
            lda = Math.max(1, aCols) + pad;
            ldb = Math.max(1, bCols) + 2 * pad;
            ldc = Math.max(1, n) + 3 * pad;
            aOff = pad * 5;
            bOff = pad * 3;
            cOff = pad * 7;
            a = random(r, aOff + aRows * lda + pad);
            b = random(r, bOff + bRows * ldb + pad);
            c0 = random(r, cOff + m * ldc + pad);
        }

        float[] run() {
            float[] c = c0.clone();
            Sgemm.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return c;
        }

        float opA(int i, int p) {
            return ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float opB(int p, int j) {
            return tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        String describe() {
            return "ta=" + ta + " tb=" + tb + " m=" + m + " n=" + n + " k=" + k + " alpha=" + alpha + " beta=" + beta;
        }

        /** Checks got against a double-precision triple loop, and that nothing outside C changed. */
        void checkAgainstDouble(float[] got) {
            double maxRef = 0, maxErr = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double) opA(i, p) * opB(p, j);
                    int idx = cOff + i * ldc + j;
                    double ref = alpha * s + (beta == 0 ? 0 : beta * (double) c0[idx]);
                    maxRef = Math.max(maxRef, Math.abs(ref));
                    maxErr = Math.max(maxErr, Math.abs(got[idx] - ref));
                }
            }
            assertTrue(maxErr <= 1e-5 * Math.max(maxRef, 1e-30), describe() + ": max error " + maxErr + " vs max |ref| " + maxRef);
            checkUntouchedOutsideC(got);
        }

        /**
         * Sgemm promises the exact result of a fixed scalar loop: fma over p ascending from 0, then
         * alpha*s + beta*c. Checking that bit for bit is stronger than any tolerance.
         */
        void checkBitExact(float[] got) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = 0f;
                    for (int p = 0; p < k; p++) s = Math.fma(opA(i, p), opB(p, j), s);
                    int idx = cOff + i * ldc + j;
                    float want = beta == 0f ? alpha * s : alpha * s + beta * c0[idx];
                    if (Float.floatToIntBits(want) != Float.floatToIntBits(got[idx])) {
                        fail(describe() + ": C[" + i + "," + j + "] = " + got[idx] + ", scalar fma loop gives " + want);
                    }
                }
            }
            checkUntouchedOutsideC(got);
        }

        void checkUntouchedOutsideC(float[] got) {
            for (int idx = 0; idx < got.length; idx++) {
                int rel = idx - cOff;
                boolean inC = rel >= 0 && rel / ldc < m && rel % ldc < n;
                if (!inC && Float.floatToIntBits(got[idx]) != Float.floatToIntBits(c0[idx])) {
                    fail(describe() + ": wrote outside C at index " + idx);
                }
            }
        }
    }

    private static float[] random(Random r, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = r.nextFloat() * 2 - 1;
        return x;
    }

    private static final boolean[] BOOLS = {false, true};

    @Test
    void allTransposesAgainstDoubleReference() {
        CpuParallel.setThreads(2);
        int[][] sizes = {{1, 1, 1}, {7, 17, 63}, {65, 7, 255}, {17, 65, 1}, {63, 255, 17}, {255, 65, 63}, {513, 33, 130}, {40, 513, 300}};
        long seed = 1;
        for (int[] s : sizes) {
            for (boolean ta : BOOLS) {
                for (boolean tb : BOOLS) {
                    Case c = new Case(ta, tb, s[0], s[1], s[2], 1f, 0f, 0, seed++);
                    c.checkAgainstDouble(c.run());
                }
            }
        }
    }

    @Test
    void bigSquareAgainstDoubleReference() {
        CpuParallel.setThreads(2);
        Case c = new Case(false, false, 513, 513, 513, 1f, 0f, 0, 99);
        float[] got = c.run();
        c.checkAgainstDouble(got);
        c.checkBitExact(got);
    }

    @Test
    void offsetsLeadingDimensionsAlphaBeta() {
        CpuParallel.setThreads(2);
        float[][] alphaBeta = {{1f, 0f}, {0.5f, 1f}, {-2f, 0.25f}, {1f, -1f}};
        long seed = 100;
        for (float[] ab : alphaBeta) {
            for (boolean ta : BOOLS) {
                for (boolean tb : BOOLS) {
                    for (int[] s : new int[][] {{13, 29, 31}, {1, 300, 7}, {300, 1, 5}, {66, 70, 257}}) {
                        Case c = new Case(ta, tb, s[0], s[1], s[2], ab[0], ab[1], 3, seed++);
                        float[] got = c.run();
                        c.checkAgainstDouble(got);
                        c.checkBitExact(got);
                    }
                }
            }
        }
    }

    @Test
    void oddSizesAreBitExactInBothOrientations() {
        CpuParallel.setThreads(2);
        int[] dims = {1, 2, 3, 4, 5, 7, 16, 17, 63, 65, 255, 257};
        Random r = new Random(7);
        long seed = 1000;
        for (int orientation = 1; orientation <= 2; orientation++) {
            Sgemm.forceOrientation = orientation;
            for (int t = 0; t < 40; t++) {
                int m = dims[r.nextInt(dims.length)], n = dims[r.nextInt(dims.length)], k = dims[r.nextInt(dims.length)];
                Case c = new Case(r.nextBoolean(), r.nextBoolean(), m, n, k, 1.5f, t % 2 == 0 ? 0f : 0.75f, r.nextInt(3), seed++);
                c.checkBitExact(c.run());
            }
        }
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        CpuParallel.setThreads(2);
        for (int[] s : new int[][] {{5, 6, 7}, {70, 300, 40}, {300, 20, 9}}) {
            Case c = new Case(false, true, s[0], s[1], s[2], 1f, 0f, 2, 5);
            java.util.Arrays.fill(c.c0, c.cOff, c.cOff + (c.m - 1) * c.ldc + c.n, Float.NaN);
            float[] got = c.run();
            for (int i = 0; i < c.m; i++) {
                for (int j = 0; j < c.n; j++) assertTrue(Float.isFinite(got[c.cOff + i * c.ldc + j]), "NaN leaked from C at " + i + "," + j);
            }
            c.checkAgainstDouble(got);
        }
    }

    @Test
    void degenerateSizes() {
        CpuParallel.setThreads(2);
        // k == 0: C = beta * C, and with beta == 0 C becomes zero even if it held NaN.
        Case c = new Case(false, false, 4, 5, 0, 1f, 0.5f, 1, 3);
        float[] got = c.run();
        for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) assertEquals(0.5f * c.c0[c.cOff + i * c.ldc + j], got[c.cOff + i * c.ldc + j]);
        c.checkUntouchedOutsideC(got);
        float[] nan = new float[20];
        java.util.Arrays.fill(nan, Float.NaN);
        Sgemm.gemm(false, false, 4, 5, 0, 1f, new float[0], 0, 1, new float[0], 0, 5, 0f, nan, 0, 5);
        assertArrayEquals(new float[20], nan);
        // alpha == 0: A and B are not read (here they are too short to be read).
        float[] cc = {1, 2, 3, 4};
        Sgemm.gemm(false, false, 2, 2, 3, 0f, new float[0], 0, 3, new float[0], 0, 2, 2f, cc, 0, 2);
        assertArrayEquals(new float[] {2, 4, 6, 8}, cc);
        // m == 0 or n == 0: nothing happens.
        float[] untouched = {7};
        Sgemm.gemm(false, false, 0, 1, 1, 1f, new float[0], 0, 1, new float[] {1}, 0, 1, 0f, untouched, 0, 1);
        Sgemm.gemm(false, false, 1, 0, 1, 1f, new float[] {1}, 0, 1, new float[0], 0, 1, 0f, untouched, 0, 1);
        assertArrayEquals(new float[] {7}, untouched);
        // 1x1x1
        float[] one = {0};
        Sgemm.gemm(true, true, 1, 1, 1, 2f, new float[] {3}, 0, 1, new float[] {4}, 0, 1, 0f, one, 0, 1);
        assertArrayEquals(new float[] {24}, one);
    }

    @Test
    void identicalResultsForOneAndTwoThreads() {
        // {60, 250, 150}: one block row narrower than B', so two threads split the columns.
        int[][] sizes = {{1024, 64, 300}, {64, 1024, 300}, {300, 300, 300}, {2000, 24, 72}, {24, 2000, 72}, {513, 513, 65}, {60, 250, 150}};
        long seed = 500;
        for (int[] s : sizes) {
            for (boolean ta : BOOLS) {
                Case c = new Case(ta, !ta, s[0], s[1], s[2], 1f, 0.5f, 1, seed++);
                CpuParallel.setThreads(1);
                float[] one = c.run();
                CpuParallel.setThreads(2);
                float[] two = c.run();
                CpuParallel.setThreads(3);
                float[] three = c.run();
                assertArrayEquals(one, two, c.describe());
                assertArrayEquals(one, three, c.describe());
            }
        }
    }

    /**
     * A built tile by tile by the jobs ({@code gemmRowTiles}) gives exactly {@code gemm}'s C, for 1 and 2
     * threads: shapes with one job, many jobs and a partial last one, K deeper than one packed block, N wider
     * than one column block.
     */
    @Test
    void rowTilesAreBitIdenticalToGemm() {
        int[][] sizes = {{5, 7, 3}, {3000, 64, 147}, {1000, 300, 600}, {700, 33, 1200}};
        long seed = 900;
        for (int[] s : sizes) {
            int m = s[0], n = s[1], k = s[2];
            Random r = new Random(seed++);
            float[] a = random(r, m * k), b = random(r, k * n + 5);
            float[] expected = new float[m * n];
            Sgemm.gemm(false, false, m, n, k, 1f, a, 0, k, b, 5, n, 0f, expected, 0, n);
            for (int threads = 1; threads <= 2; threads++) {
                CpuParallel.setThreads(threads);
                float[] c = new float[m * n];
                java.util.Arrays.fill(c, Float.NaN);
                Sgemm.gemmRowTiles(m, n, k, (i0, rows, into) -> System.arraycopy(a, i0 * k, into, 0, rows * k), b, 5, n, c, 0, n);
                assertArrayEquals(expected, c, m + "x" + n + "x" + k + " on " + threads + " thread(s)");
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(false, false, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> Sgemm.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 1, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sgemm.gemm(false, false, 2, 2, 4, 1f, a, 0, 4, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("A"), e.getMessage());
    }
}
