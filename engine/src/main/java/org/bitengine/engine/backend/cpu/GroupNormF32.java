package org.bitengine.engine.backend.cpu;

import static org.bitengine.engine.backend.cpu.RowKernels.affine2;
import static org.bitengine.engine.backend.cpu.RowKernels.allFinite;
import static org.bitengine.engine.backend.cpu.RowKernels.scaleShift;
import static org.bitengine.engine.backend.cpu.RowKernels.scaleShiftRelu;
import static org.bitengine.engine.backend.cpu.RowKernels.shiftedMoments;

/**
 * Float32 GroupNorm of channels-last x viewed as {@code [n, s, c]} (s spatial positions), forward and
 * backward, plus a fused GroupNorm → ReLU pair. Same contract as {@link CpuReference#groupNorm} and
 * {@link CpuReference#groupNormBackward}, which it is tested against: mean and rstd {@code [n, groups]},
 * gamma, beta, dgamma, dbeta {@code [c]}.
 *
 * <h2>How</h2>
 * The work is cut into (sample, group) units; a thread takes a contiguous run of them, which within one
 * sample is a contiguous range of channels, and walks its rows {@code p = 0 .. s−1}: per-channel sums are
 * accumulated in double along each row (vectorised over channels, see {@link RowKernels}) and combined
 * into per-group statistics afterwards. The forward pass reads x twice (statistics, output); the moments
 * are shifted by the sample's first row so the one-pass variance does not cancel, and the group variance
 * is assembled from per-channel means and squared deviations (Chan's formula). The backward pass reads dy
 * and x for the per-channel sums Σdy and Σdy·(x−μ), then again for dx.
 *
 * <h2>Determinism</h2>
 * A group's statistics are summed channel by channel in row order and then over its channels in order,
 * whatever run of units it sits in; dgamma and dbeta are kept per sample and added over samples in order
 * at the end. Results therefore do not depend on the thread count.
 *
 * <h2>Fused ReLU</h2>
 * {@link #forwardRelu} writes {@code max(GroupNorm(x), 0)} in the same pass; {@link #backwardRelu} takes
 * the gradient of that output and the output itself, whose sign is the ReLU's mask ({@code y > 0} exactly
 * where the normalised value is), so the separate ReLU tensor and its backward pass disappear. The mask is
 * applied as a multiplication by {@code signum(max(y, 0))}, which vectorises; that would turn a non-finite
 * gradient behind an inactive unit into NaN instead of 0, so a piece whose sums come out non-finite is
 * redone with an exact (scalar) select.
 */
final class GroupNormF32 {

    /** Elements below which a run of units is not worth a thread. */
    private static final int GRAIN = 1 << 15;

    private GroupNormF32() {}

    /**
     * @param x     input {@code [n, s, c]}
     * @param gamma scale {@code [c]}
     * @param beta  shift {@code [c]}
     * @param y     output {@code [n, s, c]}, overwritten
     * @param mean  per-group mean {@code [n, groups]}, overwritten
     * @param rstd  per-group {@code 1/sqrt(var + eps)} {@code [n, groups]}, overwritten
     */
    static void forward(float[] x, int n, int s, int c, int groups, float[] gamma, float[] beta, double eps,
                        float[] y, float[] mean, float[] rstd) {
        forward(x, n, s, c, groups, gamma, beta, eps, y, mean, rstd, false);
    }

    /** {@link #forward} followed by ReLU in the same pass: y = max(GroupNorm(x), 0), NaN passing through. */
    static void forwardRelu(float[] x, int n, int s, int c, int groups, float[] gamma, float[] beta, double eps,
                            float[] y, float[] mean, float[] rstd) {
        forward(x, n, s, c, groups, gamma, beta, eps, y, mean, rstd, true);
    }

