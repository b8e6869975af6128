package org.bitengine.tests.cuda;

import static org.bitengine.tests.Golden.assertClose;
import static org.bitengine.tests.Golden.maxAbs;

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
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.junit.jupiter.api.Test;

/**
 * A whole BiT-R50x1 training step (random init from the same seed, non-zero head so every gradient
 * flows, batch 4 at 64×64, 10 classes) on the GPU against the same step on the CPU: loss, every
 * gradient, and every parameter after two SGD steps with momentum. TF32 off. Skipped where no GPU opens.
 */
class TrainStepCudaTest {

    private static final int BATCH = 4, SIZE = 64, CLASSES = 10;

    private record Run(BitResNet model, double[] losses) {}

    private static Run train(Backend backend, float[] images, int[] labels, int steps) {
        BitResNet model = new BitResNet(BitConfig.named("BiT-R50x1", CLASSES, false), ParameterStore.random(backend, 7));
        Sgd sgd = new Sgd(model.parameters(), 0.9);
        Tensor x = Devices.to(Tensor.of(images, BATCH, SIZE, SIZE, 3), backend);
        Tensor y = Devices.to(Tensor.ofInts(labels, BATCH), backend);
        double[] losses = new double[steps];
        for (int s = 0; s < steps; s++) {
            sgd.zeroGrad();
            try (Tape tape = Tape.record()) {
                Tensor loss = Ops.mean(Ops.softmaxCrossEntropy(model.forward(x), y));
                tape.backward(loss);
                losses[s] = loss.item();
            }
            if (s + 1 < steps) sgd.step(0.003);
        }
        return new Run(model, losses);
    }

    @Test
    void bitR50TrainingStepsMatchTheCpu() {
        CudaBackend gpu = GpuBackends.exact();
        SplittableRandom rng = new SplittableRandom(11);
        float[] images = new float[BATCH * SIZE * SIZE * 3];
        for (int i = 0; i < images.length; i++) images[i] = (float) (rng.nextDouble() * 2 - 1);
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) labels[i] = rng.nextInt(CLASSES);

        Run cpu = train(CpuBackend.get(), images, labels, 2);
        Run onGpu = train(gpu, images, labels, 2);
        assertClose("losses of both steps", onGpu.losses(), cpu.losses(), 1e-4, 1e-4);
        Map<String, Tensor> pc = cpu.model().parameters(), pg = onGpu.model().parameters();
        for (String key : pc.keySet()) {
            double[] refGrad = pc.get(key).grad().toDoubleArray();
            assertClose("gradient of step 2 " + key, pg.get(key).grad().toDoubleArray(), refGrad, 1e-3 * Math.max(1e-12, maxAbs(refGrad)), 0);
            double[] ref = pc.get(key).toDoubleArray();
            assertClose("parameter after step 1 " + key, pg.get(key).toDoubleArray(), ref, 1e-5 * Math.max(1, maxAbs(ref)), 0);
        }
    }
}
