package org.bitengine.engine.backend.cpu;

import static org.bitengine.engine.backend.cpu.RowKernels.affine2;
import static org.bitengine.engine.backend.cpu.RowKernels.scaleShift;
import static org.bitengine.engine.backend.cpu.RowKernels.shiftedMoments;

/**
 * Float32 weight standardisation, forward and backward, of a kernel viewed as {@code [k, o]} (k = KH·KW·I
 * rows, the o output channels contiguous). Same contract as {@link CpuReference#weightStandardize} and
 * {@link CpuReference#weightStandardizeBackward}, which it is tested against.
 *
 * <p>Each thread owns a contiguous range of columns and walks all k rows of it, so every row access is a
 * contiguous run and the per-column statistics need no cross-thread reduction: a column's result is the
 * same whichever thread computes it. Statistics are accumulated in double in one pass, shifted by the
 * column's first value so {@code E[d²] − E[d]²} does not cancel; results are evaluated in double and
 * rounded once.
 */
final class WeightStandardizeF32 {

    /** Multiply-adds below which a column range is not worth a thread. */
    private static final int GRAIN = 1 << 15;

    private WeightStandardizeF32() {}

    /**
     * @param w   kernel {@code [k, o]}
     * @param out standardised kernel {@code [k, o]}, overwritten; returned
     */
    static float[] forward(float[] w, int k, int o, double eps, float[] out) {
        check(w, k, o, out);
        if (k == 0) return out;
        CpuParallel.forRange(0, o, columnGrain(k), (c0, c1) -> {
            int cw = c1 - c0;
            double[] shift = firstRow(w, o, c0, cw);
            double[] s1 = new double[cw], s2 = new double[cw];
            for (int r = 0; r < k; r++) shiftedMoments(s1, s2, w, r * o + c0, shift, cw);
            double[] scale = new double[cw], offset = new double[cw];
            for (int j = 0; j < cw; j++) {
                double d = s1[j] / k;
                double rs = 1.0 / Math.sqrt(Math.max(0, s2[j] / k - d * d) + eps);
                scale[j] = rs;
                offset[j] = -(shift[j] + d) * rs;
            }
            for (int r = 0; r < k; r++) scaleShift(out, w, r * o + c0, scale, offset, cw);
        });
        return out;
    }

    /**
     * dw = (g − mean(g) − ŵ·mean(g·ŵ)) / s per column, as the reference.
     *
     * @param w  the raw kernel {@code [k, o]}
     * @param g  gradient of the standardised kernel {@code [k, o]}
     * @param dw gradient of the raw kernel {@code [k, o]}, overwritten; returned
     */
    static float[] backward(float[] w, float[] g, int k, int o, double eps, float[] dw) {
        check(w, k, o, dw);
        check(g, k, o, dw);
        if (k == 0) return dw;
        CpuParallel.forRange(0, o, columnGrain(k), (c0, c1) -> {
            int cw = c1 - c0;
            double[] shift = firstRow(w, o, c0, cw);
            double[] s1 = new double[cw], s2 = new double[cw], g1 = new double[cw], g2 = new double[cw];
            for (int r = 0; r < k; r++) backwardSums(s1, s2, g1, g2, w, g, r * o + c0, shift, cw);
            double[] p = new double[cw], m = new double[cw], q = new double[cw], rr = new double[cw];
            for (int j = 0; j < cw; j++) {
                double d = s1[j] / k; // mean − shift
                double rs = 1.0 / Math.sqrt(Math.max(0, s2[j] / k - d * d) + eps);
                double meanG = g1[j] / k;
                double meanGW = rs * (g2[j] - d * g1[j]) / k; // mean(g·ŵ): Σ g·(w − mean) = Σ g·(w − shift) − d·Σ g
                p[j] = rs;
                m[j] = shift[j] + d;
                q[j] = rs * rs * meanGW;
                rr[j] = rs * meanG;
            }
            for (int r = 0; r < k; r++) affine2(dw, g, w, r * o + c0, p, m, q, rr, cw);
        });
        return dw;
    }

    /** s1, s2: shifted moments of w; g1 = Σ g; g2 = Σ g·(w − shift); over one row of n columns. */
    private static void backwardSums(double[] s1, double[] s2, double[] g1, double[] g2, float[] w, float[] g, int off,
                                     double[] shift, int n) {
        for (int j = 0; j < n; j++) {
            double d = w[off + j] - shift[j];
            double gj = g[off + j];
            s1[j] += d;
            s2[j] += d * d;
            g1[j] += gj;
            g2[j] += gj * d;
        }
    }

    private static double[] firstRow(float[] w, int o, int c0, int cw) {
        double[] row = new double[cw];
        for (int j = 0; j < cw; j++) row[j] = w[c0 + j];
        return row;
    }

    /** Columns per thread at least: enough that a range holds {@link #GRAIN} elements. */
    private static int columnGrain(int k) {
        return Math.max(8, GRAIN / Math.max(1, k));
    }

    private static void check(float[] w, int k, int o, float[] out) {
        if ((long) k * o != w.length || out.length != w.length) {
            throw new IllegalArgumentException("weight standardisation: [" + k + ", " + o + "] does not match arrays of "
                    + w.length + " and " + out.length + " elements");
        }
    }
}
