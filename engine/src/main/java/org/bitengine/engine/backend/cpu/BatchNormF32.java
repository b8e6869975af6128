package org.bitengine.engine.backend.cpu;

/**
 * Float32 BatchNorm of the CPU backend, x viewed as [m, c] (m = N × spatial positions, channels
 * contiguous). Same contracts as {@link CpuReference#batchNorm} and friends.
 *
 * <p>Per-channel sums are taken over fixed blocks of {@link #BLOCK_ROWS} rows in double, each block on
 * one thread, and the block partials are then added in block order, so the result does not depend on
 * the thread count. The moments are shifted by the first row (no cancellation for a large mean). The
 * per-row loops are {@link RowKernels}' vectorised ones.
 */
final class BatchNormF32 {

    static final int BLOCK_ROWS = 64;

    private BatchNormF32() {}

    /** Fills y [m,c], mean, rstd, unbiasedVar [c]. */
    static void forward(float[] x, int m, int c, float[] gamma, float[] beta, double eps,
                        float[] y, float[] mean, float[] rstd, float[] unbiasedVar) {
        double[] shift = new double[c];
        for (int j = 0; j < c; j++) shift[j] = x[j];
        double[][] sums = channelSums(m, c, (s1, s2, r) -> RowKernels.shiftedMoments(s1, s2, x, r * c, shift, c));
        double[] scale = new double[c], off = new double[c];
        for (int j = 0; j < c; j++) {
            double s1 = sums[0][j], s2 = sums[1][j];
            double d = s1 / m;
            double sq = Math.max(0, s2 - s1 * d);
            double mu = shift[j] + d;
            double rs = 1.0 / Math.sqrt(sq / m + eps);
            mean[j] = (float) mu;
            rstd[j] = (float) rs;
            unbiasedVar[j] = (float) (m > 1 ? sq / (m - 1) : 0);
            scale[j] = rs * gamma[j];
            off[j] = beta[j] - mu * scale[j];
        }
        applyRows(y, x, m, c, scale, off);
    }

    /** dx [m,c], dgamma and dbeta [c] through the batch statistics. */
    static void backward(float[] dy, float[] x, int m, int c, float[] gamma, float[] mean, float[] rstd,
                         float[] dx, float[] dgamma, float[] dbeta) {
        double[] mu = toDouble(mean);
        double[][] sums = dySums(dy, x, m, c, mu);
        double[] p = new double[c], q = new double[c], r = new double[c];
        for (int j = 0; j < c; j++) {
            double rs = rstd[j];
            double sumD = sums[0][j], sumDX = sums[1][j] * rs;
            dgamma[j] = (float) sumDX;
            dbeta[j] = (float) sumD;
            p[j] = rs * gamma[j];
            q[j] = p[j] * rs * sumDX / m;
            r[j] = p[j] * sumD / m;
        }
        CpuParallel.forRange(0, m, Math.max(1, ElementwiseF32.GRAIN / Math.max(1, c)), (from, to) -> {
            for (int row = from; row < to; row++) RowKernels.affine2(dx, dy, x, row * c, p, mu, q, r, c);
        });
    }

    static void inference(float[] x, int m, int c, float[] gamma, float[] beta, float[] rm, float[] rv, double eps, float[] y) {
        double[] scale = new double[c], off = new double[c];
        for (int j = 0; j < c; j++) {
            scale[j] = gamma[j] / Math.sqrt((double) rv[j] + eps);
            off[j] = beta[j] - rm[j] * scale[j];
        }
        applyRows(y, x, m, c, scale, off);
    }

    static void inferenceBackward(float[] dy, float[] x, int m, int c, float[] gamma, float[] rm, float[] rv, double eps,
                                  float[] dx, float[] dgamma, float[] dbeta) {
        double[][] sums = dySums(dy, x, m, c, toDouble(rm));
        double[] scale = new double[c], zero = new double[c];
        for (int j = 0; j < c; j++) {
            double rs = 1.0 / Math.sqrt((double) rv[j] + eps);
            scale[j] = gamma[j] * rs;
            dgamma[j] = (float) (sums[1][j] * rs);
            dbeta[j] = (float) sums[0][j];
        }
        applyRows(dx, dy, m, c, scale, zero);
    }

    /** {Σ dy, Σ dy·(x − centre)} per channel, block partials added in block order. */
    private static double[][] dySums(float[] dy, float[] x, int m, int c, double[] centre) {
        return channelSums(m, c, (s1, s2, r) -> dyMoments(s1, s2, dy, x, r * c, centre, c));
    }

    /** Adds one row's contributions to the two per-channel partial sums. */
    @FunctionalInterface
    private interface RowSums {
        void add(double[] s1, double[] s2, int row);
    }

    /**
     * Two per-channel sums over the m rows: each block of {@link #BLOCK_ROWS} rows summed on one thread,
     * the block partials then added in block order, so the result does not depend on the thread count.
     */
    private static double[][] channelSums(int m, int c, RowSums rowSums) {
        int blocks = blocks(m);
        double[] p1 = new double[blocks * c], p2 = new double[blocks * c];
        CpuParallel.forRange(0, blocks, 1, (from, to) -> {
            double[] s1 = new double[c], s2 = new double[c];
            for (int blk = from; blk < to; blk++) {
                java.util.Arrays.fill(s1, 0);
                java.util.Arrays.fill(s2, 0);
                for (int r = blk * BLOCK_ROWS, end = Math.min(m, r + BLOCK_ROWS); r < end; r++) rowSums.add(s1, s2, r);
                System.arraycopy(s1, 0, p1, blk * c, c);
                System.arraycopy(s2, 0, p2, blk * c, c);
            }
        });
        double[] sum1 = new double[c], sum2 = new double[c];
        for (int blk = 0; blk < blocks; blk++) {
            for (int j = 0; j < c; j++) {
                sum1[j] += p1[blk * c + j];
                sum2[j] += p2[blk * c + j];
            }
        }
        return new double[][] {sum1, sum2};
    }

    private static void dyMoments(double[] s1, double[] s2, float[] dy, float[] x, int off, double[] centre, int n) {
        for (int j = 0; j < n; j++) {
            double g = dy[off + j];
            s1[j] += g;
            s2[j] += g * (x[off + j] - centre[j]);
        }
    }

    private static void applyRows(float[] y, float[] x, int m, int c, double[] scale, double[] off) {
        CpuParallel.forRange(0, m, Math.max(1, ElementwiseF32.GRAIN / Math.max(1, c)), (from, to) -> {
            for (int row = from; row < to; row++) RowKernels.scaleShift(y, x, row * c, scale, off, c);
        });
    }

    private static int blocks(int m) {
        return (m + BLOCK_ROWS - 1) / BLOCK_ROWS;
    }

    private static double[] toDouble(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }
}
