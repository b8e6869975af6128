package org.bitengine.tests;

import static org.bitengine.tests.Golden.assertClose;
import static org.bitengine.tests.Golden.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.checkpoint.Checkpoints;
import org.bitengine.io.checkpoint.NpzWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity with the official BiT PyTorch implementation on the fixtures of {@code golden/bit} (see its
 * README): forward, loss and every parameter gradient, and two SGD steps, in float32 against the
 * float32 files with the README's tolerances, and in float64 against the {@code f64ref} files.
 */
class BitGoldenTest {

    private static final String WEIGHTS = "bit/forward/weights_bit.npz";
    private static final int[] LABELS = {6, 1, 3};

    private record Loaded(BitResNet model, LoadReport report) {}

    private static Loaded load(DType dtype) {
        try (NpzWeights weights = NpzWeights.open(Golden.path(WEIGHTS))) {
            ParameterStore store = ParameterStore.from(CpuBackend.get(), weights, 0, dtype);
            BitResNet model = new BitResNet(BitConfig.inferFrom(weights, WEIGHTS), store);
            return new Loaded(model, store.report());
        }
    }

    private static Tensor input(DType dtype) {
        NpyArray x = Golden.npy("bit/forward/input_nhwc.npy");
        return CpuBackend.get().cast(Tensor.of(x.toFloats(), x.shape()), dtype);
    }

    private static Tensor labels() {
        return Tensor.ofInts(LABELS, 3);
    }

    private static Tensor loss(BitResNet model, Tensor x, Tensor labels) {
        return Ops.mean(Ops.softmaxCrossEntropy(model.forward(x), labels));
    }

    @Test
    void checkpointLoadsCompletelyWithInferredArchitecture() {
        Loaded l = load(DType.F32);
        assertTrue(l.report().isComplete(), l.report().summary());
        assertEquals(45, l.report().applied().size());
        BitConfig c = l.model().config();
        assertEquals(List.of(1, 1, 1, 1), c.blockUnits());
        assertEquals(1, c.widthFactor());
        assertEquals(7, c.headSize());
        long count = l.model().parameters().values().stream().mapToLong(Tensor::size).sum();
        assertEquals(8_022_599, count);
    }

    /** A checkpoint whose head has another class count: the body loads, the new head starts at zero. */
    @Test
    void replacingTheHeadForNewClassesStartsItAtZero() {
        try (NpzWeights weights = NpzWeights.open(Golden.path(WEIGHTS))) {
            ParameterStore store = ParameterStore.from(CpuBackend.get(), weights, 0);
            BitResNet model = new BitResNet(BitConfig.inferFrom(weights, WEIGHTS).withHead(5, true), store);
            LoadReport report = store.report();
            assertEquals(43, report.applied().size());
            assertEquals(List.of("resnet/head/conv2d/kernel", "resnet/head/conv2d/bias"),
                    report.mismatched().stream().map(LoadReport.Mismatch::key).toList());
            for (String key : List.of("resnet/head/conv2d/kernel", "resnet/head/conv2d/bias")) {
                for (double v : model.parameters().get(key).toDoubleArray()) assertEquals(0.0, v, key);
            }
            double[] logits = model.forward(input(DType.F32)).toDoubleArray();
            assertEquals(15, logits.length);
            for (double v : logits) assertEquals(0.0, v, "a zero head gives zero logits");
        }
    }

    @Test
    void forwardMatchesInFloat32() {
        BitResNet model = load(DType.F32).model();
        Map<String, Tensor> taps = new HashMap<>();
        Tensor logits = model.forward(input(DType.F32), taps);
        double[] ref = Golden.npy("bit/forward/logits.npy").toDoubles();
        assertClose("forward logits f32", logits.toDoubleArray(), ref, 1e-4, 1e-4);
        double[] pre = Golden.npy("bit/forward/prelogits.npy").toDoubles();
        assertClose("forward prelogits f32", model.features(input(DType.F32)).toDoubleArray(), pre, 1e-4, 1e-4);

        try (NpzReader acts = Golden.npz("bit/forward/activations_nchw.npz")) {
            for (String name : BitResNet.TAPS) {
                NpyArray a = acts.read(name);
                int[] s = a.shape();
                double[] expected = Golden.nchwToNhwc(a.toDoubles(), s[0], s[1], s[2], s[3]);
                Tensor actual = taps.get(name);
                Golden.assertShape(name, new int[] {s[0], s[2], s[3], s[1]}, actual.shape().dims());
                assertClose("activation " + name + " f32", actual.toDoubleArray(), expected, 1e-4 * maxAbs(expected), 0);
            }
        }
    }

