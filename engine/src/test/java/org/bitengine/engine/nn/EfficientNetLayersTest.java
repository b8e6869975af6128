package org.bitengine.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The nn layers EfficientNet adds: BatchNorm (modes, buffers, running statistics), Conv2d/Linear with bias, SE. */
class EfficientNetLayersTest {

    private static final CpuBackend BE = CpuBackend.get();

    private static Tensor random(long seed, int... dims) {
        Random r = new Random(seed);
        float[] v = new float[Shape.of(dims).size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Tensor.of(v, dims);
    }

    @Test
    void batchNormHasParametersAndGradientFreeBuffers() {
        ParameterStore store = ParameterStore.random(BE, 1);
        new BatchNorm(BatchNorm.Config.pytorch(4), store.root().at("bn"));
        Map<String, Tensor> p = store.parameters();
        assertEquals(List.of("bn/weight", "bn/bias", "bn/running_mean", "bn/running_var"), List.copyOf(p.keySet()));
        assertTrue(p.get("bn/weight").requiresGrad());
        assertTrue(p.get("bn/bias").requiresGrad());
        assertFalse(p.get("bn/running_mean").requiresGrad());
        assertFalse(p.get("bn/running_var").requiresGrad());
        assertArrayEquals(new float[] {1, 1, 1, 1}, p.get("bn/running_var").toFloatArray());
        assertEquals(0.01, BatchNorm.Config.keras(4, 1e-3, 0.99).momentum(), 1e-12);
    }

    @Test
    void trainModeNormalisesWithBatchStatisticsAndUpdatesRunningOnes() {
        ParameterStore store = ParameterStore.random(BE, 1);
        BatchNorm bn = new BatchNorm(BatchNorm.Config.pytorch(3), store.root());
        Tensor x = random(2, 2, 4, 4, 3);
        Tensor expectedY = BE.batchNorm(x, BE.full(x.dtype(), Shape.of(3), 1), BE.zeros(x.dtype(), Shape.of(3)), 1e-5).y();
        var stats = BE.batchNorm(x, BE.full(x.dtype(), Shape.of(3), 1), BE.zeros(x.dtype(), Shape.of(3)), 1e-5);
        Tensor y;
        try (Tape tape = Tape.record()) {
            y = bn.forward(x);
            tape.backward(Ops.sum(Ops.mul(y, random(3, 2, 4, 4, 3))));
        }
        assertArrayEquals(expectedY.toFloatArray(), y.toFloatArray(), 0f);
        float[] mean = stats.mean().toFloatArray(), var = stats.unbiasedVar().toFloatArray();
        for (int c = 0; c < 3; c++) {
            assertEquals(0.1f * mean[c], bn.runningMean().toFloatArray()[c], 1e-7f);
            assertEquals(0.9f + 0.1f * var[c], bn.runningVar().toFloatArray()[c], 1e-6f);
        }
        assertNotNull(store.parameters().get("weight").grad());
        assertNotNull(store.parameters().get("bias").grad());
        assertNull(bn.runningMean().grad());
    }

    @Test
    void evalUsesRunningStatisticsAndFrozenGivesTheAffineNoGradient() {
        ParameterStore store = ParameterStore.random(BE, 1);
        BatchNorm bn = new BatchNorm(new BatchNorm.Config(3, 1e-3, 0.1), store.root());
        BE.copyInPlace(bn.runningMean(), Tensor.of(new float[] {0.5f, -1f, 2f}, 3));
        BE.copyInPlace(bn.runningVar(), Tensor.of(new float[] {4f, 0.25f, 1f}, 3));
        Tensor gamma = store.parameters().get("weight"), beta = store.parameters().get("bias");
        for (BatchNorm.Mode mode : new BatchNorm.Mode[] {BatchNorm.Mode.EVAL, BatchNorm.Mode.FROZEN}) {
            gamma.zeroGrad();
            beta.zeroGrad();
            Tensor x = random(4, 2, 3, 3, 3).requiresGrad(true);
            Tensor y;
            try (Tape tape = Tape.record()) {
                y = bn.mode(mode).forward(x);
                tape.backward(Ops.sum(y));
            }
            float[] xv = x.toFloatArray(), yv = y.toFloatArray();
            float[] rm = {0.5f, -1f, 2f}, rv = {4f, 0.25f, 1f};
            for (int i = 0; i < xv.length; i++) {
                int c = i % 3;
                assertEquals((xv[i] - rm[c]) / Math.sqrt(rv[c] + 1e-3), yv[i], 1e-6, mode + " y");
            }
            assertNotNull(x.grad(), mode + ": x gets a gradient");
            assertEquals(1 / Math.sqrt(0.25 + 1e-3), x.grad().toFloatArray()[1], 1e-5, mode + " dx");
            if (mode == BatchNorm.Mode.EVAL) {
                assertNotNull(gamma.grad());
                assertArrayEquals(new float[] {18, 18, 18}, beta.grad().toFloatArray(), 1e-5f);
            } else {
                assertNull(gamma.grad(), "frozen: no gradient to gamma");
                assertNull(beta.grad(), "frozen: no gradient to beta");
            }
            assertArrayEquals(rm, bn.runningMean().toFloatArray(), "running statistics untouched outside TRAIN");
        }
    }

    @Test
    void squeezeExciteWithZeroWeightsHalvesTheInput() {
        ParameterStore store = ParameterStore.random(BE, 1);
        SqueezeExcite se = new SqueezeExcite(new SqueezeExcite.Config(6, 2), store.root().at("se"));
        assertEquals(Shape.of(1, 1, 6, 2), store.parameters().get("se/reduce/kernel").shape());
        assertEquals(Shape.of(2), store.parameters().get("se/reduce/bias").shape());
        assertEquals(Shape.of(1, 1, 2, 6), store.parameters().get("se/expand/kernel").shape());
        Tensor x = random(5, 2, 3, 3, 6);
        // Random kernels: the scale is sigmoid(...) per sample and channel, so y/x is constant over H, W.
        float[] xv = x.toFloatArray(), yv = se.forward(x).toFloatArray();
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 6; c++) {
                double ratio = yv[n * 54 + c] / xv[n * 54 + c];
                assertTrue(ratio > 0 && ratio < 1);
                for (int p = 1; p < 9; p++) assertEquals(ratio, yv[n * 54 + p * 6 + c] / xv[n * 54 + p * 6 + c], 1e-5);
            }
        }
        for (String k : List.of("se/reduce/kernel", "se/expand/kernel")) {
            Tensor t = store.parameters().get(k);
            BE.copyInPlace(t, BE.zeros(t.dtype(), t.shape()));
        }
        float[] half = se.forward(x).toFloatArray();
        for (int i = 0; i < xv.length; i++) assertEquals(0.5f * xv[i], half[i], 1e-7f);
    }

    @Test
    void conv2dAndLinearAddTheirBias() {
        ParameterStore store = ParameterStore.random(BE, 1);
        Conv2d conv = new Conv2d(new Conv2d.Config(4, 4, 3, new ConvSpec(1, 1, 1, 1, 1, 1, 4), true), store.root().at("dw"));
        Linear lin = new Linear(new Linear.Config(4, 3, true), store.root().at("fc"));
        assertEquals(Shape.of(3, 3, 1, 4), store.parameters().get("dw/kernel").shape());
        BE.copyInPlace(store.parameters().get("dw/bias"), Tensor.of(new float[] {1, 2, 3, 4}, 4));
        BE.copyInPlace(store.parameters().get("fc/bias"), Tensor.of(new float[] {1, 2, 3}, 3));
        Tensor x = random(6, 2, 5, 5, 4);
        Tensor noBias = Ops.conv2d(x, store.parameters().get("dw/kernel"), new ConvSpec(1, 1, 1, 1, 1, 1, 4));
        float[] a = noBias.toFloatArray(), b = conv.forward(x).toFloatArray();
        for (int i = 0; i < a.length; i++) assertEquals(a[i] + (i % 4) + 1, b[i], 1e-6f);
        Tensor v = random(7, 2, 4);
        float[] m = Ops.matmul(v, store.parameters().get("fc/kernel")).toFloatArray(), l = lin.forward(v).toFloatArray();
        for (int i = 0; i < m.length; i++) assertEquals(m[i] + (i % 3) + 1, l[i], 1e-6f);
    }
}
