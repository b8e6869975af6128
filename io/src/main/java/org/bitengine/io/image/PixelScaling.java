package org.bitengine.io.image;

import java.util.Locale;

/**
 * How a model wants its 0..255 RGB input scaled, named as a checkpoint's {@code meta/preprocessing}
 * records it. The last step of every input pipeline; images that arrive already normalized skip it.
 */
public enum PixelScaling {

    /** BiT: {@code (x/255 − 0.5)/0.5}, values in [−1, 1] (torchvision's ToTensor + Normalize(0.5, 0.5)). */
    MINUS1_1("minus1-1"),
    /** torchvision and timm ImageNet models: {@code (x/255 − mean)/std} per channel. */
    IMAGENET_MEAN_STD("imagenet-mean-std"),
    /** Keras applications: the 0..255 values as they are; the model rescales and normalises inside. */
    RAW_0_255("raw-0-255");

    /** ImageNet's per-channel RGB mean and standard deviation, as torchvision's transforms give them. */
    static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    private final String metaName;

    PixelScaling(String metaName) {
        this.metaName = metaName;
    }

    /** The name in {@code meta/preprocessing}. */
    public String metaName() {
        return metaName;
    }

    /** The scaling a {@code meta/preprocessing} name stands for, or null when the name is unknown. */
    public static PixelScaling ofMetaName(String name) {
        if (name == null) return null;
        String n = name.toLowerCase(Locale.ROOT);
        for (PixelScaling s : values()) if (s.metaName.equals(n)) return s;
        return null;
    }

    /** Scales {@code hwc} [h, w, 3] of 0..255 values in place. */
    public void applyInPlace(float[] hwc) {
        switch (this) {
            case MINUS1_1 -> {
                for (int i = 0; i < hwc.length; i++) hwc[i] = (hwc[i] / 255f - 0.5f) / 0.5f;
            }
            case IMAGENET_MEAN_STD -> {
                for (int i = 0; i < hwc.length; i++) {
                    int c = i % 3;
                    hwc[i] = (hwc[i] / 255f - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
                }
            }
            case RAW_0_255 -> { }
        }
    }
}
