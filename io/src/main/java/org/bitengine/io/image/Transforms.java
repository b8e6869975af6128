package org.bitengine.io.image;

import static org.bitengine.io.image.ImageErrors.error;

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
 */
public final class Transforms {

    private Transforms() {
    }

    /** Training: resize to precrop², random crop² window, random left-right flip, scale. */
    public static Transform train(int precrop, int crop) {
        if (crop <= 0 || precrop <= 0) {
            throw error("image sizes must be positive, got precrop " + precrop + " and crop " + crop
                    + "; pass a positive resolution");
        }
        if (precrop < crop) {
            throw error("precrop size " + precrop + " is smaller than crop size " + crop
                    + "; the random crop must fit inside the resized image, so pass precrop >= crop");
        }
        return new Train(precrop, crop);
    }

    /** Evaluation: resize to crop², scale. */
    public static Transform eval(int crop) {
        if (crop <= 0) {
            throw error("image size must be positive, got crop " + crop + "; pass a positive resolution");
        }
        return new Eval(crop);
    }

    /** No augmentation: the same as {@link #eval(int)}, for training runs that must be deterministic. */
    public static Transform noAugment(int crop) {
        return eval(crop);
    }

    /** BiT's input scaling of 0..255 values to [-1, 1], in place: {@code (x / 255 − 0.5) / 0.5}. */
    public static void scaleToUnitRange(float[] px) {
        for (int i = 0; i < px.length; i++) {
            px[i] = (px[i] / 255f - 0.5f) / 0.5f;
        }
    }

    private record Train(int precrop, int crop) implements Transform {
        @Override
        public float[] apply(Image image, SplittableRandom rng) {
            int top = rng.nextInt(precrop - crop + 1);
            int left = rng.nextInt(precrop - crop + 1);
            boolean flip = rng.nextDouble() < 0.5;
            float[] px = Resize.window(image, precrop, precrop, top, left, crop, crop);
            if (flip) {
                Flip.horizontalInPlace(px, crop, crop, 3);
            }
            if (!image.normalized()) {
                scaleToUnitRange(px);
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
            return "train(resize " + precrop + "x" + precrop + ", random crop " + crop + "x" + crop + ", random flip)";
        }
    }

    private record Eval(int crop) implements Transform {
        @Override
        public float[] apply(Image image, SplittableRandom rng) {
            float[] px = Resize.window(image, crop, crop, 0, 0, crop, crop);
            if (!image.normalized()) {
                scaleToUnitRange(px);
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
            return "eval(resize " + crop + "x" + crop + ")";
        }
    }
}
