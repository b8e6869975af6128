package org.bitengine.tests.cuda;

import static org.bitengine.tests.Golden.assertClose;
import static org.bitengine.tests.Golden.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.Devices;
import org.bitengine.engine.backend.cuda.CudaBackend;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.checkpoint.NpzWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.bitengine.tests.Golden;
import org.junit.jupiter.api.Test;

/**
 * The float32 BiT golden fixtures ({@code golden/bit}, the same files and tolerances as
 * {@code BitGoldenTest}) with the model on the GPU, TF32 off: forward with every tap, loss and every
 * full gradient, two SGD steps. Skipped where no GPU opens.
 */
class BitGoldenCudaTest {

    private static final String WEIGHTS = "bit/forward/weights_bit.npz";
    private static final int[] LABELS = {6, 1, 3};

    private static BitResNet load(CudaBackend gpu) {
        try (NpzWeights weights = NpzWeights.open(Golden.path(WEIGHTS))) {
            ParameterStore store = ParameterStore.from(gpu, weights, 0, DType.F32);
            return new BitResNet(BitConfig.inferFrom(weights, WEIGHTS), store);
        }
    }

    private static Tensor input(CudaBackend gpu) {
        NpyArray x = Golden.npy("bit/forward/input_nhwc.npy");
        return Devices.to(Tensor.of(x.toFloats(), x.shape()), gpu);
    }

    private static Tensor loss(BitResNet model, CudaBackend gpu) {
        return Ops.mean(Ops.softmaxCrossEntropy(model.forward(input(gpu)), gpu.fromHost(LABELS, org.bitengine.engine.tensor.Shape.of(3))));
    }

    @Test
    void forwardAndEveryTapMatchOnTheGpu() {
        CudaBackend gpu = GpuBackends.exact();
        BitResNet model = load(gpu);
        Map<String, Tensor> taps = new HashMap<>();
        Tensor logits = model.forward(input(gpu), taps);
        assertEquals(gpu, logits.backend());
        assertClose("gpu forward logits", logits.toDoubleArray(), Golden.npy("bit/forward/logits.npy").toDoubles(), 1e-4, 1e-4);
        try (NpzReader acts = Golden.npz("bit/forward/activations_nchw.npz")) {
            for (String name : BitResNet.TAPS) {
                NpyArray a = acts.read(name);
                int[] s = a.shape();
                double[] expected = Golden.nchwToNhwc(a.toDoubles(), s[0], s[1], s[2], s[3]);
                assertClose("gpu activation " + name, taps.get(name).toDoubleArray(), expected, 1e-4 * maxAbs(expected), 0);
            }
        }
    }

    @Test
    void lossAndEveryFullGradientMatchOnTheGpu() {
        CudaBackend gpu = GpuBackends.exact();
        BitResNet model = load(gpu);
        try (Tape tape = Tape.record()) {
            Tensor loss = loss(model, gpu);
            double ref = Golden.npy("bit/grads/loss.npy").toDoubles()[0];
            assertClose("gpu loss", new double[] {loss.item()}, new double[] {ref}, 1e-5, 0);
            tape.backward(loss);
        }
        int checked = 0;
        try (NpzReader full = Golden.npz("bit/grads/grads_full_bit.npz")) {
            for (String key : full.keys()) {
                double[] ref = full.read(key).toDoubles();
                assertClose("gpu grad " + key, model.parameters().get(key).grad().toDoubleArray(), ref, 1e-4 * maxAbs(ref), 0);
                checked++;
            }
        }
        assertTrue(checked > 0, "some gradients are compared");
    }

    @Test
    void twoSgdStepsMatchOnTheGpu() {
        CudaBackend gpu = GpuBackends.exact();
        BitResNet model = load(gpu);
        Sgd sgd = new Sgd(model.parameters(), 0.9);
        double[] refLosses = Golden.npy("bit/sgd/losses_before_each_step.npy").toDoubles();
        for (int step = 1; step <= 2; step++) {
            sgd.zeroGrad();
            try (Tape tape = Tape.record()) {
                Tensor loss = loss(model, gpu);
                assertClose("gpu sgd loss before step " + step, new double[] {loss.item()}, new double[] {refLosses[step - 1]}, 1e-5, 0);
                tape.backward(loss);
            }
            sgd.step(0.003);
            try (NpzReader full = Golden.npz("bit/sgd/after_step" + step + "_full_bit.npz")) {
                for (String key : full.keys()) {
                    assertClose("gpu after step " + step + " " + key, model.parameters().get(key).toDoubleArray(),
                            full.read(key).toDoubles(), 1e-6, 0);
                }
            }
        }
        assertClose("gpu logits after step 2", model.forward(input(gpu)).toDoubleArray(),
                Golden.npy("bit/sgd/logits_after_step2.npy").toDoubles(), 1e-4, 1e-4);
    }
}
