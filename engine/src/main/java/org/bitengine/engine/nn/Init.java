package org.bitengine.engine.nn;

import java.util.SplittableRandom;

import org.bitengine.engine.tensor.Shape;

/** How a parameter that is not loaded from a checkpoint gets its first values. */
@FunctionalInterface
public interface Init {

    /** Fills {@code data} (of {@code shape}) from {@code rng}. */
    void fill(float[] data, Shape shape, SplittableRandom rng);

    static Init zeros() {
        return (data, shape, rng) -> {};
    }

    static Init constant(float value) {
        return (data, shape, rng) -> java.util.Arrays.fill(data, value);
    }

    static Init normal(double std) {
        return (data, shape, rng) -> {
            for (int i = 0; i < data.length; i++) data[i] = (float) (std * gaussian(rng));
        };
    }

    /**
     * He (Kaiming) normal for an HWIO kernel: std = sqrt(2 / fan_in), fan_in = KH·KW·I. Keeps ReLU
     * activations at unit scale; under weight standardisation only the direction matters anyway.
     */
    static Init heNormal() {
        return (data, shape, rng) -> {
            int fanIn = shape.size() / shape.dim(-1);
            normal(Math.sqrt(2.0 / fanIn)).fill(data, shape, rng);
        };
    }

    private static double gaussian(SplittableRandom rng) {
        // Box–Muller: SplittableRandom has no nextGaussian of its own before JDK 17's RandomGenerator default.
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
