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
import org.bitengine.engine.nn.BatchNorm;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.efficientnet.EfficientNet;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.junit.jupiter.api.Test;

/**
 * EfficientNet-B0 on the GPU against the CPU, from the same random init: a training-mode step
 * (BatchNorm on batch statistics, swish, squeeze-and-excitation, depthwise convolutions, dropout and
 * stochastic depth with the same seeded masks), its loss, every gradient and the running statistics;
 * then the eval-mode logits. TF32 off. Skipped where no GPU opens.
 */
class EfficientNetStepCudaTest {

    private static final int BATCH = 8, SIZE = 64, CLASSES = 10;

    private record Run(EfficientNet model, double loss, double[] evalLogits) {}

    private static Run run(Backend backend, float[] images, int[] labels) {
        EfficientNet model = new EfficientNet(EfficientNetConfig.b0(CLASSES), ParameterStore.random(backend, 5));
        Tensor x = Devices.to(Tensor.of(images, BATCH, SIZE, SIZE, 3), backend);
        Tensor y = Devices.to(Tensor.ofInts(labels, BATCH), backend);
        model.train(new SplittableRandom(9));
        double loss;
        try (Tape tape = Tape.record()) {
            Tensor l = Ops.mean(Ops.softmaxCrossEntropy(model.forward(x), y));
            tape.backward(l);
            loss = l.item();
        }
        model.eval();
        return new Run(model, loss, model.forward(x).toDoubleArray());
    }

    @Test
    void efficientNetB0TrainingStepAndEvalMatchTheCpu() {
        CudaBackend gpu = GpuBackends.exact();
        SplittableRandom rng = new SplittableRandom(13);
        float[] images = new float[BATCH * SIZE * SIZE * 3];
        for (int i = 0; i < images.length; i++) images[i] = (float) (rng.nextDouble() * 2 - 1);
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) labels[i] = rng.nextInt(CLASSES);

        Run cpu = run(CpuBackend.get(), images, labels);
        Run onGpu = run(gpu, images, labels);
        assertClose("training-mode loss", new double[] {onGpu.loss()}, new double[] {cpu.loss()}, 1e-4, 1e-4);
        Map<String, Tensor> pc = cpu.model().parameters(), pg = onGpu.model().parameters();
        // A BatchNorm bias followed by another BatchNorm has a gradient that is zero but for rounding;
        // such tensors are held to a floor of 1e-5 of the model's largest gradient.
        double largestGradient = 0;
        for (Tensor p : pc.values()) if (p.grad() != null) largestGradient = Math.max(largestGradient, maxAbs(p.grad().toDoubleArray()));
        for (String key : pc.keySet()) {
            if (pc.get(key).grad() == null) continue;
            double[] ref = pc.get(key).grad().toDoubleArray();
            assertClose("gradient " + key, pg.get(key).grad().toDoubleArray(), ref, 1e-3 * maxAbs(ref) + 1e-5 * largestGradient, 0);
        }
        var bnCpu = cpu.model().batchNorms();
        var bnGpu = onGpu.model().batchNorms();
        for (int i = 0; i < bnCpu.size(); i++) {
            BatchNorm a = bnCpu.get(i), b = bnGpu.get(i);
            assertClose("running mean of BatchNorm " + i, b.runningMean().toDoubleArray(), a.runningMean().toDoubleArray(), 1e-4, 1e-4);
            assertClose("running var of BatchNorm " + i, b.runningVar().toDoubleArray(), a.runningVar().toDoubleArray(), 1e-4, 1e-4);
        }
        assertClose("eval-mode logits", onGpu.evalLogits(), cpu.evalLogits(), 1e-4, 1e-4);
    }
}