    @Test
    void forwardMatchesInFloat64() {
        BitResNet model = load(DType.F64).model();
        double[] ref = Golden.npy("bit/forward/logits_f64ref.npy").toDoubles();
        assertClose("forward logits f64", model.forward(input(DType.F64)).toDoubleArray(), ref, 1e-9 * Math.max(1, maxAbs(ref)), 0);
        double[] pre = Golden.npy("bit/forward/prelogits_f64ref.npy").toDoubles();
        assertClose("forward prelogits f64", model.features(input(DType.F64)).toDoubleArray(), pre, 1e-9 * Math.max(1, maxAbs(pre)), 0);
    }

    @Test
    void lossAndEveryGradientMatchInFloat32() {
        checkGradients(DType.F32, "", 1e-5);
    }

    @Test
    void lossAndEveryGradientMatchInFloat64() {
        checkGradients(DType.F64, "_f64ref", 1e-9);
    }

    private void checkGradients(DType dtype, String suffix, double lossTolerance) {
        BitResNet model = load(dtype).model();
        try (Tape tape = Tape.record()) {
            Tensor loss = loss(model, input(dtype), labels());
            double refLoss = Golden.npy("bit/grads/loss" + suffix + ".npy").toDoubles()[0];
            assertClose("loss " + dtype, new double[] {loss.item()}, new double[] {refLoss}, lossTolerance, 0);
            tape.backward(loss);
        }
        compareGradients(model.parameters(), suffix, dtype == DType.F64);
    }

    /** Full gradients, output-channel slices and per-channel sums of squares: all 45 tensors. */
    private static void compareGradients(Map<String, Tensor> params, String suffix, boolean f64) {
        int checked = 0;
        try (NpzReader full = Golden.npz("bit/grads/grads_full" + suffix + "_bit.npz");
             NpzReader slices = Golden.npz("bit/grads/grads_outslices" + suffix + "_bit.npz");
             NpzReader sumsq = Golden.npz("bit/grads/grads_outchannel_sumsq" + suffix + "_bit.npz");
             NpzReader channels = Golden.npz("bit/grads/outslice_channels.npz")) {
            for (String key : full.keys()) {
                double[] ref = full.read(key).toDoubles();
                double[] g = params.get(key).grad().toDoubleArray();
                assertClose("grad " + key + (f64 ? " f64" : " f32"), g, ref, tolerance(ref, f64, 1e-4), 0);
                checked++;
            }
            for (String key : slices.keys()) {
                Tensor grad = params.get(key).grad();
                double[] g = grad.toDoubleArray();
                long[] idx = channels.read(key).toLongs();
                double[] ref = slices.read(key).toDoubles();
                assertClose("grad slice " + key + (f64 ? " f64" : " f32"), outSlice(g, grad.shape().dim(-1), idx), ref, tolerance(ref, f64, 1e-4), 0);
                double[] refSq = sumsq.read(key).toDoubles();
                double[] sq = sumOfSquaresPerOut(g, grad.shape().dim(-1));
                assertClose("grad sumsq " + key + (f64 ? " f64" : " f32"), sq, refSq, f64 ? 1e-9 * Math.max(1, maxAbs(refSq)) : 0, f64 ? 0 : 2e-4);
                checked++;
            }
        }
        assertEquals(45, checked, "every parameter tensor is compared");
    }

    private static double tolerance(double[] ref, boolean f64, double f32Relative) {
        return f64 ? 1e-9 * Math.max(1, maxAbs(ref)) : f32Relative * maxAbs(ref);
    }