    /**
     * @param dy     gradient of the output {@code [n, s, c]}
     * @param x      the forward input {@code [n, s, c]}
     * @param gamma  scale {@code [c]}
     * @param mean   per-group mean from the forward pass {@code [n, groups]}
     * @param rstd   per-group rstd from the forward pass {@code [n, groups]}
     * @param dx     gradient of x {@code [n, s, c]}, overwritten
     * @param dgamma {@code [c]}, overwritten
     * @param dbeta  {@code [c]}, overwritten
     */
    static void backward(float[] dy, float[] x, int n, int s, int c, int groups, float[] gamma, float[] mean, float[] rstd,
                         float[] dx, float[] dgamma, float[] dbeta) {
        backward(dy, x, null, n, s, c, groups, gamma, mean, rstd, dx, dgamma, dbeta);
    }

    /**
     * Backward of {@link #forwardRelu}: as {@link #backward} with dy replaced by {@code y > 0 ? dy : 0}.
     *
     * @param dy gradient of the fused output {@code [n, s, c]}
     * @param y  the fused output {@code [n, s, c]} (its sign is the ReLU mask)
     */
    static void backwardRelu(float[] dy, float[] x, float[] y, int n, int s, int c, int groups, float[] gamma, float[] mean,
                             float[] rstd, float[] dx, float[] dgamma, float[] dbeta) {
        if (y.length != x.length) throw new IllegalArgumentException("GroupNorm+ReLU backward: y has " + y.length + " elements, x " + x.length);
        backward(dy, x, y, n, s, c, groups, gamma, mean, rstd, dx, dgamma, dbeta);
    }

    // ---- forward --------------------------------------------------------------------------------------

    private static void forward(float[] x, int n, int s, int c, int groups, float[] gamma, float[] beta, double eps,
                                float[] y, float[] mean, float[] rstd, boolean relu) {
        check(n, s, c, groups, x, y, gamma, mean, rstd);
        if (beta.length != c) throw new IllegalArgumentException("GroupNorm: beta has " + beta.length + " elements, expected " + c);
        if (s == 0 || c == 0) {
            java.util.Arrays.fill(mean, Float.NaN); // 0/0, as the reference
            java.util.Arrays.fill(rstd, Float.NaN);
            return;
        }
        int cg = c / groups;
        forUnits(n, s, cg, groups, (b, g0, g1) -> {
            int c0 = g0 * cg, cw = (g1 - g0) * cg, base = b * s * c + c0;
            double[] shift = new double[cw];
            for (int j = 0; j < cw; j++) shift[j] = x[base + j];
            double[] s1 = new double[cw], s2 = new double[cw];
            for (int p = 0; p < s; p++) shiftedMoments(s1, s2, x, base + p * c, shift, cw);
            double[] scale = new double[cw], offset = new double[cw];
            for (int g = g0; g < g1; g++) {
                int j0 = (g - g0) * cg;
                double mu = 0;
                for (int j = j0; j < j0 + cg; j++) mu += shift[j] + s1[j] / s;
                mu /= cg;
                // Σ (x − μ)² over the group = Σ_channels [Σ (x − μ_ch)² + s·(μ_ch − μ)²].
                double m2 = 0;
                for (int j = j0; j < j0 + cg; j++) {
                    double muCh = shift[j] + s1[j] / s;
                    m2 += Math.max(0, s2[j] - s1[j] * s1[j] / s) + s * (muCh - mu) * (muCh - mu);
                }
                double r = 1.0 / Math.sqrt(m2 / ((double) s * cg) + eps);
                mean[b * groups + g] = (float) mu;
                rstd[b * groups + g] = (float) r;
                for (int j = j0; j < j0 + cg; j++) {
                    scale[j] = r * gamma[c0 + j];
                    offset[j] = beta[c0 + j] - mu * scale[j];
                }
            }
            for (int p = 0; p < s; p++) {
                if (relu) scaleShiftRelu(y, x, base + p * c, scale, offset, cw);
                else scaleShift(y, x, base + p * c, scale, offset, cw);
            }
        });
    }

