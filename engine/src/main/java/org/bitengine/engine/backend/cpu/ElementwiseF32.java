package org.bitengine.engine.backend.cpu;

import org.bitengine.engine.backend.BinaryOp;

/**
 * Float32 element-wise ops and reductions of the CPU backend, multi-threaded over contiguous ranges.
 * Same contracts as the reference paths in {@link CpuBackend} (which evaluate in double and round once);
 * results are identical to those except where noted, because a float +, − or × rounded once equals the
 * double operation rounded once.
 *
 * <p>Hot loops are small static methods indexed by the bare loop variable (see {@link RowKernels} for why);
 * the op is switched on outside the loop, never per element. Reductions add fixed-size blocks whose
 * boundaries depend only on the length, in double, and then the blocks in order, so they do not depend on
 * the thread count.
 */
final class ElementwiseF32 {

    /** Elements below which a range is not worth a thread. */
    static final int GRAIN = 1 << 15;
    /** Block of the ReLU-backward pass that is checked for non-finite values. */
    private static final int CHECK_BLOCK = 4096;
    /** Elements per block of a reduction; fixed, so the summation order does not depend on the threads. */
    private static final int SUM_BLOCK = 1 << 14;
    /** Lanes (independent double accumulators) of a reduction block; the lane loop vectorises. */
    private static final int LANES = 64;

    private ElementwiseF32() {}

    // ---- ReLU -----------------------------------------------------------------------------------------

    /**
     * y = max(x, 0); NaN passes through. Unlike the reference, −0 becomes +0 ({@code Math.max}, which
     * vectorises where a compare-and-select does not); the two are equal as numbers.
     *
     * @return y
     */
    static float[] relu(float[] x, float[] y) {
        sameLength(x, y, "relu");
        CpuParallel.forRange(0, x.length, GRAIN, (from, to) -> reluRange(x, y, from, to));
        return y;
    }

