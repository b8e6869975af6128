package org.bitengine.io.image;

import org.bitengine.io.data.Image;

/**
 * Bilinear resizing that antialiases when it shrinks, as PIL's {@code Image.resize(size, BILINEAR)}
 * (what torchvision's {@code Resize} runs on PIL images, so what the official BiT input pipeline
 * feeds the network).
 *
 * <p>Separable: each output row/column {@code i} of an axis scaled from {@code in} to {@code out} is
 * a weighted sum of the inputs around its centre {@code (i + 0.5)·in/out} (half-pixel centres), with
 * the triangle filter {@code max(0, 1 − |d|)} whose support is widened by the scale factor when
 * shrinking ({@code support = max(in/out, 1)}, distances divided by the same factor), so every input
 * pixel contributes and no detail aliases; weights that fall outside the image are dropped and the
 * rest renormalised. Enlarging is therefore plain bilinear interpolation with clamped edges; shrinking
 * by exactly 2 is <em>not</em> a 2×2 block mean (PIL's 4→2 weights are 3/7, 3/7, 1/7).
 *
 * <p>Two arithmetic variants of the same weights:
 * <ul>
 *   <li>{@link #bilinearUint8} reproduces PIL on 8-bit images bit for bit: weights rounded to 22-bit
 *       fixed point, the horizontal pass first, each pass rounded and clamped to 0..255;</li>
 *   <li>{@link #bilinear} computes in double and rounds once to float, for float data (normalised
 *       research arrays).</li>
 * </ul>
 * {@link #apply(Image, int, int)} picks the first for images of 0..255 integers and the second
 * otherwise. An axis whose size does not change is not resampled, so a resize to the image's own size
 * returns the values exactly as they were.
 *
 * <p>The window variants compute only a rectangle of the resized image (a random crop), with the same
 * arithmetic per output pixel as the full resize followed by a crop, hence identical values.
 */
public final class Resize {

    /** PIL's fixed-point precision for 8-bit images: 32 − 8 − 2 bits. */
    private static final int PRECISION_BITS = 22;

    private Resize() {
    }

    // ---------------------------------------------------------------------------------------------
    // Image-level entry points

    /** The image resized to {@code outH × outW} (see the class comment for which arithmetic). */
    public static Image apply(Image image, int outH, int outW) {
        float[] px = window(image, outH, outW, 0, 0, outH, outW);
        return new Image(outH, outW, px, image.normalized());
    }

    /**
     * Rows {@code [top, top + rows)} and columns {@code [left, left + cols)} of the image resized to
     * {@code outH × outW}, as [rows, cols, 3].
     */
    public static float[] window(Image image, int outH, int outW, int top, int left, int rows, int cols) {
        float[] px = image.pixels();
        if (!image.normalized() && isBytes(px)) {
            return bilinearUint8(px, image.height(), image.width(), 3, outH, outW, top, left, rows, cols);
        }
        return bilinear(px, image.height(), image.width(), 3, outH, outW, top, left, rows, cols);
    }

