package org.bitengine.engine.backend.cpu;

import java.util.Arrays;

/**
 * Float32 spatial ops on NHWC tensors: padding and its adjoint, max-pooling without padding and its
 * backward, global average pooling and its backward. Same contracts as the reference in
 * {@link CpuReference}, which they are tested against. Every parallel loop writes disjoint parts of its
 * output with a fixed order of operations, so results do not depend on the thread count.
 */
final class SpatialF32 {

    private static final int GRAIN = ElementwiseF32.GRAIN;

    private SpatialF32() {}

    /**
     * @param x input {@code [n, h, w, c]}
     * @param y output {@code [n, h+top+bottom, w+left+right, c]}, overwritten; returned
     */
    static float[] pad2d(float[] x, int n, int h, int w, int c, int top, int bottom, int left, int right, float value, float[] y) {
        int ph = h + top + bottom, pw = w + left + right, rowLen = pw * c;
        CpuParallel.forRange(0, n * ph, rowGrain(rowLen), (from, to) -> {
            for (int r = from; r < to; r++) {
                int b = r / ph, i = r % ph - top, dst = r * rowLen;
                if (i < 0 || i >= h) {
                    Arrays.fill(y, dst, dst + rowLen, value);
                    continue;
                }
                Arrays.fill(y, dst, dst + left * c, value);
                System.arraycopy(x, (b * h + i) * w * c, y, dst + left * c, w * c);
                Arrays.fill(y, dst + (left + w) * c, dst + rowLen, value);
            }
        });
        return y;
    }

    /**
     * @param x padded input {@code [n, h, w, c]}
     * @param y the interior {@code [n, h−top−bottom, w−left−right, c]}, overwritten; returned
     */
    static float[] crop2d(float[] x, int n, int h, int w, int c, int top, int bottom, int left, int right, float[] y) {
        int ih = h - top - bottom, iw = w - left - right, rowLen = iw * c;
        CpuParallel.forRange(0, n * ih, rowGrain(rowLen), (from, to) -> {
            for (int r = from; r < to; r++) {
                int b = r / ih, i = r % ih;
                System.arraycopy(x, ((b * h + i + top) * w + left) * c, y, r * rowLen, rowLen);
            }
        });
        return y;
    }

    /**
     * Max over each k×k window with the given stride, no padding; NaN propagates (Math.max, as the
     * reference).
     *
     * @param x input {@code [n, h, w, c]}
     * @param y output {@code [n, (h−k)/stride+1, (w−k)/stride+1, c]}, overwritten; returned
     */
    static float[] maxPool2d(float[] x, int n, int h, int w, int c, int k, int stride, float[] y) {
        int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
        if (oh <= 0 || ow <= 0 || c == 0) return y;
        CpuParallel.forRange(0, n * oh, rowGrain(ow * c * k * k), (from, to) -> {
            for (int r = from; r < to; r++) {
                int b = r / oh, i = r % oh;
                for (int j = 0; j < ow; j++) {
                    int dst = (r * ow + j) * c;
                    int first = ((b * h + i * stride) * w + j * stride) * c;
                    System.arraycopy(x, first, y, dst, c);
                    for (int di = 0; di < k; di++) {
                        for (int dj = 0; dj < k; dj++) {
                            if (di == 0 && dj == 0) continue;
                            maxInto(y, dst, x, first + (di * w + dj) * c, c);
                        }
                    }
                }
            }
        });
        return y;
    }

    private static void maxInto(float[] y, int yo, float[] x, int xo, int n) {
        for (int j = 0; j < n; j++) y[yo + j] = Math.max(y[yo + j], x[xo + j]);
    }

