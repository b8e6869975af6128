package org.bitengine.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.backend.cpu.Sgemm;
import org.bitengine.engine.nn.Module;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One whole training step of BiT-R50x1 (random init, 1000 classes, non-zero head so every gradient
 * flows) on the CPU backend, through the public API as a training loop writes it: forward, mean
 * softmax cross-entropy, backward on a {@link Tape}, SGD with momentum 0.9. FLOPs are the step's model
 * FLOPs ({@link Shapes#bitTrainStepFlops}).
 *
 * <p>Average-time mode with 1 ms iterations: a step takes seconds, so every iteration is exactly one
 * step (a single shot), and unlike single-shot mode the FLOP counter is reported.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g", "--add-modules=jdk.incubator.vector"})
public class BitTrainStepBenchmark {

    @Param({"BiT-R50x1"})
    String model;

    @Param({"128"})
    int resolution;

    @Param({"8"})
    int batch;

    @Param({"1", "2"})
    int threads;

    /** GEMM kernel: the Vector API one (true) or the plain-Java fallback (false); see {@link GemmBenchmark}. */
    @Param({"true", "false"})
    boolean simd;

    private TrainStep step;

    @Setup
    public void setUp() {
        System.setProperty("bitengine.simd", Boolean.toString(simd));
        if (Sgemm.simd() != simd) throw new IllegalStateException("Sgemm.simd() is " + Sgemm.simd() + ", wanted " + simd);
        CpuParallel.setThreads(threads);
        step = new TrainStep(model, resolution, batch);
    }

    @Benchmark
    public double trainStep(FlopRate rate) {
        double loss = step.run();
        rate.add(step.flops());
        return loss;
    }

    /** The step itself, shared with {@link Compare}. */
    static final class TrainStep {
        private final BitResNet net;
        private final Sgd sgd;
        private final Tensor x, labels;
        private final double flops;

        TrainStep(String model, int resolution, int batch) {
            BitConfig config = BitConfig.named(model, 1000, false);
            net = new BitResNet(config, ParameterStore.random(CpuBackend.get(), 1));
            sgd = new Sgd(net.parameters(), 0.9);
            x = Tensor.of(Shapes.random(batch * resolution * resolution * 3, 2), batch, resolution, resolution, 3);
            int[] y = new int[batch];
            SplittableRandom rng = new SplittableRandom(3);
            for (int i = 0; i < batch; i++) y[i] = rng.nextInt(1000);
            labels = Tensor.ofInts(y, batch);
            flops = Shapes.bitTrainStepFlops(config, resolution, batch);
        }

        /** One step; returns the loss before the update. */
        double run() {
            return step(net, sgd, x, labels);
        }

        /** One SGD step of {@code net} on (x, labels) as a training loop writes it; returns the loss before the update. */
        static double step(Module net, Sgd sgd, Tensor x, Tensor labels) {
            sgd.zeroGrad();
            double loss;
            try (Tape tape = Tape.record()) {
                Tensor l = Ops.mean(Ops.softmaxCrossEntropy(net.forward(x), labels));
                tape.backward(l);
                loss = l.item();
            }
            sgd.step(1e-4);
            return loss;
        }

        double flops() {
            return flops;
        }
    }
}
