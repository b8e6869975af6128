package org.bitengine.bench;

import java.util.concurrent.TimeUnit;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.nn.StdConv2d;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
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
 * GroupNorm (32 groups, eps 1e-5), GroupNorm fused with the ReLU that follows it, and weight
 * standardisation (eps 1e-10), forward and backward, through the CPU backend's float32 paths as autograd
 * calls them (each call allocates its outputs).
 *
 * <p>Shapes: GroupNorm on block 1's activations [8, 56, 56, 256] at 224 and [8, 32, 32, 256] at 128 (fused
 * with ReLU at 128);
 * weight standardisation on a 3×3 256→256 kernel and a 1×1 1024→2048 kernel (HWIO). These kernels are
 * memory-bound, so the secondary result is the effective bandwidth "gbytes" (GB/s): forward reads its
 * input and writes its output (8 bytes per element), backward reads two tensors and writes one (12; the
 * fused backward also reads the output, whose sign is the ReLU's mask: 16).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 4, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "--add-modules=jdk.incubator.vector"})
public class NormBenchmark {

    @Param({"gn_8x56x56x256", "gn_8x32x32x256", "gnrelu_8x32x32x256", "ws_3x3x256x256", "ws_1x1x1024x2048"})
    String tensor;

    @Param({"1", "2"})
    int threads;

    static final int GROUPS = 32;
    static final double GN_EPS = 1e-5;

    private final Backend be = CpuBackend.get();
    private boolean groupNorm, fusedRelu;
    private Tensor x, dy, gamma, beta, mean, rstd, y;
    private double elements;

    @Setup
    public void setUp() {
        CpuParallel.setThreads(threads);
        String[] p = tensor.split("_");
        groupNorm = p[0].startsWith("gn");
        fusedRelu = p[0].equals("gnrelu");
        String[] d = p[1].split("x");
        int[] dims = new int[d.length];
        for (int i = 0; i < d.length; i++) dims[i] = Integer.parseInt(d[i]);
        Shape s = Shape.of(dims);
        x = be.fromHost(Shapes.random(s.size(), 1), s);
        dy = be.fromHost(Shapes.random(s.size(), 2), s);
        elements = s.size();
        if (groupNorm) {
            int c = dims[dims.length - 1];
            gamma = be.fromHost(Shapes.random(c, 3), Shape.of(c));
            beta = be.fromHost(Shapes.random(c, 4), Shape.of(c));
            Backend.GroupNormResult r = fusedRelu ? be.groupNormRelu(x, gamma, beta, GROUPS, GN_EPS) : be.groupNorm(x, gamma, beta, GROUPS, GN_EPS);
            mean = r.mean();
            rstd = r.rstd();
            y = r.y();
        }
    }

    @Benchmark
    public Object forward(ByteRate rate) {
        Object out = fusedRelu ? be.groupNormRelu(x, gamma, beta, GROUPS, GN_EPS)
                : groupNorm ? be.groupNorm(x, gamma, beta, GROUPS, GN_EPS) : be.weightStandardize(x, StdConv2d.EPS);
        rate.add(8 * elements);
        return out;
    }

    @Benchmark
    public Object backward(ByteRate rate) {
        Object out = fusedRelu ? be.groupNormReluBackward(dy, y, x, gamma, mean, rstd, GROUPS)
                : groupNorm ? be.groupNormBackward(dy, x, gamma, mean, rstd, GROUPS) : be.weightStandardizeBackward(x, dy, StdConv2d.EPS);
        rate.add((fusedRelu ? 16 : 12) * elements);
        return out;
    }
}
