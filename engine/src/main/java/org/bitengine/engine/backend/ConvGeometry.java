package org.bitengine.engine.backend;

/**
 * The full geometry of one convolution: input x [n, h, w, c] (NHWC), kernel [kh, kw, c/groups, o]
 * (HWIO), output y [n, oh, ow, o] (NHWC).
 */
public record ConvGeometry(int n, int h, int w, int c, int kh, int kw, int o, ConvSpec spec) {

    public ConvGeometry {
        if (c % spec.groups() != 0 || o % spec.groups() != 0) {
            throw new IllegalArgumentException("channels in " + c + " and out " + o + " must be divisible by groups " + spec.groups());
        }
        if (h + spec.padTop() + spec.padBottom() < kh || w + spec.padLeft() + spec.padRight() < kw) {
            throw new IllegalArgumentException("kernel " + kh + "x" + kw + " larger than padded input " + h + "x" + w);
        }
    }

    public int oh() {
        return (h + spec.padTop() + spec.padBottom() - kh) / spec.strideH() + 1;
    }

    public int ow() {
        return (w + spec.padLeft() + spec.padRight() - kw) / spec.strideW() + 1;
    }

    /** Input channels per group (the kernel's I dimension). */
    public int cPerGroup() {
        return c / spec.groups();
    }

    /** Output channels per group. */
    public int oPerGroup() {
        return o / spec.groups();
    }
}
