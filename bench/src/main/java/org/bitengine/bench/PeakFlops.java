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
 * Each thread runs {@link #fmaChains} over a private 16 KB float array (L1-resident): per element a
 * dependent chain of 4 {@code Math.fma}, loaded and stored once per pass. C2's superword pass turns the
 * element loop into 512-bit {@code vfmadd231ps zmm} and unrolls it, so independent vector chains cover
 * the FMA latency and the loop is bound by the FMA units (checked with
 * {@code scripts/bench/check_fma_asm.sh}, which disassembles the compiled loop). A C version
 * (scripts/bench/peak_fma.c, registers only) confirms the figure.
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
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--add-modules=jdk.incubator.vector"})
public class PeakFlops {

    /** Floats per thread's array: 16 KB, so it stays in L1. */
    static final int LEN = 4096;
    /** FMAs per element per pass. */
    static final int FMAS_PER_ELEMENT = 4;
    /** Passes over the array per op: about a millisecond of work per thread. */
    static final int PASSES = 4096;
    /** The chains add m·c each step: the values stay small and normal for far longer than any run. */
    static final float M = 0.999f, C = 1e-7f;
    /** Floats per triad array: 32 MB each, 96 MB together, well past the 32 MB L3. */
    static final int TRIAD_LEN = 8 << 20;

    @Param({"1", "2"})
    int threads;

    /** Per thread: its array, then a spacer so no cache line is shared between threads. */
    private float[][][] chains;
    private float[] ta, tb, tc;

    @Setup
    public void setUp() {
        CpuParallel.setThreads(threads);
        chains = new float[threads][2][];
        for (int t = 0; t < threads; t++) {
            chains[t][0] = Shapes.random(LEN, 10 + t);
            chains[t][1] = new float[64];
        }
        ta = new float[TRIAD_LEN];
        tb = Shapes.random(TRIAD_LEN, 1);
        tc = Shapes.random(TRIAD_LEN, 2);
    }

    /**
     * {@code x ← m·c + x} four times on every element of {@code v}, {@code passes} times over the array.
     * The accumulate form is what C2 emits as an in-place {@code vfmadd231ps x, m, c} (no register
     * copies); the element loop is vectorised to zmm and unrolled, so consecutive vectors give independent
     * chains of 4 and one zmm load and store serve 4 FMAs. Of the shapes tried (1, 2, 4 arrays; chains of
     * 2 to 16; 1 K to 8 K floats) this one, at 4 K floats (16 KB, L1), is the one that reaches the C
     * reference: deeper chains or several arrays get emitted with too few chains interleaved and stall
     * at about 85 %.
     */
    static void fmaChains(float[] v, float m, float c, int passes) {
        for (int p = 0; p < passes; p++) {
            for (int j = 0; j < v.length; j++) {
                float x = v[j];
                x = Math.fma(m, c, x);
                x = Math.fma(m, c, x);
                x = Math.fma(m, c, x);
                x = Math.fma(m, c, x);
                v[j] = x;
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
            for (int t = from; t < to; t++) fmaChains(chains[t][0], M, C, PASSES);
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
        float[] v = new float[LEN];
        long t0 = System.nanoTime();
        double flops = 0;
        for (int i = 0; i < 400; i++) {
            fmaChains(v, M, C, PASSES);
            flops += 2.0 * FMAS_PER_ELEMENT * LEN * PASSES;
        }
        System.out.printf("PeakFlops.fmaChains: %.1f GFLOP/s on one thread (incl. warm-up)%n", flops / (System.nanoTime() - t0));
    }
}
