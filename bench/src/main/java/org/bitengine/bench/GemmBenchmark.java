package org.bitengine.bench;

import java.util.concurrent.TimeUnit;

import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.backend.cpu.Sgemm;
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
 * {@link Sgemm} at the shapes BiT-R50x1's convolutions hand it: the im2col product of a forward pass at
 * 128×128, batch 8 ({@code C[M,N] = A[M,K]·B[K,N]}, M = 8·OH·OW pixels, N = out channels,
 * K = KH·KW·C), row-major, no transposes, beta 0; plus 1024³. See {@link Shapes#GEMMS}.
 *
 * <p>{@code simd=true} runs the Vector API kernel (the forks start with {@code --add-modules
 * jdk.incubator.vector}), {@code simd=false} the plain-Java fallback, chosen through the
 * {@code bitengine.simd} property before {@link Sgemm} is first used in the fork.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 4, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--add-modules=jdk.incubator.vector"})
public class GemmBenchmark {

    /** {@code label_MxNxK}; the labels name the R50x1 layer the product comes from. */
    @Param({"root7x7s2_32768x64x147", "b1_1x1_64to256_8192x256x64", "b1_3x3_64to64_8192x64x576",
            "b2_3x3_128to128_2048x128x1152", "b3_1x1_1024to256_512x256x1024", "b4_3x3_512to512_128x512x4608",
            "b4_1x1_512to2048_128x2048x512", "square_1024x1024x1024"})
    String shape;

    @Param({"1", "2"})
    int threads;

    @Param({"true", "false"})
    boolean simd;

    private Shapes.Gemm g;
    private float[] a, b, c;

    @Setup
    public void setUp() {
        System.setProperty("bitengine.simd", Boolean.toString(simd));
        if (Sgemm.simd() != simd) throw new IllegalStateException("Sgemm.simd() is " + Sgemm.simd() + ", wanted " + simd);
        CpuParallel.setThreads(threads);
        g = Shapes.gemm(shape);
        a = Shapes.random(g.m() * g.k(), 1);
        b = Shapes.random(g.k() * g.n(), 2);
        c = new float[g.m() * g.n()];
    }

    @Benchmark
    public float gemm(FlopRate rate) {
        Sgemm.gemm(false, false, g.m(), g.n(), g.k(), 1f, a, 0, g.k(), b, 0, g.n(), 0f, c, 0, g.n());
        rate.add(g.flops());
        return c[0];
    }
}