    /** g[..., idx] of a tensor whose last dimension is {@code out}. */
    static double[] outSlice(double[] g, int out, long[] idx) {
        int rows = g.length / out;
        double[] s = new double[rows * idx.length];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < idx.length; j++) s[r * idx.length + j] = g[r * out + (int) idx[j]];
        return s;
    }

    static double[] sumOfSquaresPerOut(double[] g, int out) {
        double[] s = new double[out];
        for (int i = 0; i < g.length; i++) s[i % out] += g[i] * g[i];
        return s;
    }

    @Test
    void twoSgdStepsMatchInFloat32() {
        BitResNet model = load(DType.F32).model();
        Sgd sgd = new Sgd(model.parameters(), 0.9);
        double[] refLosses = Golden.npy("bit/sgd/losses_before_each_step.npy").toDoubles();
        for (int step = 1; step <= 2; step++) {
            sgd.zeroGrad();
            try (Tape tape = Tape.record()) {
                Tensor loss = loss(model, input(DType.F32), labels());
                assertClose("sgd loss before step " + step, new double[] {loss.item()}, new double[] {refLosses[step - 1]}, 1e-5, 0);
                tape.backward(loss);
            }
            sgd.step(0.003);
            compareParameters(model.parameters(), "bit/sgd/after_step" + step);
        }
        double[] refLogits = Golden.npy("bit/sgd/logits_after_step2.npy").toDoubles();
        assertClose("logits after step 2", model.forward(input(DType.F32)).toDoubleArray(), refLogits, 1e-4, 1e-4);
    }

    private static void compareParameters(Map<String, Tensor> params, String prefix) {
        int checked = 0;
        try (NpzReader full = Golden.npz(prefix + "_full_bit.npz");
             NpzReader slices = Golden.npz(prefix + "_outslices_bit.npz");
             NpzReader channels = Golden.npz("bit/sgd/outslice_channels.npz")) {
            for (String key : full.keys()) {
                assertClose(prefix + " " + key, params.get(key).toDoubleArray(), full.read(key).toDoubles(), 1e-6, 0);
                checked++;
            }
            for (String key : slices.keys()) {
                Tensor p = params.get(key);
                double[] s = outSlice(p.toDoubleArray(), p.shape().dim(-1), channels.read(key).toLongs());
                assertClose(prefix + " slice " + key, s, slices.read(key).toDoubles(), 1e-6, 0);
                checked++;
            }
        }
        assertEquals(45, checked);
    }

    /** GroupNorm is per sample, so three micro-batches of loss/3 give the full batch's gradient (batch_split). */
    @Test
    void microBatchesAccumulateToTheFullBatchGradient() {
        BitResNet whole = load(DType.F32).model();
        try (Tape tape = Tape.record()) {
            tape.backward(loss(whole, input(DType.F32), labels()));
        }
        BitResNet split = load(DType.F32).model();
        float[] x = input(DType.F32).toFloatArray();
        int per = 48 * 48 * 3;
        for (int i = 0; i < 3; i++) {
            Tensor xi = Tensor.of(java.util.Arrays.copyOfRange(x, i * per, (i + 1) * per), 1, 48, 48, 3);
            try (Tape tape = Tape.record()) {
                tape.backward(Ops.scale(loss(split, xi, Tensor.ofInts(new int[] {LABELS[i]}, 1)), 1.0 / 3));
            }
        }
        for (String key : whole.parameters().keySet()) {
            double[] ref = whole.parameters().get(key).grad().toDoubleArray();
            double[] g = split.parameters().get(key).grad().toDoubleArray();
            assertClose("batch split " + key, g, ref, 1e-5 * maxAbs(ref), 0);
        }
    }

    @Test
    void savedWeightsKeepTheOfficialNamingAndValues(@TempDir Path dir) {
        BitResNet model = load(DType.F32).model();
        Path out = dir.resolve("saved.npz");
        Checkpoints.saveWeights(out, model.parameters());
        try (NpzReader saved = NpzReader.open(out); NpzReader original = Golden.npz(WEIGHTS)) {
            assertEquals(new java.util.TreeSet<>(original.keys()), new java.util.TreeSet<>(saved.keys()));
            for (String key : original.keys()) {
                NpyArray a = saved.read(key);
                NpyArray b = original.read(key);
                Golden.assertShape(key, b.shape(), a.shape());
                assertTrue(java.util.Arrays.equals(b.toFloats(), a.toFloats()), key + " values differ after save");
            }
        }
    }
}
