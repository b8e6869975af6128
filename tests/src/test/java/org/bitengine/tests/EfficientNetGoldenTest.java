package org.bitengine.tests;

import static org.bitengine.tests.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.checkpoint.MapWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.torch.TorchStateDict;
import org.bitengine.models.efficientnet.EfficientNet;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.efficientnet.TorchvisionNames;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parity with torchvision's EfficientNet-B0 on the fixtures of {@code golden/efficientnet} (see its
 * README): the state dict read by {@link TorchStateDict}, renamed and transposed by
 * {@link TorchvisionNames}, run in eval mode on the NHWC input; logits and pooled features compared
 * with the float64 references within the README's |Δ| ≤ 1e-4 + 1e-4·|ref|, and the float32 files too.
 */
class EfficientNetGoldenTest {

    /**
     * The torchvision state dict is not copied here: the io module's tests keep the same file
     * (byte-identical to {@code shared/golden/efficientnet/b0_tv.pth}), and Maven runs this module's
     * tests from {@code tests/}.
     */
    static final Path STATE_DICT = Path.of("..", "io", "src", "test", "resources", "torch", "b0_tv.pth");

    private static Map<String, NpyArray> stateDict;

    @BeforeAll
    static void read() {
        assertTrue(Files.isRegularFile(STATE_DICT), "missing fixture " + STATE_DICT.toAbsolutePath());
        stateDict = TorchStateDict.read(STATE_DICT);
    }

    private record Loaded(EfficientNet model, LoadReport report) {}

    private static Loaded load(DType dtype) {
        ParameterStore store = ParameterStore.from(CpuBackend.get(), TorchvisionNames.weights(MapWeights.of(stateDict)), 0, dtype);
        EfficientNet model = new EfficientNet(EfficientNetConfig.b0(7), store);
        return new Loaded(model, store.report());
    }

    private static Tensor input(DType dtype) {
        NpyArray x = Golden.npy("efficientnet/input_nhwc.npy");
        return CpuBackend.get().cast(Tensor.of(x.toFloats(), x.shape()), dtype);
    }

    @Test
    void stateDictLoadsCompletely() {
        Loaded l = load(DType.F32);
        LoadReport r = l.report();
        assertEquals(360, stateDict.size());
        assertTrue(r.isComplete(), r.summary() + " missing " + r.missing() + " unused " + r.unused() + " mismatched " + r.mismatched());
        long dropped = stateDict.keySet().stream().filter(TorchvisionNames::isDropped).count();
        assertEquals(49, dropped, "one num_batches_tracked per BatchNorm");
        assertEquals(360 - dropped, r.applied().size());
        long values = l.model().parameters().values().stream().mapToLong(Tensor::size).sum();
        assertEquals(4_058_531, values, "the README's floating-point value count");
        System.out.println("EfficientNet-B0 torchvision load: " + r.summary() + ", dropped " + dropped + " num_batches_tracked");
    }

    /**
     * Float64 runs the reference loops, so it is held to 1e-9 (it measures ~3e-15), far inside the
     * README's 1e-4 + 1e-4·|ref|.
     */
    @Test
    void forwardMatchesTorchvisionInFloat64() {
        EfficientNet model = load(DType.F64).model();
        Tensor x = input(DType.F64);
        Tensor features = model.features(x);
        assertClose("efficientnet-b0 features f64 vs f64ref", features.toDoubleArray(),
                Golden.npy("efficientnet/features_f64ref.npy").toDoubles(), 1e-9, 1e-9);
        assertClose("efficientnet-b0 logits f64 vs f64ref", model.head(features).toDoubleArray(),
                Golden.npy("efficientnet/logits_f64ref.npy").toDoubles(), 1e-9, 1e-9);
    }

    @Test
    void forwardMatchesTorchvisionInFloat32() {
        EfficientNet model = load(DType.F32).model();
        Tensor x = input(DType.F32);
        Tensor features = model.features(x);
        double[] f = features.toDoubleArray();
        double[] logits = model.head(features).toDoubleArray();
        assertClose("efficientnet-b0 features f32 vs f64ref", f, Golden.npy("efficientnet/features_f64ref.npy").toDoubles(), 1e-4, 1e-4);
        assertClose("efficientnet-b0 logits f32 vs f64ref", logits, Golden.npy("efficientnet/logits_f64ref.npy").toDoubles(), 1e-4, 1e-4);
        assertClose("efficientnet-b0 features f32 vs torch f32", f, Golden.npy("efficientnet/features.npy").toDoubles(), 1e-4, 1e-4);
        assertClose("efficientnet-b0 logits f32 vs torch f32", logits, Golden.npy("efficientnet/logits.npy").toDoubles(), 1e-4, 1e-4);
    }
}
