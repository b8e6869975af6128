package org.bitengine.engine.backend.cpu;

/**
 * The CPU reference of every primitive except convolution (see {@link Conv2dReference}): plain loops
 * over row-major {@code double[]} arrays, written to be read. Float64 tensors run here directly; it is
 * also the oracle the fast float32 paths are tested against. Statistics accumulate in double.
 */
final class CpuReference {

    private CpuReference() {}

    // ---- weight standardisation: w viewed as [k, o] with k = KH·KW·I, o contiguous -----------

    static double[] weightStandardize(double[] w, int k, int o, double eps) {
        double[] out = new double[w.length];
        for (int oc = 0; oc < o; oc++) {
            double[] m = channelMoments(w, k, o, oc, eps);
            for (int r = 0; r < k; r++) out[r * o + oc] = (w[r * o + oc] - m[0]) * m[1];
        }
        return out;
    }

    /**
     * With ŵ = (w − μ)/s and s = sqrt(var + eps): dw = (g − mean(g) − ŵ·mean(g·ŵ)) / s, exact for any
     * eps because var is the biased variance of w itself.
     */
    static double[] weightStandardizeBackward(double[] w, double[] g, int k, int o, double eps) {
        double[] dw = new double[w.length];
        for (int oc = 0; oc < o; oc++) {
            double[] m = channelMoments(w, k, o, oc, eps);
            double meanG = 0;
            double meanGW = 0;
            for (int r = 0; r < k; r++) {
                double gi = g[r * o + oc];
                meanG += gi;
                meanGW += gi * (w[r * o + oc] - m[0]) * m[1];
            }
            meanG /= k;
            meanGW /= k;
            for (int r = 0; r < k; r++) {
                double wHat = (w[r * o + oc] - m[0]) * m[1];
                dw[r * o + oc] = (g[r * o + oc] - meanG - wHat * meanGW) * m[1];
            }
        }
        return dw;
    }

    /** {mean, 1/sqrt(biased variance + eps)} of column {@code oc} of w viewed as [k, o]. */
    private static double[] channelMoments(double[] w, int k, int o, int oc, double eps) {
        double mean = 0;
        for (int r = 0; r < k; r++) mean += w[r * o + oc];
        mean /= k;
        double var = 0;
        for (int r = 0; r < k; r++) {
            double d = w[r * o + oc] - mean;
            var += d * d;
        }
        var /= k;
        return new double[] {mean, 1.0 / Math.sqrt(var + eps)};
    }

    // ---- GroupNorm: x viewed as [n, s, c] (s = spatial positions), groups of c/groups channels --

    static void groupNorm(double[] x, int n, int s, int c, int groups, double[] gamma, double[] beta, double eps,
                          double[] y, double[] mean, double[] rstd) {
        int cg = c / groups;
        double count = (double) s * cg;
        for (int b = 0; b < n; b++) {
            for (int g = 0; g < groups; g++) {
                double sum = 0;
                for (int p = 0; p < s; p++) {
                    int base = (b * s + p) * c + g * cg;
                    for (int j = 0; j < cg; j++) sum += x[base + j];
                }
                double mu = sum / count;
                double sq = 0;
                for (int p = 0; p < s; p++) {
                    int base = (b * s + p) * c + g * cg;
                    for (int j = 0; j < cg; j++) {
                        double d = x[base + j] - mu;
                        sq += d * d;
                    }
                }
                double r = 1.0 / Math.sqrt(sq / count + eps);
                mean[b * groups + g] = mu;
                rstd[b * groups + g] = r;
                for (int p = 0; p < s; p++) {
                    int base = (b * s + p) * c + g * cg;
                    for (int j = 0; j < cg; j++) {
                        int ch = g * cg + j;
                        y[base + j] = (x[base + j] - mu) * r * gamma[ch] + beta[ch];
                    }
                }
            }
        }
    }

