package org.bitengine.io.image;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a model wants its input: RGB values in [0, 255] become {@code (x / 255 − mean[c]) / std[c]} per
 * channel c. Every convention in use is of this form:
 *
 * <pre>
 * name                mean                       std                         network input
 * imagenet-mean-std   (0.485, 0.456, 0.406)      (0.229, 0.224, 0.225)       torchvision, timm
 * minus1-1            (0.5, 0.5, 0.5)            (0.5, 0.5, 0.5)             BiT: x/127.5 − 1
 * keras-builtin       from the file's Normalization layer, see below         Keras EfficientNet
 * </pre>
 *
 * <p>Keras' EfficientNet ({@code keras.applications.efficientnet}) has its preprocessing inside the
 * model: {@code Rescaling(1/255)} then {@code Normalization} ({@code (x − mean) / max(sqrt(variance), 1e-7)},
 * mean and variance are variables of the file) and, in later TF-Keras 2.x releases (the fix for
 * tensorflow/tensorflow#49930, reported against TF 2.5) and in Keras 3, when the model was built with
 * {@code weights="imagenet"}, one more {@code Rescaling(1/sqrt(IMAGENET_STDDEV_RGB))} — because the
 * published ImageNet weights store the standard deviation where the variance belongs. The first
 * releases with EfficientNet (TF 2.3 – 2.5) had no such layer. Which one a file has is read from the
 * file (the extra weightless Rescaling layer is listed in it; for a nested model, which lists no
 * weightless layer, it is assumed when the variance equals the ImageNet std), and the result folded
 * into one mean and std here, so
 * the converted network starts at the stem convolution like the others. {@code meta/input_mean} and
 * {@code meta/input_std} carry the constants in the converted .npz.
 *
 * @param name the convention's name ({@code meta/preprocessing})
 * @param mean per-channel mean of the [0, 1]-scaled input, RGB order
 * @param std  per-channel divisor, RGB order, all &gt; 0
 */
public record Preprocessing(String name, double[] mean, double[] std) {

    public static final Preprocessing IMAGENET = new Preprocessing("imagenet-mean-std", new double[] {0.485, 0.456, 0.406},
            new double[] {0.229, 0.224, 0.225});
    public static final Preprocessing MINUS1_1 = new Preprocessing("minus1-1", new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5});
    public static final String KERAS_BUILTIN = "keras-builtin";

    /** Keras' {@code IMAGENET_STDDEV_RGB}, divided out once more (as a square root) by the extra Rescaling layer. */
    static final double[] KERAS_IMAGENET_STDDEV = {0.229, 0.224, 0.225};

    public Preprocessing {
        if (name == null || mean == null || std == null || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("preprocessing needs a name and 3 means and 3 standard deviations");
        }
        mean = mean.clone();
        std = std.clone();
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("preprocessing '" + name + "': std " + Arrays.toString(std) + " must be finite and > 0");
        }
        for (double m : mean) {
            if (!Double.isFinite(m)) throw new IllegalArgumentException("preprocessing '" + name + "': mean " + Arrays.toString(mean) + " must be finite");
        }
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    /**
     * Keras' built-in input layers folded into one mean and std: {@code Normalization(mean, variance)}
     * and, when {@code imagenetRescaling}, the extra {@code Rescaling(1/sqrt(IMAGENET_STDDEV_RGB))}.
     */
    public static Preprocessing keras(double[] normalizationMean, double[] normalizationVariance, boolean imagenetRescaling) {
        double[] std = new double[3];
        for (int c = 0; c < 3; c++) {
            // Keras divides by max(sqrt(variance), epsilon()) with epsilon() = 1e-7.
            std[c] = Math.max(Math.sqrt(normalizationVariance[c]), 1e-7);
            if (imagenetRescaling) std[c] *= Math.sqrt(KERAS_IMAGENET_STDDEV[c]);
        }
        return new Preprocessing(KERAS_BUILTIN, normalizationMean, std);
    }

    /** The fixed constants of a named convention, or null for a name without fixed constants (keras-builtin, unknown). */
    public static Preprocessing named(String name) {
        if (name == null) return null;
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "imagenet-mean-std" -> IMAGENET;
            case "minus1-1" -> MINUS1_1;
            default -> null;
        };
    }

    /**
     * In place: {@code rgb} holds interleaved R, G, B values in [0, 255] (NHWC order, any number of
     * pixels; length a multiple of 3) and becomes the network input.
     */
    public void applyInPlace(float[] rgb) {
        if (rgb.length % 3 != 0) throw new IllegalArgumentException("preprocessing: " + rgb.length + " values are not RGB triples");
        // float32 x / 255, then (t − mean) / std, each rounded: what torchvision's ToTensor and Normalize
        // compute, so BiT's and torchvision's inputs are bit-identical to the reference pipelines'.
        float[] m = new float[3], s = new float[3];
        for (int c = 0; c < 3; c++) {
            m[c] = (float) mean[c];
            s[c] = (float) std[c];
        }
        for (int i = 0; i < rgb.length; i += 3) {
            for (int c = 0; c < 3; c++) rgb[i + c] = (rgb[i + c] / 255f - m[c]) / s[c];
        }
    }

    /** A copy of {@code rgb} (interleaved RGB in [0, 255]) turned into the network input. */
    public float[] apply(float[] rgb) {
        float[] out = rgb.clone();
        applyInPlace(out);
        return out;
    }

    /** One line for {@code info}. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (RGB in [0, 255] / 255, minus mean (%.4g, %.4g, %.4g), divided by std (%.4g, %.4g, %.4g))",
                name, mean[0], mean[1], mean[2], std[0], std[1], std[2]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && p.name.equals(name) && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(mean) * 17 + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return describe();
    }
}