    private static void reluRange(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) y[i] = Math.max(x[i], 0f);
    }

    /**
     * dx = dy where x &gt; 0, else 0 (also for NaN x and for non-finite dy behind an inactive unit).
     *
     * <p>The mask is applied as {@code dy·signum(max(x, 0)) + 0}, which vectorises; that product is NaN
     * exactly when dy is not finite or x is NaN, so a block whose result is not all finite is recomputed
     * with the exact select.
     *
     * @return dx
     */
    static float[] reluBackward(float[] x, float[] dy, float[] dx) {
        sameLength(x, dy, "reluBackward");
        sameLength(x, dx, "reluBackward");
        CpuParallel.forRange(0, x.length, GRAIN, (from, to) -> {
            for (int b0 = from; b0 < to; b0 += CHECK_BLOCK) {
                int b1 = Math.min(to, b0 + CHECK_BLOCK);
                reluBackwardMasked(x, dy, dx, b0, b1);
                if (!(maxAbs(dx, b0, b1) <= Float.MAX_VALUE)) reluBackwardExact(x, dy, dx, b0, b1);
            }
        });
        return dx;
    }

    private static void reluBackwardMasked(float[] x, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) dx[i] = dy[i] * Math.signum(Math.max(x[i], 0f)) + 0f;
    }

    private static void reluBackwardExact(float[] x, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) dx[i] = x[i] > 0 ? dy[i] : 0f;
    }

    /** max |a[i]| over the range; NaN if any is NaN. */
    private static float maxAbs(float[] a, int from, int to) {
        float m = 0f;
        for (int i = from; i < to; i++) m = Math.max(m, Math.abs(a[i]));
        return m;
    }

    // ---- binary with suffix broadcast -----------------------------------------------------------------

    /**
     * y = a ⊕ b where b has a's length, one element, or a length that divides a's (b repeated over a's
     * leading dimensions; the caller has checked the shapes).
     *
     * @return y
     */
    static float[] binary(BinaryOp op, float[] a, float[] b, float[] y) {
        sameLength(a, y, "binary");
        int n = a.length, period = b.length;
        if (period == n) {
            CpuParallel.forRange(0, n, GRAIN, (from, to) -> {
                switch (op) {
                    case ADD -> addRange(y, a, b, from, to);
                    case SUB -> subRange(y, a, b, from, to);
                    case MUL -> mulRange(y, a, b, from, to);
                }
            });
        } else if (period == 1) {
            float s = b[0];
            CpuParallel.forRange(0, n, GRAIN, (from, to) -> {
                switch (op) {
                    case ADD -> addScalar(y, a, s, from, to);
                    case SUB -> addScalar(y, a, -s, from, to);
                    case MUL -> mulScalar(y, a, s, from, to);
                }
            });
        } else {
            broadcast(op, a, b, y);
        }
        return y;
    }

    /**
     * Rows of b's length. b is replicated, as doubles, into a row of about 1024 values (a whole number of
     * b's) so short periods still make long vector loops; each block of that many of a's values then
     * runs one loop against it.
     */
    private static void broadcast(BinaryOp op, float[] a, float[] b, float[] y) {
        int period = b.length;
        if (period == 0 || a.length % period != 0) {
            throw new IllegalArgumentException(op + ": " + period + " values do not repeat evenly over " + a.length);
        }
        int reps = Math.max(1, 1024 / period), blockLen = reps * period;
        double[] row = new double[blockLen];
        for (int i = 0; i < blockLen; i++) row[i] = op == BinaryOp.SUB ? -b[i % period] : b[i % period];
        int blocks = (a.length + blockLen - 1) / blockLen;
        CpuParallel.forRange(0, blocks, Math.max(1, GRAIN / blockLen), (from, to) -> {
            for (int blk = from; blk < to; blk++) {
                int off = blk * blockLen, len = Math.min(blockLen, a.length - off);
                if (op == BinaryOp.MUL) mulRow(y, a, off, row, len);
                else addRow(y, a, off, row, len);
            }
        });
    }

    private static void addRange(float[] y, float[] a, float[] b, int from, int to) {
        for (int i = from; i < to; i++) y[i] = a[i] + b[i];
    }

    private static void subRange(float[] y, float[] a, float[] b, int from, int to) {
        for (int i = from; i < to; i++) y[i] = a[i] - b[i];
    }

    private static void mulRange(float[] y, float[] a, float[] b, int from, int to) {
        for (int i = from; i < to; i++) y[i] = a[i] * b[i];
    }

    private static void addScalar(float[] y, float[] a, float s, int from, int to) {
        for (int i = from; i < to; i++) y[i] = a[i] + s;
    }

    private static void mulScalar(float[] y, float[] a, float s, int from, int to) {
        for (int i = from; i < to; i++) y[i] = a[i] * s;
    }

    /** The double row makes this loop vectorise despite the offset; a float+double sum rounded once equals the float sum. */
    private static void addRow(float[] y, float[] a, int off, double[] row, int n) {
        for (int j = 0; j < n; j++) y[off + j] = (float) (a[off + j] + row[j]);
    }

    private static void mulRow(float[] y, float[] a, int off, double[] row, int n) {
        for (int j = 0; j < n; j++) y[off + j] = (float) (a[off + j] * row[j]);
    }

    // ---- scale, accumulate ----------------------------------------------------------------------------

    /** y = alpha·x, the product taken in double and rounded once, as the reference. @return y */
    static float[] scale(float[] x, double alpha, float[] y) {
        sameLength(x, y, "scale");
        CpuParallel.forRange(0, x.length, GRAIN, (from, to) -> scaleRange(y, x, alpha, from, to));
        return y;
    }

    private static void scaleRange(float[] y, float[] x, double alpha, int from, int to) {
        for (int i = from; i < to; i++) y[i] = (float) (x[i] * alpha);
    }

    /** acc += x. */
    static void addInPlace(float[] acc, float[] x) {
        sameLength(acc, x, "addInPlace");
        CpuParallel.forRange(0, acc.length, GRAIN, (from, to) -> addRange(acc, acc, x, from, to));
    }

    // ---- reductions -----------------------------------------------------------------------------------

    /** Σ x, in double. */
    static double sum(float[] x) {
        int blocks = (x.length + SUM_BLOCK - 1) / SUM_BLOCK;
        double[] partial = new double[blocks];
        CpuParallel.forRange(0, blocks, Math.max(1, GRAIN / SUM_BLOCK), (from, to) -> {
            double[] lanes = new double[LANES];
            for (int blk = from; blk < to; blk++) {
                int off = blk * SUM_BLOCK, len = Math.min(SUM_BLOCK, x.length - off);
                partial[blk] = blockSum(x, off, len, lanes);
            }
        });
        double s = 0;
        for (double p : partial) s += p;
        return s;
    }

    /** Σ x[off .. off+len) with LANES interleaved double accumulators, then the lanes in order. */
    private static double blockSum(float[] x, int off, int len, double[] lanes) {
        java.util.Arrays.fill(lanes, 0);
        int full = len / LANES * LANES;
        for (int i = 0; i < full; i += LANES) RowKernels.accumulate(lanes, x, off + i, LANES);
        double s = 0;
        for (double l : lanes) s += l;
        for (int i = full; i < len; i++) s += x[off + i];
        return s;
    }

    /**
     * x viewed as {@code [rows, period]} summed over its rows into {@code out [period]} (the adjoint of
     * suffix broadcasting), in double. Wide rows: each thread owns a range of columns and adds all rows in
     * order. Narrow rows: fixed blocks of rows give partial sums, added in block order.
     *
     * @return out
     */
    static float[] sumToSuffix(float[] x, int period, float[] out) {
        if (period == 0 && x.length == 0 && out.length == 0) return out;
        if (period <= 0 || x.length % period != 0 || out.length != period) {
            throw new IllegalArgumentException("sumToSuffix: cannot sum " + x.length + " values into " + out.length);
        }
        int rows = x.length / period;
        if (period == 1) {
            out[0] = (float) sum(x);
            return out;
        }
        if (period >= 4096) {
            CpuParallel.forRange(0, period, Math.max(256, GRAIN / Math.max(1, rows)), (c0, c1) -> {
                double[] acc = new double[c1 - c0];
                for (int r = 0; r < rows; r++) RowKernels.accumulate(acc, x, r * period + c0, c1 - c0);
                for (int j = 0; j < acc.length; j++) out[c0 + j] = (float) acc[j];
            });
            return out;
        }
        int rowsPerBlock = Math.max(1, GRAIN / period);
        int blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        double[][] partial = new double[blocks][period];
        CpuParallel.forRange(0, blocks, 1, (from, to) -> {
            for (int blk = from; blk < to; blk++) {
                int r1 = Math.min(rows, (blk + 1) * rowsPerBlock);
                for (int r = blk * rowsPerBlock; r < r1; r++) RowKernels.accumulate(partial[blk], x, r * period, period);
            }
        });
        for (int j = 0; j < period; j++) {
            double s = 0;
            for (int blk = 0; blk < blocks; blk++) s += partial[blk][j];
            out[j] = (float) s;
        }
        return out;
    }

    private static void sameLength(float[] a, float[] b, String op) {
        if (a.length != b.length) throw new IllegalArgumentException(op + ": arrays of " + a.length + " and " + b.length + " elements");
    }
}
