package org.bitengine.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.bitengine.io.data.Image;
import org.junit.jupiter.api.Test;

class ResizeTest {

    private static final double EPS = 1e-5;

    @Test
    void sameSizeReturnsTheValuesExactly() {
        SplittableRandom rng = new SplittableRandom(1);
        float[] floats = new float[7 * 5 * 3];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = (float) rng.nextGaussian() * 1e-3f + (float) Math.PI; // values no filter would keep exactly
        }
        Image normalized = new Image(7, 5, floats, true);
        assertArrayEquals(floats, Resize.apply(normalized, 7, 5).pixels());
        float[] bytes = new float[7 * 5 * 3];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = rng.nextInt(256);
        }
        Image raw = new Image(7, 5, bytes, false);
        assertArrayEquals(bytes, Resize.apply(raw, 7, 5).pixels());
        // The float path on 0..255 data too (as for a normalized flag).
        assertArrayEquals(bytes, Resize.bilinear(bytes, 7, 5, 3, 7, 5));
    }

    @Test
    void upsample2x2To4x4IsBilinearWithHalfPixelCentres() {
        // v(r, c) = 8r + 4c is linear, so interpolation reproduces it at the output centres: the
        // output rows sit at input coordinates 0.25·(2i+1) − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to [0, 1].
        float[] in = {0, 4, 8, 12};
        float[] expected = {
            0, 1, 3, 4,
            2, 3, 5, 6,
            6, 7, 9, 10,
            8, 9, 11, 12};
        assertArrayEquals(expected, Resize.bilinear(in, 2, 2, 1, 4, 4), 1e-6f);
        assertArrayEquals(expected, Resize.bilinearUint8(in, 2, 2, 1, 4, 4), 0f);
    }

    @Test
    void downsampleWidensTheFilterAsPilDoes() {
        // 4 → 2: the triangle is stretched to support 2 around centres 1 and 3, so output 0 weighs inputs
        // 0, 1, 2 by 0.75, 0.75, 0.25 (normalised: 3/7, 3/7, 1/7) and output 1 weighs 1, 2, 3 by 1/7, 3/7, 3/7.
        // That is PIL's (and hence torchvision's) result, not the 2×2 block mean one might expect:
        // PIL 9.4 resizes the row [0, 70, 140, 210] to [50, 160], where block means would give [35, 175].
        float[] in = new float[16];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                in[r * 4 + c] = 16 * r + c * c;
            }
        }
        // rows: 16·(3/7·0 + 3/7·1 + 1/7·2) = 80/7 and 16·(1/7·1 + 3/7·2 + 3/7·3) = 256/7;
        // columns (c²): 3/7·0 + 3/7·1 + 1/7·4 = 1 and 1/7·1 + 3/7·4 + 3/7·9 = 40/7.
        float[] expected = {80f / 7 + 1, 80f / 7 + 40f / 7, 256f / 7 + 1, 256f / 7 + 40f / 7};
        assertArrayEquals(expected, Resize.bilinear(in, 4, 4, 1, 2, 2), 1e-5f);

        float[] row = {0, 70, 140, 210};
        assertArrayEquals(new float[] {50, 160}, Resize.bilinearUint8(row, 1, 4, 1, 1, 2), 0f);
        assertArrayEquals(new float[] {50, 160}, Resize.bilinear(row, 1, 4, 1, 1, 2), 1e-4f);
    }

    @Test
    void downsampleToOnePixelIsTheMean() {
        // 2 → 1: one output at centre 1 with support 2 weighs both inputs 0.75, i.e. equally.
        float[] in = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; // 2×2×3
        assertArrayEquals(new float[] {5.5f, 6.5f, 7.5f}, Resize.bilinear(in, 2, 2, 3, 1, 1), 1e-6f);
        // 4 → 1: centre 2, support 4, weights 0.625, 0.875, 0.875, 0.625: symmetric, so a linear ramp
        // gives its mean (a non-linear row would not)
        float[] ramp = {0, 1, 2, 3};
        assertArrayEquals(new float[] {1.5f}, Resize.bilinear(ramp, 1, 4, 1, 1, 1), 1e-6f);
    }

    @Test
    void matchesThePlainDefinition() {
        SplittableRandom rng = new SplittableRandom(7);
        int[][] cases = {{13, 17, 5, 7}, {5, 7, 13, 17}, {9, 9, 4, 20}, {31, 3, 6, 3}, {3, 31, 3, 6}, {1, 1, 3, 2},
            {64, 48, 7, 5}, {10, 10, 10, 3}};
        for (int[] k : cases) {
            int h = k[0];
            int w = k[1];
            int oh = k[2];
            int ow = k[3];
            float[] in = new float[h * w * 3];
            for (int i = 0; i < in.length; i++) {
                in[i] = (float) rng.nextGaussian();
            }
            float[] got = Resize.bilinear(in, h, w, 3, oh, ow);
            float[] want = reference(in, h, w, 3, oh, ow);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], EPS, h + "x" + w + " -> " + oh + "x" + ow + " at " + i);
            }
        }
    }

    /**
     * The resize written from its definition, per output pixel and without PIL's index bounds: every
     * input pixel j of an axis gets the weight max(0, 1 − |j + ½ − centre| / s) with
     * centre = (i + ½)·in/out and s = max(in/out, 1), normalised to sum 1; 2-D weights are products.
     */
    static float[] reference(float[] in, int h, int w, int c, int oh, int ow) {
        float[] out = new float[oh * ow * c];
        for (int i = 0; i < oh; i++) {
            double[] wy = weights(h, oh, i);
            for (int j = 0; j < ow; j++) {
                double[] wx = weights(w, ow, j);
                for (int ch = 0; ch < c; ch++) {
                    double acc = 0;
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            acc += wy[y] * wx[x] * in[(y * w + x) * c + ch];
                        }
                    }
                    out[(i * ow + j) * c + ch] = (float) acc;
                }
            }
        }
        return out;
    }

    private static double[] weights(int in, int out, int i) {
        double scale = (double) in / out;
        double s = Math.max(scale, 1);
        double centre = (i + 0.5) * scale;
        double[] wts = new double[in];
        double sum = 0;
        for (int j = 0; j < in; j++) {
            wts[j] = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / s);
            sum += wts[j];
        }
        for (int j = 0; j < in; j++) {
            wts[j] /= sum;
        }
        return wts;
    }

    @Test
    void uint8PathMatchesPilBitForBit() {
        float[] src = ImageTestSupport.raw("pil/src_13x17.rgb");
        // The fixture's source bytes come from a fixed LCG; rebuilding them checks that the file is intact.
        long state = 12345;
        for (float v : src) {
            state = (state * 1103515245L + 12345) % (1L << 31);
            assertEquals((state >> 16) & 0xFF, (int) v);
        }
        int[][] sizes = {{5, 7}, {20, 30}, {13, 9}, {31, 4}, {1, 1}, {6, 17}, {13, 8}, {3, 4}, {13, 17}};
        for (int[] s : sizes) {
            float[] pil = ImageTestSupport.raw("pil/bilinear_" + s[0] + "x" + s[1] + ".rgb");
            float[] got = Resize.bilinearUint8(src, 13, 17, 3, s[0], s[1]);
            assertArrayEquals(pil, got, 0f, "13x17 -> " + s[0] + "x" + s[1]);
            assertArrayEquals(pil, Resize.apply(new Image(13, 17, src, false), s[0], s[1]).pixels(), 0f);
            // The float variant differs from PIL only by PIL's two 8-bit roundings.
            float[] f = Resize.bilinear(src, 13, 17, 3, s[0], s[1]);
            for (int i = 0; i < f.length; i++) {
                assertTrue(Math.abs(f[i] - pil[i]) <= 1.0f, "float path vs PIL at " + i + ": " + f[i] + " vs " + pil[i]);
            }
        }
    }

    @Test
    void windowEqualsFullResizeThenCrop() {
        SplittableRandom rng = new SplittableRandom(3);
        for (boolean bytes : new boolean[] {true, false}) {
            for (int t = 0; t < 20; t++) {
                int h = 1 + rng.nextInt(40);
                int w = 1 + rng.nextInt(40);
                int oh = 1 + rng.nextInt(40);
                int ow = 1 + rng.nextInt(40);
                int rows = 1 + rng.nextInt(oh);
                int cols = 1 + rng.nextInt(ow);
                int top = rng.nextInt(oh - rows + 1);
                int left = rng.nextInt(ow - cols + 1);
                float[] in = new float[h * w * 3];
                for (int i = 0; i < in.length; i++) {
                    in[i] = bytes ? rng.nextInt(256) : (float) rng.nextGaussian();
                }
                Image img = new Image(h, w, in, !bytes);
                float[] full = Resize.apply(img, oh, ow).pixels();
                float[] window = Resize.window(img, oh, ow, top, left, rows, cols);
                assertArrayEquals(Crop.apply(full, oh, ow, 3, top, left, rows, cols), window);
            }
        }
    }

    @Test
    void normalizedImagesTakeTheFloatPath() {
        float[] row = {0, 0, 0, 70, 70, 70, 140, 140, 140, 210, 210, 210}; // 1×4×3 grey
        float[] asBytes = Resize.apply(new Image(1, 4, row, false), 1, 2).pixels();
        float[] asFloats = Resize.apply(new Image(1, 4, row, true), 1, 2).pixels();
        assertEquals(50f, asBytes[0]);
        assertEquals(50f, asFloats[0], 1e-4f);
        // A non-integer value under normalized=false also falls back to float arithmetic.
        float[] odd = row.clone();
        odd[3] = 69.5f; // pixel 1, red
        assertTrue(Resize.apply(new Image(1, 4, odd, false), 1, 2).pixels()[0] != 50f);
    }

    @Test
    void cropAndFlip() {
        float[] in = new float[3 * 4 * 3];
        for (int i = 0; i < in.length; i++) {
            in[i] = i;
        }
        Image img = new Image(3, 4, in, false);
        Image c = Crop.apply(img, 1, 2, 2, 2);
        assertArrayEquals(new float[] {18, 19, 20, 21, 22, 23, 30, 31, 32, 33, 34, 35}, c.pixels());
        Image f = Flip.horizontal(new Image(1, 3, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, false));
        assertArrayEquals(new float[] {7, 8, 9, 4, 5, 6, 1, 2, 3}, f.pixels());
        Image centre = Crop.center(img, 1, 2);
        assertArrayEquals(new float[] {15, 16, 17, 18, 19, 20}, centre.pixels());
    }
}
