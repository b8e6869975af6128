package org.bitengine.engine.backend.cpu;

/**
 * Float32 sigmoid, swish (SiLU) and squeeze-and-excitation channel scaling of the CPU backend,
 * multi-threaded over contiguous ranges. Each value is evaluated in double with the reference's formula
 * ({@link CpuReference#sigmoid(double)}) and rounded once, so results equal the reference rounded to
 * float. Reductions ({@link #scaleChannelsBackwardScale}) run per sample in a fixed order.
 */
final class ActivationF32 {

    private ActivationF32() {}

    static float[] sigmoid(float[] x, float[] y) {
        CpuParallel.forRange(0, x.length, ElementwiseF32.GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) y[i] = (float) CpuReference.sigmoid(x[i]);
        });
        return y;
    }

    /** dx = dy·y·(1 − y) from the output y. */
    static float[] sigmoidBackward(float[] y, float[] dy, float[] dx) {
        CpuParallel.forRange(0, y.length, ElementwiseF32.GRAIN, (from, to) -> sigmoidBackwardRange(y, dy, dx, from, to));
        return dx;
    }

    private static void sigmoidBackwardRange(float[] y, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) dx[i] = (float) ((double) dy[i] * y[i] * (1.0 - y[i]));
    }

    static float[] swish(float[] x, float[] y) {
        CpuParallel.forRange(0, x.length, ElementwiseF32.GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) y[i] = (float) (x[i] * CpuReference.sigmoid(x[i]));
        });
        return y;
    }

    static float[] swishBackward(float[] x, float[] dy, float[] dx) {
        CpuParallel.forRange(0, x.length, ElementwiseF32.GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                double s = CpuReference.sigmoid(x[i]);
                dx[i] = (float) (dy[i] * (s + x[i] * s * (1 - s)));
            }
        });
        return dx;
    }

    /** y [n,p,c] = x [n,p,c] · s [n,c]. */
    static float[] scaleChannels(float[] x, int n, int p, int c, float[] s, float[] y) {
        double[] zero = new double[c];
        CpuParallel.forRange(0, n * p, Math.max(1, ElementwiseF32.GRAIN / Math.max(1, c)), (from, to) -> {
            double[] row = new double[c];
            int loaded = -1;
            for (int r = from; r < to; r++) {
                int b = r / p;
                if (b != loaded) {
                    for (int j = 0; j < c; j++) row[j] = s[b * c + j];
                    loaded = b;
                }
                RowKernels.scaleShift(y, x, r * c, row, zero, c);
            }
        });
        return y;
    }

    /** ds [n,c] = Σ over the p positions of dy·x, in double, positions in order. */
    static float[] scaleChannelsBackwardScale(float[] dy, float[] x, int n, int p, int c, float[] ds) {
        CpuParallel.forRange(0, n, 1, (from, to) -> {
            double[] acc = new double[c];
            for (int b = from; b < to; b++) {
                java.util.Arrays.fill(acc, 0);
                for (int q = 0; q < p; q++) dotRow(acc, dy, x, (b * p + q) * c, c);
                for (int j = 0; j < c; j++) ds[b * c + j] = (float) acc[j];
            }
        });
        return ds;
    }

    private static void dotRow(double[] acc, float[] a, float[] b, int off, int n) {
        for (int j = 0; j < n; j++) acc[j] += (double) a[off + j] * b[off + j];
    }
}
