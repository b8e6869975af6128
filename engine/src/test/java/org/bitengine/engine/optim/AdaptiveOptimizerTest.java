package org.bitengine.engine.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Adam and RMSprop against the update rules of torch.optim's documentation, recomputed here per
 * element in double: float64 tensors must agree to rounding, float32 ones to float precision; a run
 * restored from a saved state continues exactly as the uninterrupted one.
 */
class AdaptiveOptimizerTest {

    private static final int N = 37;
    private static final int STEPS = 5;
    private static final double[] LRS = {0.01, 0.003, 0.003, 0.001, 0.0};

    /** Gradient of step s (0-based) for element i: deterministic, with mixed signs and magnitudes. */
    private static double grad(int s, int i) {
        return Math.sin(0.7 * i + 1.3 * s) * Math.pow(10, (i % 5) - 3);
    }

    private static double[] start() {
        SplittableRandom r = new SplittableRandom(3);
        double[] p = new double[N];
        for (int i = 0; i < N; i++) p[i] = r.nextDouble(-1, 1);
        return p;
    }

    private static double[] expectedAdam(double b1, double b2, double eps) {
        double[] p = start();
        double[] m = new double[N], v = new double[N];
        for (int s = 0; s < STEPS; s++) {
            int t = s + 1;
            for (int i = 0; i < N; i++) {
                double g = grad(s, i);
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = v[i] / (1 - Math.pow(b2, t));
                // torch's documented form: p -= lr·m̂/(√v̂ + ε) with ε added after the correction of √v only.
                p[i] -= LRS[s] * mHat / (Math.sqrt(vHat) + eps);
            }
        }
        return p;
    }

    private static double[] expectedRmsProp(double alpha, double eps) {
        double[] p = start();
        double[] v = new double[N];
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++) {
                double g = grad(s, i);
                v[i] = alpha * v[i] + (1 - alpha) * g * g;
                p[i] -= LRS[s] * g / (Math.sqrt(v[i]) + eps);
            }
        }
        return p;
    }

    private interface Factory {
        Optimizer make(Map<String, Tensor> params);
    }

    /** Runs steps [from, to) on parameter "w" of the given dtype. */
    private static void run(Optimizer opt, Tensor w, boolean f64, int from, int to) {
        for (int s = from; s < to; s++) {
            double[] g = new double[N];
            for (int i = 0; i < N; i++) g[i] = grad(s, i);
            Tensor gt = f64 ? Tensor.of(g, N) : Tensor.of(toFloats(g), N);
            w.setGrad(gt);
            opt.step(LRS[s]);
            opt.zeroGrad();
        }
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    private static void check(Factory f, double[] expected) {
        Tensor w64 = Tensor.of(start(), N).requiresGrad(true);
        run(f.make(Map.of("w", w64)), w64, true, 0, STEPS);
        assertArrayEquals(expected, w64.toDoubleArray(), 1e-13);

        Tensor w32 = Tensor.of(toFloats(start()), N).requiresGrad(true);
        run(f.make(Map.of("w", w32)), w32, false, 0, STEPS);
        assertArrayEquals(expected, w32.toDoubleArray(), 2e-6);
    }

    @Test
    void adamFollowsTorchsUpdateRule() {
        check(p -> new Adam(p, 0.9, 0.999, 1e-8), expectedAdam(0.9, 0.999, 1e-8));
        check(p -> new Adam(p, 0.8, 0.99, 1e-3), expectedAdam(0.8, 0.99, 1e-3));
    }

    @Test
    void rmspropFollowsTorchsUpdateRule() {
        check(p -> new RmsProp(p, 0.9, 1e-8), expectedRmsProp(0.9, 1e-8));
        check(p -> new RmsProp(p, 0.99, 1e-3), expectedRmsProp(0.99, 1e-3));
    }

    @Test
    void restoredStateContinuesExactly() {
        for (Factory f : new Factory[] {p -> new Adam(p, 0.9, 0.999, 1e-8), p -> new RmsProp(p, 0.9, 1e-8), p -> new Sgd(p, 0.9)}) {
            Tensor whole = Tensor.of(toFloats(start()), N).requiresGrad(true);
            run(f.make(Map.of("w", whole)), whole, false, 0, STEPS);

            Tensor first = Tensor.of(toFloats(start()), N).requiresGrad(true);
            Optimizer a = f.make(Map.of("w", first));
            run(a, first, false, 0, 2);
            Map<String, float[]> saved = new LinkedHashMap<>();
            a.state().forEach((k, t) -> saved.put(k, t.toFloatArray()));

            Tensor second = Tensor.of(first.toFloatArray(), N).requiresGrad(true);
            Optimizer b = f.make(Map.of("w", second));
            b.restore(saved, 2);
            run(b, second, false, 2, STEPS);
            assertArrayEquals(whole.toFloatArray(), second.toFloatArray(), 0f, a.describe());
        }
    }

    @Test
    void stateIsNamedBySlotAndParameter() {
        Tensor w = Tensor.of(toFloats(start()), N).requiresGrad(true);
        Optimizer adam = new Adam(Map.of("block/w", w), 0.9, 0.999, 1e-8);
        run(adam, w, false, 0, 1);
        assertEquals(java.util.Set.of("adam_m/block/w", "adam_v/block/w"), adam.state().keySet());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> adam.restore(Map.of("momentum/block/w", new float[N]), 1));
        assertEquals("optimizer state 'momentum/block/w' matches no adam_m/adam_v buffer of a trainable parameter", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> adam.restore(Map.of("adam_m/block/w", new float[3]), 1));
        assertEquals("Adam, betas (0.9, 0.999), eps 1e-08, no weight decay", adam.describe());
        assertEquals("RMSprop, rho 0.9, eps 2.5e-05, no momentum, no weight decay", new RmsProp(Map.of(), 0.9, 2.5e-5).describe());
    }
}
