package org.bitengine.models.efficientnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.nn.BatchNorm;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class EfficientNetTest {

    private static long trainable(EfficientNet m) {
        return m.parameters().values().stream().filter(Tensor::requiresGrad).mapToLong(Tensor::size).sum();
    }

    private static long buffers(EfficientNet m) {
        return m.parameters().values().stream().filter(t -> !t.requiresGrad()).mapToLong(Tensor::size).sum();
    }

    private static Tensor input(int n, int side, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * side * side * 3];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 4 - 2);
        return Tensor.of(x, n, side, side, 3);
    }

    @Test
    void makeDivisibleRoundsLikeTorchvision() {
        assertEquals(32, EfficientNetConfig.makeDivisible(32));
        assertEquals(32, EfficientNetConfig.makeDivisible(35.2)); // 32·1.1: int(39.2) // 8 · 8 = 32 ≥ 0.9·35.2
        assertEquals(88, EfficientNetConfig.makeDivisible(88)); // 80·1.1
        assertEquals(48, EfficientNetConfig.makeDivisible(44.8)); // 32·1.4
        assertEquals(8, EfficientNetConfig.makeDivisible(3));
        assertEquals(64, EfficientNetConfig.makeDivisible(60)); // rounds half up: int(60 + 4) // 8 · 8
        assertEquals(16, EfficientNetConfig.makeDivisible(12)); // 8 < 0.9·12 would be 8 → bumped to 16
    }

    @Test
    void b0HasTorchvisionsParameterCount() {
        EfficientNetConfig c = EfficientNetConfig.b0(1000);
        assertEquals(5_288_548, c.parameterCount());
        EfficientNet m = new EfficientNet(c, ParameterStore.random(CpuBackend.get(), 1));
        assertEquals(5_288_548, trainable(m));
        assertEquals(c.bufferCount(), buffers(m));
        assertEquals(16, c.blocks().size());
        assertEquals(32, c.stemChannels());
        assertEquals(1280, c.featureSize());
        assertEquals(List.of(EfficientNet.CLASSIFIER_KERNEL, EfficientNet.CLASSIFIER_BIAS), m.headParameterKeys());
        assertEquals(1, m.parameters().keySet().stream().filter(k -> k.equals("efficientnet/blocks/00/depthwise/conv/kernel")).count());
        assertFalse(m.parameters().containsKey("efficientnet/blocks/00/expand/conv/kernel"), "block 0 has expand ratio 1");
        assertArrayEquals(new int[] {3, 3, 1, 32}, m.parameters().get("efficientnet/blocks/00/depthwise/conv/kernel").shape().dims());
        assertArrayEquals(new int[] {1, 1, 96, 4}, m.parameters().get("efficientnet/blocks/01/se/reduce/kernel").shape().dims());
    }

    /** The fixture's B0 with 7 classes: 4,058,531 floating-point values including running statistics (its README). */
    @Test
    void b0WithSevenClassesMatchesTheFixturesValueCount() {
        EfficientNetConfig c = EfficientNetConfig.b0(7);
        assertEquals(4_058_531, c.parameterCount() + c.bufferCount());
    }

    /** torchvision's documented parameter counts (ImageNet, 1000 classes). */
    @Test
    void b1ToB7HaveTorchvisionsParameterCounts() {
        long[] expected = {5_288_548, 7_794_184, 9_109_994, 12_233_232, 19_341_616, 30_389_784, 43_040_704, 66_347_960};
        int[] features = {1280, 1280, 1408, 1536, 1792, 2048, 2304, 2560};
        int[] stems = {32, 32, 32, 40, 48, 48, 56, 64};
        int[] blocks = {16, 23, 23, 26, 32, 39, 45, 55};
        for (int v = 0; v < 8; v++) {
            EfficientNetConfig c = EfficientNetConfig.preset("b" + v, 1000);
            System.out.println(c.describe() + ": " + c.parameterCount() + " parameters");
            assertEquals(expected[v], c.parameterCount(), c.variant());
            assertEquals(features[v], c.featureSize(), c.variant());
            assertEquals(stems[v], c.stemChannels(), c.variant());
            assertEquals(blocks[v], c.blocks().size(), c.variant());
        }
        assertEquals(1e-3, EfficientNetConfig.b5(10).bnEps());
        assertEquals(1e-5, EfficientNetConfig.b4(10).bnEps());
    }

    @Test
    void builtModelsAgreeWithTheComputedCounts() {
        for (EfficientNetConfig c : List.of(EfficientNetConfig.b1(10), EfficientNetConfig.b3(10))) {
            EfficientNet m = new EfficientNet(c, ParameterStore.random(CpuBackend.get(), 2));
            assertEquals(c.parameterCount(), trainable(m), c.variant());
            assertEquals(c.bufferCount(), buffers(m), c.variant());
        }
    }

    @Test
    void stochasticDepthGrowsLinearlyOverBlocks() {
        List<EfficientNetConfig.Block> b = EfficientNetConfig.b0(10).blocks();
        assertEquals(0.0, b.get(0).stochasticDepth());
        assertEquals(0.2 * 15 / 16, b.get(15).stochasticDepth(), 1e-12);
        assertEquals(2, b.get(1).stride());
        assertEquals(1, b.get(2).stride());
        assertTrue(b.get(2).residual());
        assertFalse(b.get(1).residual());
    }

    @Test
    void forwardIsHeadOfFeaturesAndModesSwitch() {
        EfficientNet m = new EfficientNet(EfficientNetConfig.b0(5), ParameterStore.random(CpuBackend.get(), 3));
        Tensor x = input(2, 64, 4);
        Tensor f = m.features(x);
        assertArrayEquals(new int[] {2, 1280}, f.shape().dims());
        Tensor logits = m.forward(x);
        assertArrayEquals(new int[] {2, 5}, logits.shape().dims());
        assertArrayEquals(m.head(f).toDoubleArray(), logits.toDoubleArray(), 0.0);
        for (BatchNorm b : m.batchNorms()) assertEquals(BatchNorm.Mode.EVAL, b.mode());

        double[] before = m.batchNorms().getFirst().runningMean().toDoubleArray();
        m.train(new SplittableRandom(5));
        Tensor t = m.forward(x);
        assertArrayEquals(new int[] {2, 5}, t.shape().dims());
        assertFalse(java.util.Arrays.equals(before, m.batchNorms().getFirst().runningMean().toDoubleArray()),
                "training updates the running statistics");
        m.batchNormMode(BatchNorm.Mode.FROZEN);
        for (BatchNorm b : m.batchNorms()) assertEquals(BatchNorm.Mode.FROZEN, b.mode());
        assertTrue(m.training());
        m.eval();
        assertArrayEquals(logits.shape().dims(), m.forward(x).shape().dims());
        assertFalse(m.training());
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.of(new float[12], 1, 2, 2, 3).view(
                org.bitengine.engine.tensor.Shape.of(1, 2, 6))));
    }

    @Test
    void trainingGivesGradientsToEveryParameter() {
        EfficientNet m = new EfficientNet(EfficientNetConfig.b0(3), ParameterStore.random(CpuBackend.get(), 6));
        m.train(new SplittableRandom(7));
        try (var tape = org.bitengine.engine.autograd.Tape.record()) {
            Tensor loss = Ops.mean(Ops.softmaxCrossEntropy(m.forward(input(2, 64, 8)), Tensor.ofInts(new int[] {0, 2}, 2)));
            tape.backward(loss);
        }
        for (var e : m.parameters().entrySet()) {
            if (e.getValue().requiresGrad()) assertTrue(e.getValue().grad() != null, e.getKey() + " has no gradient");
        }
    }

    /**
     * Keras padding keeps the output sizes of symmetric padding (ceil(n/2) per stride-2 conv, odd sizes
     * included) but shifts the window, so the same weights give other features; parity with Keras itself
     * is {@code KerasConvertTest}'s.
     */
    @Test
    void kerasPaddingRunsAndDiffersFromSymmetric() {
        EfficientNetConfig c = EfficientNetConfig.b0(10);
        // Same epsilon as c, so padding is the only difference. 37 → 19 → 10 → 5 → 3: the stride-2 convs see odd sizes
        // (where correct_pad is symmetric) and even ones (where it is not).
        EfficientNetConfig keras = new EfficientNetConfig("b0", 1, 1, 224, 0.2, c.bnEps(), c.bnMomentum(), 0.2, EfficientNetConfig.Padding.KERAS, 10);
        Tensor x = input(1, 37, 3);
        float[] k = new EfficientNet(keras, ParameterStore.random(CpuBackend.get(), 1)).features(x).toFloatArray();
        float[] s = new EfficientNet(c, ParameterStore.random(CpuBackend.get(), 1)).features(x).toFloatArray();
        assertEquals(s.length, k.length);
        assertFalse(java.util.Arrays.equals(s, k), "asymmetric padding must change the result");
        assertEquals(c, EfficientNetConfig.preset("efficientnet_b0", 10));
        assertThrows(IllegalArgumentException.class, () -> EfficientNetConfig.preset("b8", 10));
    }
}