    // ---- backward -------------------------------------------------------------------------------------

    /** mask: the fused output whose sign gates dy, or null for plain GroupNorm. */
    private static void backward(float[] dy, float[] x, float[] mask, int n, int s, int c, int groups, float[] gamma,
                                 float[] mean, float[] rstd, float[] dx, float[] dgamma, float[] dbeta) {
        check(n, s, c, groups, x, dx, gamma, mean, rstd);
        if (dy.length != x.length || dbeta.length != c || dgamma.length != c) {
            throw new IllegalArgumentException("GroupNorm backward: dy " + dy.length + ", dgamma " + dgamma.length + ", dbeta "
                    + dbeta.length + " elements do not match x " + x.length + " / " + c + " channels");
        }
        java.util.Arrays.fill(dgamma, 0f);
        java.util.Arrays.fill(dbeta, 0f);
        if (s == 0 || c == 0 || n == 0) return;
        int cg = c / groups;
        double count = (double) s * cg;
        // Per-sample contributions, added over samples in order afterwards so the split cannot matter.
        double[] partGamma = new double[n * c], partBeta = new double[n * c];
        forUnits(n, s, cg, groups, (b, g0, g1) -> {
            int c0 = g0 * cg, cw = (g1 - g0) * cg, base = b * s * c + c0;
            double[] mu = new double[cw], sumDy = new double[cw], sumDyX = new double[cw];
            for (int j = 0; j < cw; j++) mu[j] = mean[b * groups + g0 + j / cg];
            boolean exact = false;
            if (mask == null) {
                for (int p = 0; p < s; p++) sums(sumDy, sumDyX, dy, x, base + p * c, mu, cw);
            } else {
                for (int p = 0; p < s; p++) sumsMasked(sumDy, sumDyX, dy, x, mask, base + p * c, mu, cw);
                if (!allFinite(sumDy, cw) || !allFinite(sumDyX, cw)) {
                    exact = true;
                    java.util.Arrays.fill(sumDy, 0);
                    java.util.Arrays.fill(sumDyX, 0);
                    for (int p = 0; p < s; p++) sumsExact(sumDy, sumDyX, dy, x, mask, base + p * c, mu, cw);
                }
            }
            double[] pc = new double[cw], qc = new double[cw], rc = new double[cw];
            for (int g = g0; g < g1; g++) {
                int j0 = (g - g0) * cg;
                double r = rstd[b * groups + g];
                double sumD = 0, sumDX = 0;
                for (int j = j0; j < j0 + cg; j++) {
                    double dxHat = r * sumDyX[j]; // Σ dy·x̂ for this channel
                    partGamma[b * c + c0 + j] = dxHat;
                    partBeta[b * c + c0 + j] = sumDy[j];
                    sumD += gamma[c0 + j] * sumDy[j];
                    sumDX += gamma[c0 + j] * dxHat;
                }
                double meanD = sumD / count, meanDX = sumDX / count;
                for (int j = j0; j < j0 + cg; j++) {
                    pc[j] = r * gamma[c0 + j];
                    qc[j] = r * r * meanDX;
                    rc[j] = r * meanD;
                }
            }
            for (int p = 0; p < s; p++) {
                int off = base + p * c;
                if (mask == null) affine2(dx, dy, x, off, pc, mu, qc, rc, cw);
                else if (!exact) affine2Masked(dx, dy, x, mask, off, pc, mu, qc, rc, cw);
                else affine2Exact(dx, dy, x, mask, off, pc, mu, qc, rc, cw);
            }
        });
        for (int ch = 0; ch < c; ch++) {
            double sg = 0, sb = 0;
            for (int b = 0; b < n; b++) {
                sg += partGamma[b * c + ch];
                sb += partBeta[b * c + ch];
            }
            dgamma[ch] = (float) sg;
            dbeta[ch] = (float) sb;
        }
    }

