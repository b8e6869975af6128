package org.bitengine.engine.backend.cpu;

import org.bitengine.engine.backend.ConvGeometry;

/**
 * 2-D convolution written as the definition, in double precision: the reference that {@link Conv2dF32} and
 * the gradient checks are tested against. Deliberately plain loops, one output element at a time, so that
 * it can be checked by eye; never used where speed matters.
 *
 * <p>Layouts: x {@code [n, h, w, c]} (NHWC), w {@code [kh, kw, c/groups, o]} (HWIO), y
 * {@code [n, oh, ow, o]} (NHWC). Output channel {@code oc} belongs to group {@code oc / (o/groups)} and sees
 * the input channels {@code g*(c/groups) ..} of that group. Out-of-image taps read zero (zero padding;
 * top/left padding shifts the window, bottom/right padding only lets it run past the edge).
 *
 * <p>Every function overwrites its output array.
 */
public final class Conv2dReference {

    private Conv2dReference() {
    }

    /**
     * {@code y[b,oy,ox,oc] = Σ_{ky,kx,ci} x[b, oy*sh-pt+ky, ox*sw-pl+kx, g*cpg+ci] · w[ky,kx,ci,oc]}.
     *
     * @param x input {@code [n, h, w, c]}
     * @param w kernel {@code [kh, kw, c/groups, o]}
     * @param y output {@code [n, oh, ow, o]}, overwritten
     */
    public static void forward(ConvGeometry g, double[] x, double[] w, double[] y) {
        ConvBuffers.check("Conv2dReference.forward", g, "x", len(x), "w", len(w), "y", len(y));
        int oh = g.oh(), ow = g.ow(), cpg = g.cPerGroup(), opg = g.oPerGroup();
        for (int b = 0; b < g.n(); b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int oc = 0; oc < g.o(); oc++) {
                        int group = oc / opg;
                        double sum = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int iy = oy * g.spec().strideH() - g.spec().padTop() + ky;
                            if (iy < 0 || iy >= g.h()) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int ix = ox * g.spec().strideW() - g.spec().padLeft() + kx;
                                if (ix < 0 || ix >= g.w()) continue;
                                for (int ci = 0; ci < cpg; ci++) {
                                    sum += x[xIndex(g, b, iy, ix, group * cpg + ci)] * w[wIndex(g, ky, kx, ci, oc)];
                                }
                            }
                        }
                        y[yIndex(g, b, oy, ox, oc)] = sum;
                    }
                }
            }
        }
    }

    /**
     * Gradient with respect to the input: the adjoint of {@link #forward} in x, i.e. every product
     * {@code x[...]·w[...]} of the forward sum sends {@code dy·w} back to the x element it read.
     *
     * @param dy gradient of the output {@code [n, oh, ow, o]}
     * @param w  kernel {@code [kh, kw, c/groups, o]}
     * @param dx gradient of the input {@code [n, h, w, c]}, overwritten
     */
    public static void backwardData(ConvGeometry g, double[] dy, double[] w, double[] dx) {
        ConvBuffers.check("Conv2dReference.backwardData", g, "dx", len(dx), "w", len(w), "dy", len(dy));
        java.util.Arrays.fill(dx, 0, g.n() * g.h() * g.w() * g.c(), 0.0);
        int oh = g.oh(), ow = g.ow(), cpg = g.cPerGroup(), opg = g.oPerGroup();
        for (int b = 0; b < g.n(); b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int oc = 0; oc < g.o(); oc++) {
                        int group = oc / opg;
                        double d = dy[yIndex(g, b, oy, ox, oc)];
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int iy = oy * g.spec().strideH() - g.spec().padTop() + ky;
                            if (iy < 0 || iy >= g.h()) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int ix = ox * g.spec().strideW() - g.spec().padLeft() + kx;
                                if (ix < 0 || ix >= g.w()) continue;
                                for (int ci = 0; ci < cpg; ci++) {
                                    dx[xIndex(g, b, iy, ix, group * cpg + ci)] += d * w[wIndex(g, ky, kx, ci, oc)];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Gradient with respect to the kernel:
     * {@code dw[ky,kx,ci,oc] = Σ_{b,oy,ox} x[b, oy*sh-pt+ky, ox*sw-pl+kx, g*cpg+ci] · dy[b,oy,ox,oc]}.
     *
     * @param x  input {@code [n, h, w, c]}
     * @param dy gradient of the output {@code [n, oh, ow, o]}
     * @param dw gradient of the kernel {@code [kh, kw, c/groups, o]}, overwritten
     */
    public static void backwardFilter(ConvGeometry g, double[] x, double[] dy, double[] dw) {
        ConvBuffers.check("Conv2dReference.backwardFilter", g, "x", len(x), "dw", len(dw), "dy", len(dy));
        int oh = g.oh(), ow = g.ow(), cpg = g.cPerGroup(), opg = g.oPerGroup();
        for (int ky = 0; ky < g.kh(); ky++) {
            for (int kx = 0; kx < g.kw(); kx++) {
                for (int ci = 0; ci < cpg; ci++) {
                    for (int oc = 0; oc < g.o(); oc++) {
                        int channel = (oc / opg) * cpg + ci;
                        double sum = 0;
                        for (int b = 0; b < g.n(); b++) {
                            for (int oy = 0; oy < oh; oy++) {
                                int iy = oy * g.spec().strideH() - g.spec().padTop() + ky;
                                if (iy < 0 || iy >= g.h()) continue;
                                for (int ox = 0; ox < ow; ox++) {
                                    int ix = ox * g.spec().strideW() - g.spec().padLeft() + kx;
                                    if (ix < 0 || ix >= g.w()) continue;
                                    sum += x[xIndex(g, b, iy, ix, channel)] * dy[yIndex(g, b, oy, ox, oc)];
                                }
                            }
                        }
                        dw[wIndex(g, ky, kx, ci, oc)] = sum;
                    }
                }
            }
        }
    }

    private static int xIndex(ConvGeometry g, int b, int iy, int ix, int ch) {
        return ((b * g.h() + iy) * g.w() + ix) * g.c() + ch;
    }

    private static int wIndex(ConvGeometry g, int ky, int kx, int ci, int oc) {
        return ((ky * g.kw() + kx) * g.cPerGroup() + ci) * g.o() + oc;
    }

    private static int yIndex(ConvGeometry g, int b, int oy, int ox, int oc) {
        return ((b * g.oh() + oy) * g.ow() + ox) * g.o() + oc;
    }

    private static long len(double[] a) {
        if (a == null) throw new NullPointerException("Conv2dReference: an array argument is null");
        return a.length;
    }
}
