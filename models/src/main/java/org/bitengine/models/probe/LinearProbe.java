package org.bitengine.models.probe;

import org.bitengine.engine.BitEngineException;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.CommonOps_MT_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Linear classifiers fitted on frozen features (a "linear probe"): the quick way to measure how
 * well a backbone's pre-logit features transfer, and a warm start for a fine-tuning head.
 *
 * <p>Two fits:
 * <ul>
 * <li>{@link #fitRidge}: least squares on one-hot targets with an L2 penalty, solved in closed form
 *     by a Cholesky factorisation. One pass over the data, no iterations, no tuning beyond λ.
 * <li>{@link #fitLogistic}: multinomial logistic regression (softmax cross-entropy) with an L2
 *     penalty, minimised by L-BFGS. Usually the more accurate of the two — it models probabilities
 *     rather than regressing to 0/1 targets, so it is not pulled around by examples that are already
 *     classified with a wide margin — and the CLI should default to it, keeping ridge as the fast
 *     option and as a sanity check.
 * </ul>
 *
 * <p>Both centre the features internally, so the bias is not penalised and the solve is well
 * conditioned; the returned head applies to the raw features: {@code logits = x · kernel + bias}.
 * Arithmetic is in float64.
 */
public final class LinearProbe {

    private LinearProbe() {}

    /**
     * A linear head: {@code kernel} [dim, classes] row-major and {@code bias} [classes], the layout of
     * BiT's {@code resnet/head/conv2d/kernel} (1×1×dim×classes) once its two leading axes are dropped.
     */
    public record Head(float[] kernel, float[] bias) {

        public int classes() {
            return bias.length;
        }

        public int dim() {
            return kernel.length / bias.length;
        }

        /** Logits [n, classes] for {@code features} [n, dim] row-major. */
        public float[] logits(float[] features, int n) {
            int dim = dim();
            int classes = classes();
            float[] out = new float[n * classes];
            double[] row = new double[classes];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < classes; c++) row[c] = bias[c];
                for (int d = 0; d < dim; d++) {
                    double x = features[i * dim + d];
                    if (x == 0) continue;
                    int kb = d * classes;
                    for (int c = 0; c < classes; c++) row[c] += x * kernel[kb + c];
                }
                for (int c = 0; c < classes; c++) out[i * classes + c] = (float) row[c];
            }
            return out;
        }
    }

    /**
     * Ridge regression onto one-hot targets: with X the centred features and Y the centred one-hot
     * labels, W minimises {@code ‖XW − Y‖² + λ‖W‖²}, i.e. {@code (XᵀX + λI) W = XᵀY}; the bias is
     * {@code ȳ − x̄ᵀW}, unpenalised. When {@code n < dim} (BiT-R50x1 features are 2048 wide, a
     * few-shot set is smaller) the dual form {@code W = Xᵀ(XXᵀ + λI)⁻¹Y} is solved instead, an n×n
     * system in place of a dim×dim one; both give the same W.
     *
     * @param features [n, dim] row-major
     * @param labels   [n], each in [0, classes)
     * @param lambda   the L2 penalty, ≥ 0 (0 only works when XᵀX is invertible)
     */
    public static Head fitRidge(float[] features, int n, int dim, int[] labels, int classes, double lambda) {
        checkArguments(features, n, dim, labels, classes, lambda);
        return fitRidge(features, n, dim, labels, classes, lambda, n < dim);
    }

    /** {@link #fitRidge(float[], int, int, int[], int, double)} with the form chosen by the caller (tests compare both). */
    static Head fitRidge(float[] features, int n, int dim, int[] labels, int classes, double lambda, boolean dual) {
        checkArguments(features, n, dim, labels, classes, lambda);
        double[] mean = featureMean(features, n, dim);
        DMatrixRMaj x = centred(features, n, dim, mean);
        double[] prior = new double[classes];
        for (int label : labels) prior[label] += 1.0 / n;
        DMatrixRMaj y = new DMatrixRMaj(n, classes);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < classes; c++) y.data[i * classes + c] = (labels[i] == c ? 1.0 : 0.0) - prior[c];
        }

        DMatrixRMaj w = new DMatrixRMaj(dim, classes);
        if (!dual) {
            DMatrixRMaj gram = new DMatrixRMaj(dim, dim);
            CommonOps_DDRM.multInner(x, gram); // XᵀX, symmetric
            addToDiagonal(gram, lambda);
            DMatrixRMaj xty = new DMatrixRMaj(dim, classes);
            CommonOps_MT_DDRM.multTransA(x, y, xty);
            solveSpd(gram, xty, w, lambda);
        } else {
            DMatrixRMaj gram = new DMatrixRMaj(n, n);
            CommonOps_DDRM.multOuter(x, gram); // XXᵀ
            addToDiagonal(gram, lambda);
            DMatrixRMaj alpha = new DMatrixRMaj(n, classes);
            solveSpd(gram, y, alpha, lambda);
            CommonOps_MT_DDRM.multTransA(x, alpha, w);
        }
        double[] bias = prior.clone();
        for (int d = 0; d < dim; d++) {
            for (int c = 0; c < classes; c++) bias[c] -= mean[d] * w.data[d * classes + c];
        }
        return head(w.data, bias);
    }

    /** {@link #fitLogistic(float[], int, int, int[], int, double, int)} with at most 200 L-BFGS iterations. */
    public static Head fitLogistic(float[] features, int n, int dim, int[] labels, int classes, double lambda) {
        return fitLogistic(features, n, dim, labels, classes, lambda, 200);
    }

    /**
     * Multinomial logistic regression: W, b minimise
     * {@code Σᵢ CE(softmax(xᵢW + b), yᵢ) + (λ/2)‖W‖²} (summed over examples, as ridge's squared error
     * is, so a given λ regularises both fits comparably; scikit-learn's {@code C} is 1/λ). The bias is
     * not penalised. Minimised by L-BFGS (10 pairs of history) with a backtracking Armijo line search,
     * from W = 0 and b = the log class frequencies; stops when the gradient's largest entry is below
     * 1e-6 (on the per-example objective), when the objective stops improving, or after
     * {@code maxIterations}.
     *
     * @param features [n, dim] row-major
     * @param labels   [n], each in [0, classes)
     * @param lambda   the L2 penalty, ≥ 0 (with 0, separable data has no finite optimum and the weights
     *                 grow until {@code maxIterations})
     */
    public static Head fitLogistic(float[] features, int n, int dim, int[] labels, int classes, double lambda, int maxIterations) {
        checkArguments(features, n, dim, labels, classes, lambda);
        if (maxIterations < 1) throw new IllegalArgumentException("maxIterations must be at least 1, got " + maxIterations);
        double[] mean = featureMean(features, n, dim);
        SoftmaxObjective f = new SoftmaxObjective(centred(features, n, dim, mean), labels, classes, lambda / n);

        int size = (dim + 1) * classes; // W [dim, classes] then b [classes]
        double[] theta = new double[size];
        int[] counts = new int[classes];
        for (int label : labels) counts[label]++;
        for (int c = 0; c < classes; c++) theta[dim * classes + c] = Math.log((counts[c] + 0.5) / (n + 0.5 * classes));

        Lbfgs.minimize(f, theta, maxIterations, 10, 1e-6);

        double[] w = new double[dim * classes];
        System.arraycopy(theta, 0, w, 0, w.length);
        double[] bias = new double[classes];
        System.arraycopy(theta, dim * classes, bias, 0, classes);
        // Softmax ignores a shift shared by all logits and the bias is not penalised, so it is only
        // defined up to a constant: report the one that sums to zero.
        double shift = 0;
        for (double b : bias) shift += b / classes;
        for (int c = 0; c < classes; c++) bias[c] -= shift;
        for (int d = 0; d < dim; d++) {
            for (int c = 0; c < classes; c++) bias[c] -= mean[d] * w[d * classes + c];
        }
        return head(w, bias);
    }

    /**
     * The per-example objective {@code (1/n) Σ CE + (μ/2)‖W‖²} with μ = λ/n and its gradient, over
     * θ = [W (dim×classes, row-major); b (classes)], on centred features.
     */
    static final class SoftmaxObjective implements Lbfgs.Objective {
        private final DMatrixRMaj x;      // [n, dim]
        private final int[] labels;       // [n]
        private final int n;
        private final int dim;
        private final int classes;
        private final double mu;
        private final DMatrixRMaj w;      // [dim, classes], a view filled from θ
        private final DMatrixRMaj logits; // [n, classes]
        private final DMatrixRMaj gradW;  // [dim, classes]

        SoftmaxObjective(DMatrixRMaj x, int[] labels, int classes, double mu) {
            this.x = x;
            this.labels = labels;
            this.n = x.numRows;
            this.dim = x.numCols;
            this.classes = classes;
            this.mu = mu;
            this.w = new DMatrixRMaj(dim, classes);
            this.logits = new DMatrixRMaj(n, classes);
            this.gradW = new DMatrixRMaj(dim, classes);
        }

        @Override
        public double valueAndGradient(double[] theta, double[] grad) {
            int wSize = dim * classes;
            System.arraycopy(theta, 0, w.data, 0, wSize);
            CommonOps_MT_DDRM.mult(x, w, logits);
            double loss = 0;
            double[] gb = new double[classes];
            double[] z = logits.data;
            for (int i = 0; i < n; i++) {
                int base = i * classes;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    z[base + c] += theta[wSize + c];
                    max = Math.max(max, z[base + c]);
                }
                int y = labels[i];
                double shiftedTarget = z[base + y] - max;
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    double e = Math.exp(z[base + c] - max);
                    z[base + c] = e;
                    sum += e;
                }
                // −log p_y = log Σ exp(z − max) − (z_y − max); sum ≥ 1, so no log of an underflowed 0.
                loss += Math.log(sum) - shiftedTarget;
                // z becomes dL/dlogits = (softmax − onehot) / n.
                for (int c = 0; c < classes; c++) {
                    double g = z[base + c] / sum - (c == y ? 1.0 : 0.0);
                    z[base + c] = g / n;
                    gb[c] += g / n;
                }
            }
            CommonOps_MT_DDRM.multTransA(x, logits, gradW);
            double reg = 0;
            for (int j = 0; j < wSize; j++) {
                double wj = theta[j];
                reg += wj * wj;
                grad[j] = gradW.data[j] + mu * wj;
            }
            System.arraycopy(gb, 0, grad, wSize, classes);
            return loss / n + 0.5 * mu * reg;
        }
    }

    private static void checkArguments(float[] features, int n, int dim, int[] labels, int classes, double lambda) {
        if (n < 1 || dim < 1 || classes < 1) {
            throw new IllegalArgumentException("a probe needs n, dim and classes ≥ 1, got n=" + n + " dim=" + dim + " classes=" + classes);
        }
        if (features.length != (long) n * dim) {
            throw new IllegalArgumentException("features hold " + features.length + " values, [n=" + n + ", dim=" + dim + "] needs " + (long) n * dim);
        }
        if (labels.length != n) throw new IllegalArgumentException(labels.length + " labels for " + n + " examples");
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " of example " + i + " is outside [0, " + classes + ")");
            }
        }
        if (!(lambda >= 0) || Double.isInfinite(lambda)) throw new IllegalArgumentException("lambda must be a finite number ≥ 0, got " + lambda);
        for (float v : features) {
            if (!Float.isFinite(v)) {
                throw new BitEngineException("the features hold NaN or infinite values; the backbone diverged or the input is corrupt");
            }
        }
    }

    private static double[] featureMean(float[] features, int n, int dim) {
        double[] mean = new double[dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) mean[d] += features[i * dim + d];
        }
        for (int d = 0; d < dim; d++) mean[d] /= n;
        return mean;
    }

    private static DMatrixRMaj centred(float[] features, int n, int dim, double[] mean) {
        DMatrixRMaj x = new DMatrixRMaj(n, dim);
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) x.data[i * dim + d] = features[i * dim + d] - mean[d];
        }
        return x;
    }

    private static void addToDiagonal(DMatrixRMaj a, double v) {
        for (int i = 0; i < a.numRows; i++) a.data[i * a.numCols + i] += v;
    }

    /** Solves {@code a · x = b} for a symmetric positive definite {@code a} by Cholesky; a is overwritten. */
    private static void solveSpd(DMatrixRMaj a, DMatrixRMaj b, DMatrixRMaj x, double lambda) {
        LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.chol(a.numRows);
        if (!chol.setA(a)) {
            throw new BitEngineException("ridge probe: the " + a.numRows + "×" + a.numRows + " Gram matrix is not positive definite with lambda="
                    + lambda + " (features are collinear or constant); use a larger lambda");
        }
        chol.solve(b, x);
        for (double v : x.data) {
            if (!Double.isFinite(v)) {
                throw new BitEngineException("ridge probe: the solve is numerically singular with lambda=" + lambda + "; use a larger lambda");
            }
        }
    }

    private static Head head(double[] w, double[] b) {
        float[] kernel = new float[w.length];
        for (int i = 0; i < w.length; i++) kernel[i] = (float) w[i];
        float[] bias = new float[b.length];
        for (int i = 0; i < b.length; i++) bias[i] = (float) b[i];
        return new Head(kernel, bias);
    }
}
