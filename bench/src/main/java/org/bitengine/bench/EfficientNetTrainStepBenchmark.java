package org.bitengine.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.efficientnet.EfficientNet;
import org.bitengine.models.efficientnet.EfficientNetConfig;
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
 * One whole training step of EfficientNet (random init, 1000 classes) on the CPU backend in training
 * mode (batch-statistics BatchNorm with running-stat updates, dropout, stochastic depth drawn from a
 * seeded generator): forward, mean softmax cross-entropy, backward, SGD with momentum 0.9. Images per
 * second are {@code batch / time}.
 *
 * <p>Average-time mode with 1 ms iterations, so every iteration is exactly one step, as in
 * {@link BitTrainStepBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g", "--add-modules=jdk.incubator.vector"})
public class EfficientNetTrainStepBenchmark {

    @Param({"b0"})
    String variant;

    @Param({"128"})
    int resolution;

    @Param({"8"})
    int batch;

    @Param({"1", "2"})
    int threads;

    private EfficientNet net;
    private Sgd sgd;
    private Tensor x, labels;
    private SplittableRandom dropRng;

    @Setup
    public void setUp() {
        CpuParallel.setThreads(threads);
        net = new EfficientNet(EfficientNetConfig.preset(variant, 1000), ParameterStore.random(CpuBackend.get(), 1));
        dropRng = new SplittableRandom(4);
        net.train(dropRng);
        sgd = new Sgd(net.parameters(), 0.9);
        x = Tensor.of(Shapes.random(batch * resolution * resolution * 3, 2), batch, resolution, resolution, 3);
        int[] y = new int[batch];
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < batch; i++) y[i] = rng.nextInt(1000);
        labels = Tensor.ofInts(y, batch);
    }

    /** One step; returns the loss before the update. */
    @Benchmark
    public double trainStep() {
        return BitTrainStepBenchmark.TrainStep.step(net, sgd, x, labels);
    }
}
