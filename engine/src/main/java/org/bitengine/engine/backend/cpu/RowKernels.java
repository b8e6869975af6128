package org.bitengine.engine.backend.cpu;

/**
 * The vectorisable inner loops shared by the float32 normalisation kernels ({@link GroupNormF32},
 * {@link WeightStandardizeF32}): each runs over one row of {@code n} contiguous channels starting at
 * {@code off} in the big float arrays, against per-channel parameter rows indexed from 0.
 *
 * <h2>Why they look like this</h2>
 * JDK 25's C2 gives up on vectorising a loop that stores to a {@code float[]} at one index expression and
 * loads another {@code float[]} at a different one (it cannot rule out that they are the same array). A
 * {@code double[]} can never alias a {@code float[]}, so the per-channel parameters here are
 * {@code double[]}: the loops then vectorise (8 double lanes with AVX-512), the arithmetic runs in double
 * and each result is rounded to float once, which is at least as accurate as the reference's
 * double-evaluate-then-round. Every loop is its own small static method so C2 compiles and vectorises it
 * on its own (measured: 3–6 elements/ns per core, near the memory bandwidth, against ~1 for the same loop
 * with float parameter rows).
 */
final class RowKernels {

    private RowKernels() {}

    /** s1[j] += d, s2[j] += d² with d = x[off+j] − k[j]: moments shifted by a sample of the data (no cancellation). */
    static void shiftedMoments(double[] s1, double[] s2, float[] x, int off, double[] k, int n) {
        for (int j = 0; j < n; j++) {
            double d = x[off + j] - k[j];
            s1[j] += d;
            s2[j] += d * d;
        }
    }

    /** y[off+j] = x[off+j]·scale[j] + shift[j], rounded once. */
    static void scaleShift(float[] y, float[] x, int off, double[] scale, double[] shift, int n) {
        for (int j = 0; j < n; j++) y[off + j] = (float) (x[off + j] * scale[j] + shift[j]);
    }

    /** y[off+j] = max(x[off+j]·scale[j] + shift[j], 0), rounded once; NaN passes through (Math.max). */
    static void scaleShiftRelu(float[] y, float[] x, int off, double[] scale, double[] shift, int n) {
        for (int j = 0; j < n; j++) y[off + j] = (float) Math.max(x[off + j] * scale[j] + shift[j], 0.0);
    }

    /**
     * out[off+j] = a[off+j]·p[j] − (b[off+j] − m[j])·q[j] − r[j], rounded once: the shape of both the
     * GroupNorm and the weight-standardisation input gradient.
     */
    static void affine2(float[] out, float[] a, float[] b, int off, double[] p, double[] m, double[] q, double[] r, int n) {
        for (int j = 0; j < n; j++) out[off + j] = (float) (a[off + j] * p[j] - (b[off + j] - m[j]) * q[j] - r[j]);
    }

    /** acc[j] += x[off+j]. */
    static void accumulate(double[] acc, float[] x, int off, int n) {
        for (int j = 0; j < n; j++) acc[j] += x[off + j];
    }

    /** True when every value is finite (no NaN, no infinity). */
    static boolean allFinite(double[] a, int n) {
        for (int j = 0; j < n; j++) if (!Double.isFinite(a[j])) return false;
        return true;
    }
}
