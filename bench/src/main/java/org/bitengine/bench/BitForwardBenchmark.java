package org.bitengine.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.nn.ParameterStore;
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
 * Inference of BiT-R50x1 on the CPU backend: one forward pass of a batch (random weights; the work does
 * not depend on them). FLOPs: every convolution and the head ({@link Shapes#bitForwardFlops}).
 * Average-time mode with 1 ms iterations: each iteration is exactly one forward pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g", "--add-modules=jdk.incubator.vector"})
public class BitForwardBenchmark {

    @Param({"224"})
    int resolution;

    @Param({"8"})
    int batch;

    @Param({"2"})
    int threads;

    private BitResNet model;
    private Tensor input;
    private double flops;

    @Setup
    public void setUp() {
        CpuParallel.setThreads(threads);
        BitConfig config = BitConfig.named("BiT-R50x1", 1000, false);
        model = new BitResNet(config, ParameterStore.random(CpuBackend.get(), 1));
        flops = Shapes.bitForwardFlops(config, resolution, batch);
        float[] x = new float[batch * resolution * resolution * 3];
        SplittableRandom rng = new SplittableRandom(2);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-1, 1);
        input = Tensor.of(x, batch, resolution, resolution, 3);
    }

    @Benchmark
    public Tensor forward(FlopRate rate) {
        Tensor logits = model.forward(input);
        rate.add(flops);
        return logits;
    }
}
