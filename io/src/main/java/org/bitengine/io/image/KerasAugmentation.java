package org.bitengine.io.image;

import java.util.SplittableRandom;

/**
 * The augmentation layers of Keras' EfficientNet fine-tuning tutorial ("Image classification via
 * fine-tuning with EfficientNet", keras.io/examples/vision/image_classification_efficientnet_fine_tuning):
 * {@code RandomRotation(rotation)}, {@code RandomTranslation(translation, translation)} and
 * {@code RandomContrast(contrast)}; the tutorial's {@code RandomFlip} is the pipeline's own flip.
 * Each factor is Keras' argument, 0 turns the layer off:
 *
 * <ul>
 * <li>rotation: an angle uniform in [−rotation·2π, rotation·2π] about the image centre;</li>
 * <li>translation: shifts uniform in [−translation·H, translation·H] and [−translation·W, translation·W];</li>
 * <li>contrast: a factor uniform in [1 − contrast, 1 + contrast]; each channel becomes
 *     {@code (x − mean)·factor + mean} (mean over the image), clipped to 0..255.</li>
 * </ul>
 *
 * Rotation and translation are one affine map, sampled once with bilinear interpolation and Keras'
 * default {@code fill_mode="reflect"} ({@code d c b a | a b c d | d c b a}); Keras resamples once per
 * layer, so its output is a little blurrier. The draws come from the pipeline's generator, so a
 * run's augmentation is a pure function of its seed.
 */
public record KerasAugmentation(double rotation, double translation, double contrast) {

    public static final KerasAugmentation NONE = new KerasAugmentation(0, 0, 0);

    public KerasAugmentation {
        check("rotation", rotation);
        check("translation", translation);
        check("contrast", contrast);
    }

    private static void check(String name, double factor) {
        if (!(factor >= 0 && factor <= 1)) {
            throw new IllegalArgumentException("random " + name + " factor must be between 0 and 1, got " + factor);
        }
    }

    public boolean isNone() {
        return rotation == 0 && translation == 0 && contrast == 0;
    }

    /**
     * Augments {@code hwc} [h, w, 3]; returns a new array when the geometry changes, else {@code hwc}
     * itself (contrast is applied in place). {@code raw} says the values are 0..255 (and are clipped
     * to that range after the contrast change); normalized inputs are not clipped.
     */
    public float[] apply(float[] hwc, int h, int w, boolean raw, SplittableRandom rng) {
        float[] out = hwc;
        if (rotation > 0 || translation > 0) {
            double angle = rotation > 0 ? uniform(rng, -rotation, rotation) * 2 * Math.PI : 0;
            double dy = translation > 0 ? uniform(rng, -translation, translation) * h : 0;
            double dx = translation > 0 ? uniform(rng, -translation, translation) * w : 0;
            out = affine(hwc, h, w, angle, dy, dx);
        }
        if (contrast > 0) {
            contrastInPlace(out, h * w, (float) uniform(rng, 1 - contrast, 1 + contrast), raw);
        }
        return out;
    }

    private static double uniform(SplittableRandom rng, double lo, double hi) {
        return lo + (hi - lo) * rng.nextDouble();
    }

    /**
     * Output pixel (y, x) takes the input at the inverse map: rotate (y, x) about the centre by −angle,
     * then subtract the shift. A counter-clockwise angle on screen (y grows downwards) as in Keras.
     */
    static float[] affine(float[] src, int h, int w, double angle, double dy, double dx) {
        float[] dst = new float[src.length];
        double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        double cos = Math.cos(angle), sin = Math.sin(angle);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double oy = y - dy - cy, ox = x - dx - cx;
                double sy = cos * oy + sin * ox + cy;
                double sx = -sin * oy + cos * ox + cx;
                int y0 = (int) Math.floor(sy), x0 = (int) Math.floor(sx);
                double fy = sy - y0, fx = sx - x0;
                int ya = reflect(y0, h), yb = reflect(y0 + 1, h), xa = reflect(x0, w), xb = reflect(x0 + 1, w);
                int o = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) {
                    double top = src[(ya * w + xa) * 3 + c] * (1 - fx) + src[(ya * w + xb) * 3 + c] * fx;
                    double bottom = src[(yb * w + xa) * 3 + c] * (1 - fx) + src[(yb * w + xb) * 3 + c] * fx;
                    dst[o + c] = (float) (top * (1 - fy) + bottom * fy);
                }
            }
        }
        return dst;
    }

    /** Index {@code i} folded into [0, n) by mirroring about the edges, the edge pixel repeated. */
    static int reflect(int i, int n) {
        int period = 2 * n;
        int m = Math.floorMod(i, period);
        return m < n ? m : period - 1 - m;
    }

    static void contrastInPlace(float[] hwc, int pixels, float factor, boolean clip) {
        for (int c = 0; c < 3; c++) {
            double sum = 0;
            for (int p = 0; p < pixels; p++) sum += hwc[p * 3 + c];
            float mean = (float) (sum / pixels);
            for (int p = 0; p < pixels; p++) {
                float v = (hwc[p * 3 + c] - mean) * factor + mean;
                hwc[p * 3 + c] = clip ? Math.min(255f, Math.max(0f, v)) : v;
            }
        }
    }

    @Override
    public String toString() {
        if (isNone()) return "none";
        StringBuilder s = new StringBuilder();
        if (rotation > 0) s.append("rotation ").append(rotation);
        if (translation > 0) s.append(s.isEmpty() ? "" : ", ").append("translation ").append(translation);
        if (contrast > 0) s.append(s.isEmpty() ? "" : ", ").append("contrast ").append(contrast);
        return s.toString();
    }
}