    /** sumDy[j] += dy, sumDyX[j] += dy·(x − mu[j]) over one row. */
    private static void sums(double[] sumDy, double[] sumDyX, float[] dy, float[] x, int off, double[] mu, int n) {
        for (int j = 0; j < n; j++) {
            double d = dy[off + j];
            sumDy[j] += d;
            sumDyX[j] += d * (x[off + j] - mu[j]);
        }
    }

    /** {@link #sums} of dy·[y > 0], the mask as a vectorisable multiplication (NaN where dy is not finite). */
    private static void sumsMasked(double[] sumDy, double[] sumDyX, float[] dy, float[] x, float[] y, int off, double[] mu, int n) {
        for (int j = 0; j < n; j++) {
            double d = dy[off + j] * Math.signum(Math.max(y[off + j], 0f));
            sumDy[j] += d;
            sumDyX[j] += d * (x[off + j] - mu[j]);
        }
    }

    /** {@link #sums} of {@code y > 0 ? dy : 0}, exactly (scalar). */
    private static void sumsExact(double[] sumDy, double[] sumDyX, float[] dy, float[] x, float[] y, int off, double[] mu, int n) {
        for (int j = 0; j < n; j++) {
            double d = y[off + j] > 0 ? dy[off + j] : 0;
            sumDy[j] += d;
            sumDyX[j] += d * (x[off + j] - mu[j]);
        }
    }

    private static void affine2Masked(float[] dx, float[] dy, float[] x, float[] y, int off, double[] p, double[] m, double[] q,
                                      double[] r, int n) {
        for (int j = 0; j < n; j++) {
            float d = dy[off + j] * Math.signum(Math.max(y[off + j], 0f));
            dx[off + j] = (float) (d * p[j] - (x[off + j] - m[j]) * q[j] - r[j]);
        }
    }

    private static void affine2Exact(float[] dx, float[] dy, float[] x, float[] y, int off, double[] p, double[] m, double[] q,
                                     double[] r, int n) {
        for (int j = 0; j < n; j++) {
            float d = y[off + j] > 0 ? dy[off + j] : 0f;
            dx[off + j] = (float) (d * p[j] - (x[off + j] - m[j]) * q[j] - r[j]);
        }
    }

    // ---- work split -----------------------------------------------------------------------------------

    /** One sample's run of whole groups [g0, g1). */
    @FunctionalInterface
    private interface Piece {
        void run(int b, int g0, int g1);
    }

    /** Splits the n·groups units over the threads; each thread gets its run cut at sample boundaries. */
    private static void forUnits(int n, int s, int cg, int groups, Piece piece) {
        long unitSize = Math.max(1L, (long) s * cg);
        int grain = (int) Math.max(1, GRAIN / unitSize);
        CpuParallel.forRange(0, n * groups, grain, (u0, u1) -> {
            for (int u = u0; u < u1; ) {
                int b = u / groups, g0 = u % groups, g1 = Math.min(groups, g0 + (u1 - u));
                piece.run(b, g0, g1);
                u += g1 - g0;
            }
        });
    }

    private static void check(int n, int s, int c, int groups, float[] x, float[] out, float[] gamma, float[] mean, float[] rstd) {
        if (groups < 1 || c % groups != 0) throw new IllegalArgumentException("GroupNorm: " + c + " channels not divisible by " + groups + " groups");
        if ((long) n * s * c != x.length || out.length != x.length) {
            throw new IllegalArgumentException("GroupNorm: [" + n + ", " + s + ", " + c + "] does not match arrays of " + x.length
                    + " and " + out.length + " elements");
        }
        if (gamma.length != c) throw new IllegalArgumentException("GroupNorm: gamma has " + gamma.length + " elements, expected " + c);
        if (mean.length != n * groups || rstd.length != n * groups) {
            throw new IllegalArgumentException("GroupNorm: mean/rstd have " + mean.length + "/" + rstd.length + " elements, expected "
                    + n * groups);
        }
    }
}
