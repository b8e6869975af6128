package org.bitengine.bench;

import java.util.concurrent.TimeUnit;

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
 * The machine's own ceilings, measured from Java, which every other benchmark is reported against.
 *
 * <h2>fma: peak fp32 FMA throughput</h2>
 * Each thread runs {@link #fmaChains} over four private 4 KB arrays (16 KB, L1-resident): per element,
 * four dependent chains of 8 {@code Math.fma}, each element loaded once and stored once per pass. C2's
 * superword pass turns the element loop into 512-bit {@code vfmadd231ps zmm} and unrolls it twice, so
 * 8 independent vector chains are in flight (checked with {@code scripts/bench/check_fma_asm.sh}, which
 * disassembles the compiled loop); loads and stores are 1/8 of the FMAs, so the loop is bound by the
 * FMA units alone. A C version (scripts/bench/peak_fma.c, registers only) confirms the figure.
 *
 * <h2>triad: sustainable memory bandwidth</h2>
 * STREAM's triad {@code a[i] = b[i] + s·c[i]} over three 32 MB arrays (three times the L3), split over
 * the threads; bytes counted as STREAM does (12 per element, no write-allocate). The memory-bound
 * kernels (GroupNorm, weight standardisation) are reported against it.
 *
 * <p>Threads go through {@link CpuParallel}, the pool every kernel of the CPU backend uses.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class PeakFlops {

    /** Floats per chain array: 4 KB, four per thread, so everything stays in L1. */
    static final int LEN = 1024;
    /** FMAs per element index per pass: four arrays, eight each. */
    static final int FMAS_PER_ELEMENT = 32;
    /** Passes over the arrays per op: about a millisecond of work per thread. */
    static final int PASSES = 2048;
    /** The chains add m·c each step: the values stay small and normal for far longer than any run. */
    static final float M = 0.999f, C = 1e-7f;
    /** Floats per triad array: 32 MB each, 96 MB together, well past the 32 MB L3. */
    static final int TRIAD_LEN = 8 << 20;

    @Param({"1", "2"})
    int threads;

    /** Per thread: the four chain arrays, then a spacer so no cache line is shared between threads. */
    private float[][][] chains;
    private float[] ta, tb, tc;

    @Setup
    public void setUp() {
        CpuParallel.setThreads(threads);
        chains = new float[threads][5][];
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < 4; i++) chains[t][i] = Shapes.random(LEN, 10 + 4 * t + i);
            chains[t][4] = new float[64];
        }
        ta = new float[TRIAD_LEN];
        tb = Shapes.random(TRIAD_LEN, 1);
        tc = Shapes.random(TRIAD_LEN, 2);
    }

    /**
     * Four arrays, eight dependent FMAs per element on each ({@code x ← m·c + x}: the accumulate form,
     * which C2 emits as {@code vfmadd231ps x, m, c} in place, with no register copies), {@code passes}
     * times. All arrays are indexed by the bare loop variable, which is what C2's auto-vectoriser needs to
     * prove they do not overlap (five or more arrays and it gives up). Unrolled twice by C2, the loop keeps
     * 8 independent zmm chains in flight, twice the FMA latency × throughput of current x86 cores.
     */
    static void fmaChains(float[] v, float[] w, float[] u, float[] z, float m, float c, int passes) {
        for (int p = 0; p < passes; p++) {
            for (int j = 0; j < v.length; j++) {
                float a = v[j], b = w[j], d = u[j], e = z[j];
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                a = Math.fma(m, c, a); b = Math.fma(m, c, b); d = Math.fma(m, c, d); e = Math.fma(m, c, e);
                v[j] = a;
                w[j] = b;
                u[j] = d;
                z[j] = e;
            }
        }
    }

    /** fp32 FLOPs of one {@link #fma} op. */
    double fmaFlops() {
        return 2.0 * FMAS_PER_ELEMENT * LEN * PASSES * threads;
    }

    @Benchmark
    public float fma(FlopRate rate) {
        // One chunk per thread: chunk t runs thread t's arrays.
        CpuParallel.forRange(0, threads, 1, (from, to) -> {
            for (int t = from; t < to; t++) fmaChains(chains[t][0], chains[t][1], chains[t][2], chains[t][3], M, C, PASSES);
        });
        rate.add(fmaFlops());
        return chains[0][0][LEN - 1];
    }

    static void triadRange(float[] a, float[] b, float[] c, float s, int from, int to) {
        for (int i = from; i < to; i++) a[i] = b[i] + s * c[i];
    }

    @Benchmark
    public float triad(ByteRate rate) {
        CpuParallel.forRange(0, TRIAD_LEN, 1 << 16, (from, to) -> triadRange(ta, tb, tc, 0.5f, from, to));
        rate.add(12.0 * TRIAD_LEN);
        return ta[TRIAD_LEN - 1];
    }

    /** Runs the FMA kernel alone for a few seconds: used by check_fma_asm.sh to get it compiled by C2. */
    public static void main(String[] args) {
        float[] v = new float[LEN], w = new float[LEN], u = new float[LEN], z = new float[LEN];
        long t0 = System.nanoTime();
        double flops = 0;
        for (int i = 0; i < 400; i++) {
            fmaChains(v, w, u, z, M, C, PASSES);
            flops += 2.0 * FMAS_PER_ELEMENT * LEN * PASSES;
        }
        System.out.printf("PeakFlops.fmaChains: %.1f GFLOP/s on one thread (incl. warm-up)%n", flops / (System.nanoTime() - t0));
    }
}