    /** dx = rstd · (d − mean(d) − x̂·mean(d·x̂)) per group, with d = dy·gamma; dgamma = Σ dy·x̂; dbeta = Σ dy. */
    static void groupNormBackward(double[] dy, double[] x, int n, int s, int c, int groups, double[] gamma,
                                  double[] mean, double[] rstd, double[] dx, double[] dgamma, double[] dbeta) {
        int cg = c / groups;
        double count = (double) s * cg;
        for (int b = 0; b < n; b++) {
            for (int g = 0; g < groups; g++) {
                double mu = mean[b * groups + g];
                double r = rstd[b * groups + g];
                double sumD = 0;
                double sumDX = 0;
                for (int p = 0; p < s; p++) {
                    int base = (b * s + p) * c + g * cg;
                    for (int j = 0; j < cg; j++) {
                        int ch = g * cg + j;
                        double xHat = (x[base + j] - mu) * r;
                        double d = dy[base + j] * gamma[ch];
                        sumD += d;
                        sumDX += d * xHat;
                        dgamma[ch] += dy[base + j] * xHat;
                        dbeta[ch] += dy[base + j];
                    }
                }
                double meanD = sumD / count;
                double meanDX = sumDX / count;
                for (int p = 0; p < s; p++) {
                    int base = (b * s + p) * c + g * cg;
                    for (int j = 0; j < cg; j++) {
                        int ch = g * cg + j;
                        double xHat = (x[base + j] - mu) * r;
                        dx[base + j] = r * (dy[base + j] * gamma[ch] - meanD - xHat * meanDX);
                    }
                }
            }
        }
    }

    // ---- BatchNorm: x viewed as [m, c] (m = N × spatial positions), statistics per channel ---------

