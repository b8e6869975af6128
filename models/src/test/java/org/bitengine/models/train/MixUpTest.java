package org.bitengine.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class MixUpTest {

    @Test
    void mixesImagesAndLabelsAsComputedByHand() {
        // 3 examples of 2 values, labels 0, 1, 2; λ = 0.25, pairing 0↔2, 1↔0, 2↔1.
        float[] x = {1, 2, 10, 20, 100, 200};
        int[] labels = {0, 1, 2};
        int[] perm = {2, 0, 1};
        MixUp.Mixed m = MixUp.mix(x, labels, 3, 2, 4, 0.25, perm);
        assertArrayEquals(new float[] {
            0.25f * 1 + 0.75f * 100, 0.25f * 2 + 0.75f * 200,
            0.25f * 10 + 0.75f * 1, 0.25f * 20 + 0.75f * 2,
            0.25f * 100 + 0.75f * 10, 0.25f * 200 + 0.75f * 20}, m.x());
        assertArrayEquals(new double[] {
            0.25, 0, 0.75, 0,
            0.75, 0.25, 0, 0,
            0, 0.75, 0.25, 0}, m.softLabels());
        // An example paired with one of its own class keeps a one-hot label.
        MixUp.Mixed same = MixUp.mix(new float[] {1, 2}, new int[] {1, 1}, 2, 1, 2, 0.3, new int[] {1, 0});
        assertArrayEquals(new double[] {0, 1, 0, 1}, same.softLabels(), 1e-15);
        assertArrayEquals(new float[] {0.3f * 1 + 0.7f * 2, 0.3f * 2 + 0.7f * 1}, same.x());
    }

    @Test
    void softLabelLossIsTheMixOfTwoCrossEntropies() {
        // The official loss λ·CE(y) + (1−λ)·CE(y[perm]) equals CE against the mixed soft labels.
        double lambda = MixUp.lambda(0.1, 7, 3);
        int[] labels = {0, 2, 1, 2};
        int[] perm = MixUp.permutation(7, 3, 0, 4);
        float[] logits = {0.3f, -1.2f, 2.0f, 1.5f, 0.1f, -0.4f, -2.0f, 0.7f, 0.9f, 0.0f, 0.2f, -0.1f};
        MixUp.Mixed m = MixUp.mix(new float[4], labels, 4, 1, 3, lambda, perm);
        double soft = Ops.mean(Ops.softmaxCrossEntropy(Tensor.of(logits, 4, 3), Tensor.of(m.softLabels(), 4, 3))).item();
        double byHand = 0;
        for (int i = 0; i < 4; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 3; c++) max = Math.max(max, logits[i * 3 + c]);
            double sum = 0;
            for (int c = 0; c < 3; c++) sum += Math.exp(logits[i * 3 + c] - max);
            double lse = max + Math.log(sum);
            byHand += lambda * (lse - logits[i * 3 + labels[i]]) + (1 - lambda) * (lse - logits[i * 3 + labels[perm[i]]]);
        }
        assertEquals(byHand / 4, soft, 1e-6);
    }

    @Test
    void drawsArePureFunctionsOfSeedAndStep() {
        assertEquals(1.0, MixUp.lambda(0.0, 1, 5), "no MixUp: λ is exactly 1");
        double a = MixUp.lambda(0.1, 42, 17);
        assertEquals(a, MixUp.lambda(0.1, 42, 17));
        assertNotEquals(a, MixUp.lambda(0.1, 42, 18));
        assertNotEquals(a, MixUp.lambda(0.1, 43, 17));
        assertTrue(a >= 0 && a <= 1);
        int[] p = MixUp.permutation(42, 17, 1, 50);
        assertArrayEquals(p, MixUp.permutation(42, 17, 1, 50));
        assertTrue(!Arrays.equals(p, MixUp.permutation(42, 17, 0, 50)), "each micro-batch has its own permutation");
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 50; i++) assertEquals(i, sorted[i]);
    }

    @Test
    void betaSamplesHaveTheRightMeanAndVariance() {
        // Beta(a, b): mean a/(a+b), variance ab/((a+b)²(a+b+1)); for α = 0.1 (BiT's) 0.5 and 1/4.8.
        check(0.1, 0.1, 200_000, 0.004);
        check(1, 1, 200_000, 0.004);
        check(2, 5, 200_000, 0.003);
        check(0.5, 3, 200_000, 0.003);
        // α = 0.1 at the steps of a run: every λ finite and inside [0, 1], most near 0 or 1.
        int extreme = 0;
        for (int step = 0; step < 10_000; step++) {
            double l = MixUp.lambda(0.1, 0, step);
            assertTrue(l >= 0 && l <= 1, "λ " + l);
            if (l < 0.1 || l > 0.9) extreme++;
        }
        assertTrue(extreme > 7_000, "Beta(0.1, 0.1) puts most mass near 0 and 1: " + extreme);
    }

    private static void check(double a, double b, int n, double tol) {
        SplittableRandom rng = new SplittableRandom(1234);
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            double v = MixUp.sampleBeta(a, b, rng);
            assertTrue(v >= 0 && v <= 1 && Double.isFinite(v));
            sum += v;
            sumSq += v * v;
        }
        double mean = sum / n;
        double var = sumSq / n - mean * mean;
        double s = a + b;
        assertEquals(a / s, mean, tol, "mean of Beta(" + a + ", " + b + ")");
        assertEquals(a * b / (s * s * (s + 1)), var, tol, "variance of Beta(" + a + ", " + b + ")");
    }
}
