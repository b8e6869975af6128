package org.bitengine.models.train;

import java.util.SplittableRandom;

/**
 * MixUp as the official {@code bit_pytorch/train.py} does it: one λ ~ Beta(α, α) per optimizer step
 * (shared by its micro-batches), a fresh random permutation per micro-batch,
 * {@code x ← λ·x + (1−λ)·x[perm]} and the loss {@code λ·CE(y) + (1−λ)·CE(y[perm])}, which equals the
 * cross-entropy against the soft labels {@code λ·onehot(y) + (1−λ)·onehot(y[perm])}.
 *
 * <p>Every random draw comes from a generator seeded by (run seed, step[, micro-batch]) alone, so the
 * random state of a run is its step counter: a resumed run draws exactly what the uninterrupted run
 * drew.
 */
public final class MixUp {

    private static final long LAMBDA_STREAM = 0x4C414D4244414C4CL;
    private static final long PERMUTATION_STREAM = 0x5045524D55544531L;

    private MixUp() {}

    /** λ of step {@code step}: Beta(α, α), or exactly 1 when α is 0 (no MixUp). */
    public static double lambda(double alpha, long seed, int step) {
        if (alpha <= 0) return 1.0;
        return sampleBeta(alpha, alpha, rng(seed, LAMBDA_STREAM, step, 0));
    }

    /** The permutation that pairs the examples of micro-batch {@code micro} of step {@code step}. */
    public static int[] permutation(long seed, int step, int micro, int n) {
        SplittableRandom rng = rng(seed, PERMUTATION_STREAM, step, micro);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) { // Fisher–Yates
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Images and soft labels after mixing: x [n, perExample] float32, labels [n, classes] float64. */
    public record Mixed(float[] x, double[] softLabels) {}

    /**
     * Mixes a batch: x [n, perExample] (one NHWC image per row), integer labels [n]. The images are
     * combined in float32 with λ and 1−λ rounded to float32, as PyTorch multiplies a float32 tensor by
     * a Python scalar; the soft labels keep λ in double precision.
     */
    public static Mixed mix(float[] x, int[] labels, int n, int perExample, int classes, double lambda, int[] perm) {
        float l = (float) lambda;
        float m = (float) (1 - lambda);
        float[] out = new float[n * perExample];
        double[] soft = new double[n * classes];
        for (int i = 0; i < n; i++) {
            int a = i * perExample;
            int b = perm[i] * perExample;
            for (int k = 0; k < perExample; k++) out[a + k] = l * x[a + k] + m * x[b + k];
            soft[i * classes + labels[i]] += lambda;
            soft[i * classes + labels[perm[i]]] += 1 - lambda;
        }
        return new Mixed(out, soft);
    }

    /** One-hot rows for integer labels (the soft-label form of a batch without MixUp). */
    public static double[] oneHot(int[] labels, int n, int classes) {
        double[] out = new double[n * classes];
        for (int i = 0; i < n; i++) out[i * classes + labels[i]] = 1;
        return out;
    }

    /**
     * A draw from Beta(a, b) as G_a / (G_a + G_b) with Gamma variates, computed from their logarithms:
     * for α = 0.1 a Gamma variate is often below the smallest double, and the ratio of two of them
     * would be 0/0.
     */
    public static double sampleBeta(double a, double b, SplittableRandom rng) {
        double la = logGamma(a, rng);
        double lb = logGamma(b, rng);
        return 1.0 / (1.0 + Math.exp(lb - la));
    }

    /** log of a Gamma(shape, 1) variate: Marsaglia–Tsang, with the U^(1/shape) boost below shape 1. */
    static double logGamma(double shape, SplittableRandom rng) {
        if (shape < 1) {
            double u = 1.0 - rng.nextDouble(); // (0, 1]
            return logGamma(shape + 1, rng) + Math.log(u) / shape;
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double z = gaussian(rng);
            double v = 1 + c * z;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1.0 - rng.nextDouble();
            if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return Math.log(d * v);
        }
    }

    /** A standard normal draw (Box–Muller), written out so the stream does not depend on the JDK's own. */
    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** A generator for one (seed, stream, step, micro) tuple, its state mixed with SplitMix64's finaliser. */
    static SplittableRandom rng(long seed, long stream, int step, int micro) {
        long h = mix64(seed ^ stream);
        h = mix64(h + step);
        h = mix64(h + micro);
        return new SplittableRandom(h);
    }

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