    /** Fills y, mean, rstd = 1/sqrt(biased var + eps) and the unbiased variance (0 when m = 1). */
    static void batchNorm(double[] x, int m, int c, double[] gamma, double[] beta, double eps,
                          double[] y, double[] mean, double[] rstd, double[] unbiasedVar) {
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int r = 0; r < m; r++) sum += x[r * c + ch];
            double mu = sum / m;
            double sq = 0;
            for (int r = 0; r < m; r++) {
                double d = x[r * c + ch] - mu;
                sq += d * d;
            }
            double rs = 1.0 / Math.sqrt(sq / m + eps);
            mean[ch] = mu;
            rstd[ch] = rs;
            unbiasedVar[ch] = m > 1 ? sq / (m - 1) : 0;
            for (int r = 0; r < m; r++) y[r * c + ch] = (x[r * c + ch] - mu) * rs * gamma[ch] + beta[ch];
        }
    }

    /** dx = rstd·gamma·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel; dgamma = Σ dy·x̂; dbeta = Σ dy. */
    static void batchNormBackward(double[] dy, double[] x, int m, int c, double[] gamma, double[] mean, double[] rstd,
                                  double[] dx, double[] dgamma, double[] dbeta) {
        for (int ch = 0; ch < c; ch++) {
            double sumD = 0;
            double sumDX = 0;
            for (int r = 0; r < m; r++) {
                double xHat = (x[r * c + ch] - mean[ch]) * rstd[ch];
                sumD += dy[r * c + ch];
                sumDX += dy[r * c + ch] * xHat;
            }
            dgamma[ch] = sumDX;
            dbeta[ch] = sumD;
            double k = rstd[ch] * gamma[ch];
            for (int r = 0; r < m; r++) {
                double xHat = (x[r * c + ch] - mean[ch]) * rstd[ch];
                dx[r * c + ch] = k * (dy[r * c + ch] - sumD / m - xHat * sumDX / m);
            }
        }
    }

    static double[] batchNormInference(double[] x, int m, int c, double[] gamma, double[] beta, double[] rm, double[] rv, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < m; r++) {
            for (int ch = 0; ch < c; ch++) {
                y[r * c + ch] = (x[r * c + ch] - rm[ch]) / Math.sqrt(rv[ch] + eps) * gamma[ch] + beta[ch];
            }
        }
        return y;
    }

    /** dx = dy·gamma/sqrt(rv + eps); dgamma = Σ dy·x̂; dbeta = Σ dy, with x̂ from the running statistics. */
    static void batchNormInferenceBackward(double[] dy, double[] x, int m, int c, double[] gamma, double[] rm, double[] rv,
                                           double eps, double[] dx, double[] dgamma, double[] dbeta) {
        for (int r = 0; r < m; r++) {
            for (int ch = 0; ch < c; ch++) {
                double rs = 1.0 / Math.sqrt(rv[ch] + eps);
                double g = dy[r * c + ch];
                dx[r * c + ch] = g * gamma[ch] * rs;
                dgamma[ch] += g * (x[r * c + ch] - rm[ch]) * rs;
                dbeta[ch] += g;
            }
        }
    }

    // ---- activations -----------------------------------------------------------------------

    /** Evaluated without overflow for either sign of x. */
    static double sigmoid(double x) {
        if (x >= 0) return 1.0 / (1.0 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    static double[] sigmoid(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = sigmoid(x[i]);
        return y;
    }

    static double[] sigmoidBackward(double[] y, double[] dy) {
        double[] dx = new double[y.length];
        for (int i = 0; i < y.length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
        return dx;
    }

    static double[] swish(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * sigmoid(x[i]);
        return y;
    }

    static double[] swishBackward(double[] x, double[] dy) {
        double[] dx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double s = sigmoid(x[i]);
            dx[i] = dy[i] * (s + x[i] * s * (1 - s));
        }
        return dx;
    }

    // ---- channel scaling: x viewed as [n, p, c] (p positions per sample), s as [n, c] ------------

    static double[] scaleChannels(double[] x, int n, int p, int c, double[] s) {
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int q = 0; q < p; q++) {
                for (int ch = 0; ch < c; ch++) y[(b * p + q) * c + ch] = x[(b * p + q) * c + ch] * s[b * c + ch];
            }
        }
        return y;
    }

    /** ds [n, c] = Σ over the p positions of dy·x. */
    static double[] scaleChannelsBackwardScale(double[] dy, double[] x, int n, int p, int c) {
        double[] ds = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int q = 0; q < p; q++) {
                for (int ch = 0; ch < c; ch++) ds[b * c + ch] += dy[(b * p + q) * c + ch] * x[(b * p + q) * c + ch];
            }
        }
        return ds;
    }

    // ---- spatial, NHWC ---------------------------------------------------------------------

    static double[] pad2d(double[] x, int n, int h, int w, int c, int top, int bottom, int left, int right, double value) {
        int ph = h + top + bottom;
        int pw = w + left + right;
        double[] y = new double[n * ph * pw * c];
        java.util.Arrays.fill(y, value);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < h; i++) {
                System.arraycopy(x, ((b * h + i) * w) * c, y, ((b * ph + i + top) * pw + left) * c, w * c);
            }
        }
        return y;
    }

    /** x is [n, h, w, c] padded; returns the interior [n, h−top−bottom, w−left−right, c]. */
    static double[] crop2d(double[] x, int n, int h, int w, int c, int top, int bottom, int left, int right) {
        int ih = h - top - bottom;
        int iw = w - left - right;
        double[] y = new double[n * ih * iw * c];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < ih; i++) {
                System.arraycopy(x, ((b * h + i + top) * w + left) * c, y, ((b * ih + i) * iw) * c, iw * c);
            }
        }
        return y;
    }

    static double[] maxPool2d(double[] x, int n, int h, int w, int c, int k, int stride) {
        int oh = (h - k) / stride + 1;
        int ow = (w - k) / stride + 1;
        double[] y = new double[n * oh * ow * c];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    for (int ch = 0; ch < c; ch++) {
                        double best = Double.NEGATIVE_INFINITY;
                        for (int di = 0; di < k; di++) {
                            for (int dj = 0; dj < k; dj++) {
                                best = Math.max(best, x[((b * h + i * stride + di) * w + j * stride + dj) * c + ch]);
                            }
                        }
                        y[((b * oh + i) * ow + j) * c + ch] = best;
                    }
                }
            }
        }
        return y;
    }

    static double[] maxPool2dBackward(double[] x, double[] dy, int n, int h, int w, int c, int k, int stride) {
        int oh = (h - k) / stride + 1;
        int ow = (w - k) / stride + 1;
        double[] dx = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    for (int ch = 0; ch < c; ch++) {
                        int arg = -1;
                        double best = Double.NEGATIVE_INFINITY;
                        for (int di = 0; di < k; di++) {
                            for (int dj = 0; dj < k; dj++) {
                                int idx = ((b * h + i * stride + di) * w + j * stride + dj) * c + ch;
                                if (arg < 0 || x[idx] > best) {
                                    best = x[idx];
                                    arg = idx;
                                }
                            }
                        }
                        dx[arg] += dy[((b * oh + i) * ow + j) * c + ch];
                    }
                }
            }
        }
        return dx;
    }

    static double[] globalAvgPool(double[] x, int n, int s, int c) {
        double[] y = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int p = 0; p < s; p++) {
                for (int ch = 0; ch < c; ch++) y[b * c + ch] += x[(b * s + p) * c + ch];
            }
            for (int ch = 0; ch < c; ch++) y[b * c + ch] /= s;
        }
        return y;
    }

    static double[] globalAvgPoolBackward(double[] dy, int n, int s, int c) {
        double[] dx = new double[n * s * c];
        for (int b = 0; b < n; b++) {
            for (int p = 0; p < s; p++) {
                for (int ch = 0; ch < c; ch++) dx[(b * s + p) * c + ch] = dy[b * c + ch] / s;
            }
        }
        return dx;
    }

    // ---- dense -----------------------------------------------------------------------------

    /** op(a) [m,k] · op(b) [k,n]; a is stored [m,k] (or [k,m] when transA), b [k,n] (or [n,k]). */
    static double[] matmul(double[] a, double[] b, int m, int n, int k, boolean transA, boolean transB) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[p * m + i] : a[i * k + p];
                    double bv = transB ? b[j * k + p] : b[p * n + j];
                    acc += av * bv;
                }
                c[i * n + j] = acc;
            }
        }
        return c;
    }

    // ---- loss ------------------------------------------------------------------------------

    /** Row-wise log-softmax of logits [n, k], shifted by the row maximum for stability. */
    static double[] logSoftmax(double[] z, int n, int k) {
        double[] out = new double[n * k];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, z[i * k + j]);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(z[i * k + j] - max);
            double lse = max + Math.log(sum);
            for (int j = 0; j < k; j++) out[i * k + j] = z[i * k + j] - lse;
        }
        return out;
    }

    /** target: one-hot built from labels, or soft labels, as [n, k]. */
    static double[] softmaxCrossEntropy(double[] z, double[] target, int n, int k) {
        double[] logp = logSoftmax(z, n, k);
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            double l = 0;
            for (int j = 0; j < k; j++) {
                if (target[i * k + j] != 0) l -= target[i * k + j] * logp[i * k + j];
            }
            loss[i] = l;
        }
        return loss;
    }

    /** dz = dLoss[i] · (softmax(z) − target · Σ target) per row; Σ target is 1 for a distribution. */
    static double[] softmaxCrossEntropyBackward(double[] z, double[] target, double[] dLoss, int n, int k) {
        double[] logp = logSoftmax(z, n, k);
        double[] dz = new double[n * k];
        for (int i = 0; i < n; i++) {
            double mass = 0;
            for (int j = 0; j < k; j++) mass += target[i * k + j];
            for (int j = 0; j < k; j++) {
                dz[i * k + j] = dLoss[i] * (Math.exp(logp[i * k + j]) * mass - target[i * k + j]);
            }
        }
        return dz;
    }
}