    /** Whether every value is an integer in 0..255, i.e. the image is 8-bit data held as floats. */
    static boolean isBytes(float[] px) {
        for (float v : px) {
            if (!(v >= 0f && v <= 255f) || v != (int) v) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------------------------------------
    // float

    /** {@code hwc} [h, w, c] resized to [outH, outW, c], in double arithmetic rounded once to float. */
    public static float[] bilinear(float[] hwc, int h, int w, int c, int outH, int outW) {
        return bilinear(hwc, h, w, c, outH, outW, 0, 0, outH, outW);
    }

    /** A window [rows, cols, c] at (top, left) of {@code hwc} [h, w, c] resized to [outH, outW, c]. */
    public static float[] bilinear(float[] hwc, int h, int w, int c, int outH, int outW,
                                   int top, int left, int rows, int cols) {
        Passes passes = Passes.of(hwc, h, w, c, outH, outW, top, left, rows, cols);
        Axis vy = passes.vy();
        Axis vx = passes.vx();
        int y0 = passes.y0();
        int tr = passes.inRows();
        double[] tmp = new double[tr * cols * c];
        for (int y = 0; y < tr; y++) {
            int inRow = (y0 + y) * w * c;
            int o = y * cols * c;
            for (int x = 0; x < cols; x++) {
                if (vx == null) {
                    int p = inRow + (left + x) * c;
                    for (int ch = 0; ch < c; ch++) {
                        tmp[o++] = hwc[p + ch];
                    }
                } else {
                    int s = vx.start[x];
                    int n = vx.count[x];
                    int k = x * vx.ksize;
                    for (int ch = 0; ch < c; ch++) {
                        double acc = 0;
                        int p = inRow + s * c + ch;
                        for (int j = 0; j < n; j++) {
                            acc += hwc[p + j * c] * vx.weights[k + j];
                        }
                        tmp[o++] = acc;
                    }
                }
            }
        }
        float[] out = new float[rows * cols * c];
        int rowLen = cols * c;
        for (int y = 0; y < rows; y++) {
            int o = y * rowLen;
            if (vy == null) {
                int t = y * rowLen;
                for (int i = 0; i < rowLen; i++) {
                    out[o + i] = (float) tmp[t + i];
                }
            } else {
                int s = vy.start[y] - y0;
                int n = vy.count[y];
                int k = y * vy.ksize;
                for (int i = 0; i < rowLen; i++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) {
                        acc += tmp[(s + j) * rowLen + i] * vy.weights[k + j];
                    }
                    out[o + i] = (float) acc;
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // 8-bit, PIL-exact

    /** {@code hwc} [h, w, c] of integers 0..255 resized to [outH, outW, c] exactly as PIL does. */
    public static float[] bilinearUint8(float[] hwc, int h, int w, int c, int outH, int outW) {
        return bilinearUint8(hwc, h, w, c, outH, outW, 0, 0, outH, outW);
    }

    /**
     * A window [rows, cols, c] at (top, left) of {@code hwc} [h, w, c] (integers 0..255) resized to
     * [outH, outW, c] exactly as PIL does; values that are not such integers are truncated and clamped.
     */
    public static float[] bilinearUint8(float[] hwc, int h, int w, int c, int outH, int outW,
                                        int top, int left, int rows, int cols) {
        Passes passes = Passes.of(hwc, h, w, c, outH, outW, top, left, rows, cols);
        Axis vy = passes.vy();
        Axis vx = passes.vx();
        int[] ky = vy == null ? null : vy.fixedPoint();
        int[] kx = vx == null ? null : vx.fixedPoint();
        int y0 = passes.y0();
        int tr = passes.inRows();
        int[] tmp = new int[tr * cols * c];
        for (int y = 0; y < tr; y++) {
            int inRow = (y0 + y) * w * c;
            int o = y * cols * c;
            for (int x = 0; x < cols; x++) {
                if (vx == null) {
                    int p = inRow + (left + x) * c;
                    for (int ch = 0; ch < c; ch++) {
                        tmp[o++] = clip8Value(hwc[p + ch]);
                    }
                } else {
                    int s = vx.start[x];
                    int n = vx.count[x];
                    int k = x * vx.ksize;
                    for (int ch = 0; ch < c; ch++) {
                        int acc = 1 << (PRECISION_BITS - 1);
                        int p = inRow + s * c + ch;
                        for (int j = 0; j < n; j++) {
                            acc += clip8Value(hwc[p + j * c]) * kx[k + j];
                        }
                        tmp[o++] = clip8(acc);
                    }
                }
            }
        }
        float[] out = new float[rows * cols * c];
        int rowLen = cols * c;
        for (int y = 0; y < rows; y++) {
            int o = y * rowLen;
            if (vy == null) {
                int t = y * rowLen;
                for (int i = 0; i < rowLen; i++) {
                    out[o + i] = tmp[t + i];
                }
            } else {
                int s = vy.start[y] - y0;
                int n = vy.count[y];
                int k = y * vy.ksize;
                for (int i = 0; i < rowLen; i++) {
                    int acc = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < n; j++) {
                        acc += tmp[(s + j) * rowLen + i] * ky[k + j];
                    }
                    out[o + i] = clip8(acc);
                }
            }
        }
        return out;
    }

    private static int clip8Value(float v) {
        return v <= 0f ? 0 : v >= 255f ? 255 : (int) v;
    }

    /** PIL's clip8: the fixed-point sum shifted back to 0..255. */
    private static int clip8(int acc) {
        if (acc >= 1 << PRECISION_BITS << 8) {
            return 255;
        }
        if (acc <= 0) {
            return 0;
        }
        return acc >> PRECISION_BITS;
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * The two passes of a window resize, shared by both arithmetic variants: the axes that are resampled
     * ({@code null} where the size does not change) and the input rows {@code [y0, y0 + inRows)} that the
     * horizontal pass produces for the vertical one.
     */
    private record Passes(Axis vy, Axis vx, int y0, int inRows) {
        static Passes of(float[] hwc, int h, int w, int c, int outH, int outW, int top, int left, int rows, int cols) {
            check(hwc, h, w, c, outH, outW, top, left, rows, cols);
            Axis vy = h == outH ? null : Axis.of(h, outH, top, rows);
            Axis vx = w == outW ? null : Axis.of(w, outW, left, cols);
            int y0 = vy == null ? top : vy.start[0];
            int y1 = vy == null ? top + rows : vy.start[rows - 1] + vy.count[rows - 1];
            return new Passes(vy, vx, y0, y1 - y0);
        }
    }

    private static void check(float[] hwc, int h, int w, int c, int outH, int outW, int top, int left, int rows, int cols) {
        if (h <= 0 || w <= 0 || c <= 0 || outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException("resize " + h + "x" + w + "x" + c + " to " + outH + "x" + outW
                    + ": sizes must be positive");
        }
        if ((long) h * w * c != hwc.length) {
            throw new IllegalArgumentException("resize: " + hwc.length + " values are not " + h + "x" + w + "x" + c);
        }
        if (rows <= 0 || cols <= 0 || top < 0 || left < 0 || top + rows > outH || left + cols > outW) {
            throw new IllegalArgumentException("resize window " + rows + "x" + cols + " at (" + top + ", " + left
                    + ") is not inside the " + outH + "x" + outW + " output");
        }
    }

    /** Weights of one axis for the outputs {@code [from, from + n)}. */
    static final class Axis {
        final int[] start;
        final int[] count;
        final double[] weights; // [n, ksize]
        final int ksize;

        private Axis(int n, int ksize) {
            this.start = new int[n];
            this.count = new int[n];
            this.weights = new double[n * ksize];
            this.ksize = ksize;
        }

        static Axis of(int in, int out, int from, int n) {
            double scale = (double) in / out;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale; // the triangle's support is 1 before widening
            int ksize = (int) Math.ceil(support) * 2 + 1;
            Axis a = new Axis(n, ksize);
            double ss = 1.0 / filterScale;
            for (int i = 0; i < n; i++) {
                double center = (from + i + 0.5) * scale;
                // (int) truncates toward zero, as C does: these are PIL's bounds, clamped to the image.
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), in) - xmin;
                int k = i * ksize;
                double sum = 0;
                for (int x = 0; x < xmax; x++) {
                    double wgt = triangle((x + xmin - center + 0.5) * ss);
                    a.weights[k + x] = wgt;
                    sum += wgt;
                }
                if (sum != 0.0) {
                    for (int x = 0; x < xmax; x++) {
                        a.weights[k + x] /= sum;
                    }
                }
                a.start[i] = xmin;
                a.count[i] = Math.max(xmax, 0);
            }
            return a;
        }

        /** The weights in PIL's 22-bit fixed point, rounded half away from zero. */
        int[] fixedPoint() {
            int[] k = new int[weights.length];
            for (int i = 0; i < k.length; i++) {
                double v = weights[i] * (1 << PRECISION_BITS);
                k[i] = (int) (weights[i] < 0 ? v - 0.5 : v + 0.5);
            }
            return k;
        }

        static double triangle(double x) {
            double a = Math.abs(x);
            return a < 1.0 ? 1.0 - a : 0.0;
        }
    }
}
