package org.bitengine.engine.backend;

/**
 * Stride, padding and groups of a 2-D convolution.
 *
 * <p>Padding is given per side because both conventions exist in the wild: BiT, torchvision and timm
 * pad symmetrically, Keras pads strided convolutions asymmetrically ("correct_pad").
 */
public record ConvSpec(int strideH, int strideW, int padTop, int padBottom, int padLeft, int padRight, int groups) {

    public ConvSpec {
        if (strideH < 1 || strideW < 1) throw new IllegalArgumentException("stride must be >= 1");
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) throw new IllegalArgumentException("padding must be >= 0");
        if (groups < 1) throw new IllegalArgumentException("groups must be >= 1");
    }

    /** Same stride and padding on both axes, one group. */
    public static ConvSpec of(int stride, int pad) {
        return new ConvSpec(stride, stride, pad, pad, pad, pad, 1);
    }

    public ConvSpec withGroups(int g) {
        return new ConvSpec(strideH, strideW, padTop, padBottom, padLeft, padRight, g);
    }
}