    /**
     * dy goes to the first maximum of each window in scan order (h, then w), as the reference.
     *
     * <p>Per output pixel the window maximum of a block of channels is taken with the vectorised
     * {@link #maxIntoRow}, then {@link #selectEqual} finds for every channel at once the first tap equal
     * to it (a branchy per-channel search costs twice as much: the exit is unpredictable). For a finite
     * maximum that is exactly the reference's rule (it replaces its candidate only on a strictly greater
     * value, so it ends on the first tap equal to the maximum, −0 and +0 counting as equal); a window whose
     * maximum is infinite or NaN is scanned the reference's way. The work is split into (sample, block of
     * channels) units, whose writes are disjoint; within a unit windows are visited in output order, so
     * overlapping windows add in the reference's order.
     *
     * @param x  the forward input {@code [n, h, w, c]}
     * @param dy gradient of the output {@code [n, oh, ow, c]}
     * @param dx gradient of x {@code [n, h, w, c]}, zero on entry; returned
     */
    static float[] maxPool2dBackward(float[] x, float[] dy, int n, int h, int w, int c, int k, int stride, float[] dx) {
        int oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
        if (oh <= 0 || ow <= 0 || c == 0) return dx;
        int taps = k * k;
        int[] tapOff = new int[taps];
        for (int di = 0; di < k; di++) {
            for (int dj = 0; dj < k; dj++) tapOff[di * k + dj] = (di * w + dj) * c;
        }
        int cb = 64, cBlocks = (c + cb - 1) / cb;
        CpuParallel.forRange(0, n * cBlocks, Math.max(1, GRAIN / (oh * ow * Math.min(c, cb) * taps)), (from, to) -> {
            float[] best = new float[Math.min(c, cb)];
            double[] tap = new double[Math.min(c, cb)];
            for (int u = from; u < to; u++) {
                int b = u / cBlocks, c0 = u % cBlocks * cb, cw = Math.min(c, c0 + cb) - c0;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        int first = ((b * h + i * stride) * w + j * stride) * c + c0;
                        int out = ((b * oh + i) * ow + j) * c + c0;
                        System.arraycopy(x, first, best, 0, cw);
                        for (int t = 1; t < taps; t++) maxIntoRow(best, x, first + tapOff[t], cw);
                        Arrays.fill(tap, 0, cw, taps - 1);
                        for (int t = taps - 2; t >= 0; t--) selectEqual(tap, best, x, first + tapOff[t], t, cw);
                        for (int ch = 0; ch < cw; ch++) {
                            int t = Float.isFinite(best[ch]) ? (int) tap[ch] : firstMaxTap(x, first + ch, tapOff);
                            dx[first + tapOff[t] + ch] += dy[out + ch];
                        }
                    }
                }
            }
        });
        return dx;
    }

    /** best[j] = max(best[j], x[xo+j]). */
    private static void maxIntoRow(float[] best, float[] x, int xo, int n) {
        for (int j = 0; j < n; j++) best[j] = Math.max(best[j], x[xo + j]);
    }

    /**
     * tap[j] = t where x[xo+j] equals best[j], else unchanged; called for t descending, it leaves the first
     * such tap. For finite best ≥ x, {@code 1 − signum(best − x)} is 1 exactly when they are equal (the
     * difference of distinct floats is never 0) and 0 otherwise, so the select is arithmetic and
     * vectorises; tap is a double[] so C2 sees it cannot alias the float inputs.
     */
    private static void selectEqual(double[] tap, float[] best, float[] x, int xo, int t, int n) {
        for (int j = 0; j < n; j++) {
            double equal = 1.0 - Math.signum(best[j] - x[xo + j]);
            tap[j] += equal * (t - tap[j]);
        }
    }

    /** The reference's scan of one window: the first tap, replaced only by a strictly greater value. */
    private static int firstMaxTap(float[] x, int base, int[] tapOff) {
        int arg = 0;
        float best = x[base];
        for (int t = 1; t < tapOff.length; t++) {
            if (x[base + tapOff[t]] > best) {
                best = x[base + tapOff[t]];
                arg = t;
            }
        }
        return arg;
    }

    /**
     * Mean over the s spatial positions, summed in double in position order (as the reference, so the
     * result is identical to it).
     *
     * @param x input {@code [n, s, c]}
     * @param y output {@code [n, c]}, overwritten; returned
     */
    static float[] globalAvgPool(float[] x, int n, int s, int c, float[] y) {
        int cb = 512, cBlocks = (c + cb - 1) / cb;
        CpuParallel.forRange(0, n * cBlocks, Math.max(1, GRAIN / Math.max(1, s * Math.min(c, cb))), (from, to) -> {
            for (int u = from; u < to; u++) {
                int b = u / cBlocks, c0 = u % cBlocks * cb, cw = Math.min(c, c0 + cb) - c0;
                double[] acc = new double[cw];
                for (int p = 0; p < s; p++) RowKernels.accumulate(acc, x, (b * s + p) * c + c0, cw);
                for (int j = 0; j < cw; j++) y[b * c + c0 + j] = (float) (acc[j] / s);
            }
        });
        return y;
    }

    /**
     * @param dy gradient of the pooled output {@code [n, c]}
     * @param dx {@code [n, s, c]}, each position getting dy/s; overwritten; returned
     */
    static float[] globalAvgPoolBackward(float[] dy, int n, int s, int c, float[] dx) {
        float[] rowVals = new float[n * c];
        for (int i = 0; i < n * c; i++) rowVals[i] = (float) ((double) dy[i] / s);
        CpuParallel.forRange(0, n * s, rowGrain(c), (from, to) -> {
            for (int r = from; r < to; r++) System.arraycopy(rowVals, r / s * c, dx, r * c, c);
        });
        return dx;
    }

    /** Rows per thread at least, for rows of {@code rowLen} elements. */
    private static int rowGrain(int rowLen) {
        return Math.max(1, GRAIN / Math.max(1, rowLen));
    }
}
