package org.bitengine.io.image;

import static org.bitengine.io.IoErrors.error;

import java.util.SplittableRandom;
import org.bitengine.io.data.Image;

/**
 * The input pipelines of the official BiT PyTorch code ({@code bit_pytorch/train.py}):
 * <pre>
 * train: Resize((precrop, precrop)) → RandomCrop((crop, crop)) → RandomHorizontalFlip() → ToTensor() → Normalize(0.5, 0.5)
 * eval:  Resize((crop, crop)) → ToTensor() → Normalize(0.5, 0.5)
 * </pre>
 * The resize ignores the aspect ratio (BiT squashes to a square) and is PIL's antialiased bilinear
 * ({@link Resize}); the scaling is {@code (x / 255 − 0.5) / 0.5} in float, the operations ToTensor
 * and Normalize perform. For an image that is already {@link Image#normalized() normalized} only the
 * geometric steps apply. The random crop's offsets are uniform over every position inside the
 * resized image, and the flip happens with probability ½, as torchvision draws them (from a different
 * generator, so individual draws differ).
 *
 * <p>Other models take the same geometry with their own {@link Preprocessing} (EfficientNet:
 * ImageNet mean/std, or the constants of a converted Keras model), and training may add {@link KerasAugmentation}'s
 * rotation, translation and contrast after the flip.
 */
public final class Transforms {

    private Transforms() {
    }

    /** BiT's training pipeline: resize to precrop², random crop² window, random left-right flip, scale to [−1, 1]. */
    public static Transform train(int precrop, int crop) {
        return train(precrop, crop, Preprocessing.MINUS1_1, KerasAugmentation.NONE);
    }

    /** Training: resize to precrop², random crop² window, random left-right flip, {@code extra}, {@code scaling}. */
    public static Transform train(int precrop, int crop, Preprocessing scaling, KerasAugmentation extra) {
        if (crop <= 0 || precrop <= 0) {
            throw error("image sizes must be positive, got precrop " + precrop + " and crop " + crop
                    + "; pass a positive resolution");
        }
        if (precrop < crop) {
            throw error("precrop size " + precrop + " is smaller than crop size " + crop
                    + "; the random crop must fit inside the resized image, so pass precrop >= crop");
        }
        return new Pipeline(precrop, crop, true, scaling, extra);
    }

    /** BiT's evaluation pipeline: resize to crop², scale to [−1, 1]. */
    public static Transform eval(int crop) {
        return eval(crop, Preprocessing.MINUS1_1);
    }

    /** Evaluation: resize to crop², {@code scaling}. */
    public static Transform eval(int crop, Preprocessing scaling) {
        if (crop <= 0) {
            throw error("image size must be positive, got crop " + crop + "; pass a positive resolution");
        }
        return new Pipeline(crop, crop, false, scaling, KerasAugmentation.NONE);
    }

    /** No augmentation: the same as {@link #eval(int)}, for training runs that must be deterministic. */
    public static Transform noAugment(int crop) {
        return eval(crop);
    }

    /**
     * Resize to {@code precrop}², a {@code crop}² window, scale; with {@code augment} the window is at a
     * random position and flipped with probability ½, otherwise it is the whole image (precrop = crop)
     * and {@code rng} is not drawn from.
     */
    private record Pipeline(int precrop, int crop, boolean augment, Preprocessing scaling, KerasAugmentation extra)
            implements Transform {
        @Override
        public float[] apply(Image image, SplittableRandom rng) {
            int top = 0;
            int left = 0;
            boolean flip = false;
            if (augment) {
                top = rng.nextInt(precrop - crop + 1);
                left = rng.nextInt(precrop - crop + 1);
                flip = rng.nextDouble() < 0.5;
            }
            float[] px = Resize.window(image, precrop, precrop, top, left, crop, crop);
            if (flip) {
                Flip.horizontalInPlace(px, crop, crop, 3);
            }
            if (augment && !extra.isNone()) {
                px = extra.apply(px, crop, crop, !image.normalized(), rng);
            }
            if (!image.normalized()) {
                scaling.applyInPlace(px);
            }
            return px;
        }

        @Override
        public int outputHeight() {
            return crop;
        }

        @Override
        public int outputWidth() {
            return crop;
        }

        @Override
        public String toString() {
            String scale = ", " + scaling.name();
            return augment ? "train(resize " + precrop + "x" + precrop + ", random crop " + crop + "x" + crop + ", random flip"
                    + (extra.isNone() ? "" : ", " + extra) + scale + ")"
                    : "eval(resize " + crop + "x" + crop + scale + ")";
        }
    }
}
