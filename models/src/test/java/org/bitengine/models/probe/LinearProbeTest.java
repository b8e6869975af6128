package org.bitengine.models.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.bitengine.engine.BitEngineException;
import org.bitengine.models.probe.LinearProbe.Head;
import org.junit.jupiter.api.Test;

class LinearProbeTest {

    /** Labelled points whose classes are the argmax of a random linear map: a linearly separable problem. */
    record Data(float[] x, int[] y, int n, int dim) {}

    static Data separable(int n, int dim, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] w = new double[dim * classes];
        for (int i = 0; i < w.length; i++) w[i] = r.nextGaussian();
        float[] x = new float[n * dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) x[i * dim + d] = (float) (r.nextGaussian() + 0.5); // off-centre, so the bias matters
            double best = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double s = 0;
                for (int d = 0; d < dim; d++) s += (x[i * dim + d] - 0.5) * w[d * classes + c];
                if (s > best) {
                    best = s;
                    y[i] = c;
                }
            }
        }
        return new Data(x, y, n, dim);
    }

    static double accuracy(Head head, Data data) {
        float[] logits = head.logits(data.x(), data.n());
        int classes = head.classes();
        int right = 0;
        for (int i = 0; i < data.n(); i++) {
            int arg = 0;
            for (int c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + arg]) arg = c;
            if (arg == data.y()[i]) right++;
        }
        return (double) right / data.n();
    }

    @Test
    void bothFitsRecoverAKnownSeparator() {
        Data train = separable(600, 6, 3, 1);
        Head ridge = LinearProbe.fitRidge(train.x(), train.n(), train.dim(), train.y(), 3, 1e-3);
        Head logistic = LinearProbe.fitLogistic(train.x(), train.n(), train.dim(), train.y(), 3, 1e-3);
        assertEquals(6, ridge.dim());
        assertEquals(3, ridge.classes());
        double ridgeAcc = accuracy(ridge, train);
        double logisticAcc = accuracy(logistic, train);
        assertTrue(ridgeAcc > 0.85, "ridge fits a separable problem: " + ridgeAcc);
        assertTrue(logisticAcc > 0.98, "logistic fits a separable problem: " + logisticAcc);
        assertTrue(logisticAcc >= ridgeAcc, "logistic " + logisticAcc + " vs ridge " + ridgeAcc);
    }

    @Test
    void generalisesToFreshPointsOfTheSameProblem() {
        Data all = separable(1000, 5, 4, 7);
        int nTrain = 700;
        Data train = new Data(java.util.Arrays.copyOf(all.x(), nTrain * 5), java.util.Arrays.copyOf(all.y(), nTrain), nTrain, 5);
        Data test = new Data(java.util.Arrays.copyOfRange(all.x(), nTrain * 5, 1000 * 5),
                java.util.Arrays.copyOfRange(all.y(), nTrain, 1000), 300, 5);
        Head logistic = LinearProbe.fitLogistic(train.x(), train.n(), 5, train.y(), 4, 1e-2);
        Head ridge = LinearProbe.fitRidge(train.x(), train.n(), 5, train.y(), 4, 1.0);
        assertTrue(accuracy(logistic, test) > 0.95, "logistic held-out: " + accuracy(logistic, test));
        assertTrue(accuracy(ridge, test) > 0.8, "ridge held-out: " + accuracy(ridge, test));
    }

    /**
     * x = [0, 2], labels [0, 1], λ = 1. Centred: X = [−1, 1], x̄ = 1, Y − ȳ = [[½, −½], [−½, ½]];
     * XᵀX + λ = 3, XᵀY = [−1, 1], so W = [−⅓, ⅓] and b = ȳ − x̄·W = [⅚, ⅙].
     */
    @Test
    void ridgeMatchesTheClosedFormOfATinyCase() {
        float[] x = {0, 2};
        int[] y = {0, 1};
        for (boolean dual : new boolean[] {false, true}) {
            Head h = LinearProbe.fitRidge(x, 2, 1, y, 2, 1.0, dual);
            assertArrayEquals(new float[] {-1f / 3, 1f / 3}, h.kernel(), 1e-6f, "dual=" + dual);
            assertArrayEquals(new float[] {5f / 6, 1f / 6}, h.bias(), 1e-6f, "dual=" + dual);
        }
    }

    @Test
    void dualAndPrimalAgree() {
        SplittableRandom r = new SplittableRandom(11);
        for (int[] nd : new int[][] {{12, 40}, {40, 12}, {30, 30}}) {
            int n = nd[0];
            int dim = nd[1];
            float[] x = new float[n * dim];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.max(0, r.nextGaussian() + 0.3); // ReLU-like, as pre-logits are
            int[] y = new int[n];
            for (int i = 0; i < n; i++) y[i] = i % 5;
            Head primal = LinearProbe.fitRidge(x, n, dim, y, 5, 0.5, false);
            Head dual = LinearProbe.fitRidge(x, n, dim, y, 5, 0.5, true);
            assertArrayEquals(primal.kernel(), dual.kernel(), 1e-5f, "kernel n=" + n + " dim=" + dim);
            assertArrayEquals(primal.bias(), dual.bias(), 1e-5f, "bias n=" + n + " dim=" + dim);
            Head chosen = LinearProbe.fitRidge(x, n, dim, y, 5, 0.5);
            assertArrayEquals(primal.kernel(), chosen.kernel(), 1e-5f);
        }
    }

    /**
     * x = [−1, 1], labels [0, 1], λ = 1: by symmetry b = 0 and W = [−a, a]; each example's loss is
     * log(1 + e^{−2a}), so the objective 2·log(1 + e^{−2a}) + λa² is stationary where λa = 2σ(−2a).
     */
    @Test
    void logisticMatchesTheStationaryPointOfATinyCase() {
        double lo = 0;
        double hi = 2;
        for (int i = 0; i < 200; i++) {
            double a = (lo + hi) / 2;
            if (a - 2 / (1 + Math.exp(2 * a)) < 0) lo = a;
            else hi = a;
        }
        float a = (float) lo;
        Head h = LinearProbe.fitLogistic(new float[] {-1, 1}, 2, 1, new int[] {0, 1}, 2, 1.0);
        assertArrayEquals(new float[] {-a, a}, h.kernel(), 1e-5f);
        assertArrayEquals(new float[] {0, 0}, h.bias(), 1e-5f);
    }

    @Test
    void logisticGradientMatchesFiniteDifferences() {
        Data d = separable(30, 4, 3, 5);
        org.ejml.data.DMatrixRMaj x = new org.ejml.data.DMatrixRMaj(d.n(), d.dim());
        for (int i = 0; i < d.x().length; i++) x.data[i] = d.x()[i];
        LinearProbe.SoftmaxObjective f = new LinearProbe.SoftmaxObjective(x, d.y(), 3, 0.3);
        SplittableRandom r = new SplittableRandom(2);
        double[] theta = new double[(4 + 1) * 3];
        for (int i = 0; i < theta.length; i++) theta[i] = r.nextGaussian();
        double[] grad = new double[theta.length];
        f.valueAndGradient(theta, grad);
        double[] scratch = new double[theta.length];
        for (int i = 0; i < theta.length; i++) {
            double h = 1e-6;
            double[] plus = theta.clone();
            plus[i] += h;
            double[] minus = theta.clone();
            minus[i] -= h;
            double numeric = (f.valueAndGradient(plus, scratch) - f.valueAndGradient(minus, scratch)) / (2 * h);
            assertEquals(numeric, grad[i], 1e-7, "d/dθ" + i);
        }
    }

    @Test
    void fewShotWithMoreFeaturesThanExamples() {
        Data d = separable(24, 64, 4, 9);
        Head ridge = LinearProbe.fitRidge(d.x(), d.n(), d.dim(), d.y(), 4, 1e-2);
        Head logistic = LinearProbe.fitLogistic(d.x(), d.n(), d.dim(), d.y(), 4, 1e-2);
        assertEquals(1.0, accuracy(ridge, d), "n < dim: ridge interpolates the training set");
        assertEquals(1.0, accuracy(logistic, d));
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LinearProbe.fitRidge(new float[6], 2, 3, new int[] {0, 2}, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> LinearProbe.fitRidge(new float[5], 2, 3, new int[] {0, 1}, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> LinearProbe.fitRidge(new float[6], 2, 3, new int[] {0, 1}, 2, -1));
        assertThrows(BitEngineException.class, () -> LinearProbe.fitLogistic(new float[] {Float.NaN, 1}, 2, 1, new int[] {0, 1}, 2, 1));
        // λ = 0 with constant features: XᵀX is singular, and the message says what to do.
        BitEngineException e = assertThrows(BitEngineException.class,
                () -> LinearProbe.fitRidge(new float[] {1, 1, 1, 1}, 4, 1, new int[] {0, 1, 0, 1}, 2, 0));
        assertTrue(e.getMessage().contains("larger lambda"), e.getMessage());
    }
}
