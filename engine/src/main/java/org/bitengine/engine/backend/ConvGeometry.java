package org.bitengine.engine.backend;

import org.bitengine.engine.tensor.Shape;

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

    /** The geometry of x [N,H,W,C] convolved with w [KH,KW,C/groups,O]; a clear message when the shapes do not fit. */
    public static ConvGeometry of(Shape x, Shape w, ConvSpec spec) {
        if (x.rank() != 4 || w.rank() != 4) {
            throw new IllegalArgumentException("conv2d wants x [N,H,W,C] and w [KH,KW,C/groups,O], got x " + x + " and w " + w);
        }
        if (w.dim(2) * spec.groups() != x.dim(3)) {
            throw new IllegalArgumentException("conv2d: kernel " + w + " with " + spec.groups()
                    + " group(s) expects " + w.dim(2) * spec.groups() + " input channels, x " + x + " has " + x.dim(3));
        }
        return new ConvGeometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(1), w.dim(3), spec);
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
