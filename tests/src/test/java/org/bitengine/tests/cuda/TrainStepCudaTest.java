package org.bitengine.tests.cuda;

import static org.bitengine.tests.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.Devices;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cuda.CudaBackend;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.junit.jupiter.api.Test;

/**
 * A whole BiT-R50x1 training step on the GPU against the same step on the CPU, from the same random
 * init (non-zero head so every gradient flows; batch 4 at 64×64, 10 classes, TF32 off): the loss,
 * every gradient, every parameter after the SGD update, and the loss after it.
 *
 * <p>How close is close enough: this step is ill-conditioned in float32 (early-layer gradients of
 * the CPU's own float32 run differ from its float64 run by ~1% of their largest magnitude), so the
 * GPU is held to being about as accurate as the CPU: see {@link #asAccurateAsTheCpu} (a wiring error
 * shows as a distance of the order of 1; op-level accuracy is held to 1e-4 by the parity suite).
 * The losses (well-conditioned) are compared directly. Skipped where no GPU opens.
 */
class TrainStepCudaTest {

    private static final int BATCH = 4, SIZE = 64, CLASSES = 10;

    private record Run(double loss, Map<String, double[]> grads, Map<String, double[]> updated, double nextLoss) {}

    private static Run step(Backend backend, DType dtype, float[] images, int[] labels) {
        BitResNet model = new BitResNet(BitConfig.named("BiT-R50x1", CLASSES, false), ParameterStore.from(backend, null, 7, dtype));
        Sgd sgd = new Sgd(model.parameters(), 0.9);
        Tensor x = backend.cast(Devices.to(Tensor.of(images, BATCH, SIZE, SIZE, 3), backend), dtype);
        Tensor y = Devices.to(Tensor.ofInts(labels, BATCH), backend);
        double loss;
        try (Tape tape = Tape.record()) {
            Tensor l = Ops.mean(Ops.softmaxCrossEntropy(model.forward(x), y));
            tape.backward(l);
            loss = l.item();
        }
        Map<String, double[]> grads = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> grads.put(k, p.grad().toDoubleArray()));
        sgd.step(0.003);
        Map<String, double[]> updated = new LinkedHashMap<>();
        model.parameters().forEach((k, p) -> updated.put(k, p.toDoubleArray()));
        double nextLoss = Ops.mean(Ops.softmaxCrossEntropy(model.forward(x), y)).item();
        return new Run(loss, grads, updated, nextLoss);
    }

    @Test
    void bitR50TrainingStepIsAsAccurateAsTheCpu() {
        CudaBackend gpu = GpuBackends.exact();
        SplittableRandom rng = new SplittableRandom(11);
        float[] images = new float[BATCH * SIZE * SIZE * 3];
        for (int i = 0; i < images.length; i++) images[i] = (float) (rng.nextDouble() * 2 - 1);
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) labels[i] = rng.nextInt(CLASSES);

        Run exact = step(CpuBackend.get(), DType.F64, images, labels);
        Run cpu = step(CpuBackend.get(), DType.F32, images, labels);
        Run onGpu = step(gpu, DType.F32, images, labels);
        assertClose("loss", new double[] {onGpu.loss()}, new double[] {cpu.loss()}, 1e-4, 1e-4);
        asAccurateAsTheCpu("gradient", exact.grads(), cpu.grads(), onGpu.grads());
        asAccurateAsTheCpu("parameter after the step", exact.updated(), cpu.updated(), onGpu.updated());
        assertClose("loss after the step", new double[] {onGpu.nextLoss()}, new double[] {cpu.nextLoss()}, 0, 1e-2);
    }

    /**
     * Per tensor, the relative L2 distance ‖gpu − exact‖/‖exact‖ from the float64 run is at most 3 times
     * the float32 CPU run's largest such distance over all tensors, plus 1e-4. The CPU's distance of a
     * single tensor is no yardstick: it varies by chance from 1e-5 to 1e-2 between neighbouring tensors.
     */
    private static void asAccurateAsTheCpu(String what, Map<String, double[]> exact, Map<String, double[]> cpu,
                                           Map<String, double[]> gpu) {
        double worstCpu = 0;
        for (String key : exact.keySet()) worstCpu = Math.max(worstCpu, relativeDistance(cpu.get(key), exact.get(key)));
        for (String key : exact.keySet()) {
            double d = relativeDistance(gpu.get(key), exact.get(key));
            assertTrue(d <= 3 * worstCpu + 1e-4, String.format(java.util.Locale.ROOT,
                    "%s %s: relative L2 distance from the float64 CPU run is %.3g on the GPU, at most %.3g on the float32 CPU run",
                    what, key, d, worstCpu));
        }
        System.out.printf(java.util.Locale.ROOT, "accuracy of every %s: within 3 x %.2e + 1e-4 (relative L2, float32 CPU worst)%n",
                what, worstCpu);
    }

    private static double relativeDistance(double[] a, double[] exact) {
        double norm = 0, d = 0;
        for (int i = 0; i < exact.length; i++) {
            norm += exact[i] * exact[i];
            d += (a[i] - exact[i]) * (a[i] - exact[i]);
        }
        return norm == 0 ? Math.sqrt(d) : Math.sqrt(d / norm);
    }
}
