package org.bitengine.bench;

import java.util.concurrent.TimeUnit;

import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.cpu.Conv2dF32;
import org.bitengine.engine.backend.cpu.CpuParallel;
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
 * The three passes of {@link Conv2dF32} (NHWC activations, HWIO kernels, float32) on representative
 * BiT-R50x1 layers ({@link Shapes#CONV_LAYERS}) at 128×128 and 224×224, batch 8. Buffers are
 * allocated once, so the time is the kernel's alone (the autograd path allocates each output on top).
 * FLOPs per pass: 2·N·OH·OW·O·KH·KW·C/groups.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 4, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "--add-modules=jdk.incubator.vector"})
public class ConvBenchmark {

    @Param({"root7x7s2_3to64", "b1_1x1_64to256", "b1_3x3_64to64", "b2_3x3s2_128to128", "b2_proj1x1s2_256to512"})
    String layer;

    @Param({"128", "224"})
    int resolution;

    @Param({"1", "2"})
    int threads;

    private ConvGeometry g;
    private double flops;
    private float[] x, w, y, dy, dx, dw;

    @Setup
    public void setUp() {
        CpuParallel.setThreads(threads);
        g = Shapes.convLayer(layer).geometry(resolution, Shapes.BATCH);
        flops = Shapes.convFlops(g);
        int xSize = g.n() * g.h() * g.w() * g.c();
        int ySize = g.n() * g.oh() * g.ow() * g.o();
        int wSize = g.kh() * g.kw() * g.cPerGroup() * g.o();
        x = Shapes.random(xSize, 1);
        w = Shapes.random(wSize, 2);
        dy = Shapes.random(ySize, 3);
        y = new float[ySize];
        dx = new float[xSize];
        dw = new float[wSize];
    }

    @Benchmark
    public float forward(FlopRate rate) {
        Conv2dF32.forward(g, x, w, y);
        rate.add(flops);
        return y[0];
    }

    @Benchmark
    public float backwardData(FlopRate rate) {
        Conv2dF32.backwardData(g, dy, w, dx);
        rate.add(flops);
        return dx[0];
    }

    @Benchmark
    public float backwardFilter(FlopRate rate) {
        Conv2dF32.backwardFilter(g, x, dy, dw);
        rate.add(flops);
        return dw[0];
    }
}
