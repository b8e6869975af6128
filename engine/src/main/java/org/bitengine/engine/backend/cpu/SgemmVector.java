package org.bitengine.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Sgemm}'s block kernel on the Vector API ({@code jdk.incubator.vector}): accumulators in vector
 * registers. Only loaded (by name, from {@link Sgemm}) when the module is in the boot layer.
 *
 * <h2>Micro-kernel</h2>
 * An {@code MR × NR} tile of C' ({@code MR = }@value #MR rows, {@code NR} = two vectors of the preferred
 * species: 32 floats with AVX-512) is held in {@code 2·MR} vector registers for a whole K block. Per
 * step p it loads two vectors of the packed B row, broadcasts MR values of A's column p, and issues
 * {@code 2·MR} independent fmas: enough chains to cover the FMA latency, few enough loads per fma that
 * the FMA units, not the load ports, bound it, and 2·MR + 3 live vectors fit the 32 zmm registers without
 * spilling. Each accumulator is read and written once per K block instead of once per few p as in the
 * plain kernel.
 *
 * <h2>Packing and blocking</h2>
 * A job's block of C' is at most {@code NB} columns wide and as tall as fits {@code ACC} floats of
 * accumulators (at most {@code MC_MAX} rows). Per K block of depth {@code KC}, B' is packed into
 * {@code NR}-wide panels, {@code bp[(j/NR)·kc·NR + p·NR + j%NR]} (≤ KC·NB floats = 256 KB, L2), zero-padded
 * to a whole panel, so the kernel's vector loads need no masks. When a call has several block rows, each
 * would pack the same B' again (per thread, and from a transposed source as a strided gather), so B' is
 * instead packed once, in parallel, in the same layout ({@link #packWholeB}), up to a size where the extra
 * round trip through memory costs more than the copies. A' is not packed: the kernel broadcasts
 * A'(i, p) straight from the caller's array through a row stride and a column stride, which serves both
 * orientations (row-major A: six sequential streams; transposed A: six adjacent floats per p). Measured
 * on the R50x1 shapes, packing A into strips cost more (one extra pass over A per N block) than it saved,
 * because these products have few N panels to reuse a packed strip. Only a block's last, partial strip
 * is copied, into a zero-padded MR-row scratch strip, so the kernel never reads past the block; its
 * padding rows land in rows of {@code acc} that are never stored. The panel loop is outside the strip loop, so one B panel ({@code kc·NR} floats) is reused by every
 * strip. Partial sums of the block live in {@code acc} (row stride = padded block width) between K
 * blocks; the first K block starts from zero, the last is followed by {@code C' = alpha·acc + beta·C'}.
 *
 * <h2>Numerics</h2>
 * Every lane computes {@code s = fma(a[i,p], b[p,j], s)} over ascending p from 0, exactly the plain
 * kernel's chain, and the store does the same {@code alpha*s + beta*c} (no fma there), so the two paths
 * are bit-identical.
 */
final class SgemmVector implements Sgemm.BlockKernel {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector (16 with AVX-512). */
    private static final int L = S.length();
    /** Rows of the micro-kernel tile. */
    static final int MR = 6;
    /** Columns of the micro-kernel tile: two vectors. */
    private static final int NR = 2 * L;
    /** Depth of a packed K block. */
    private static final int KC = 256;
    /**
     * Capacity of the accumulator block in floats: 144 rows of a 256-wide block (144 KB, L2). Narrower
     * blocks get proportionally more rows, so B panels are packed for fewer, taller blocks.
     */
    private static final int ACC = 24 * MR * 256;
    /** Largest block height at any width, a multiple of MR: its A rows over one K block (≤ 576 KB) stay in L2. */
    private static final int MC_MAX = 96 * MR;
    /** Largest block width, a multiple of NR. */
    private static final int NB = Math.max(NR, 256 / NR * NR);

    /** Per-thread packing buffers, reused across calls so a steady-state call allocates nothing big. */
    private static final class Workspace {
        final float[] bp = new float[KC * NB];
        final float[] acc = new float[ACC];
        final float[] tail = new float[KC * MR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Largest B' (floats) packed whole; the buffer is kept per calling thread, so this bounds it (16 MB). */
    private static final long PACKED_B_MAX = 1L << 22;
    /**
     * Largest B' packed whole from a row-major source (4 MB). Packed per block, such a B' streams through
     * each core's L2 as it is used; packed whole, a larger one would go out to memory and be read back by
     * every block row, which costs more than the per-block copies it saves. From a transposed source the
     * per-block copy is a strided gather, dearer than that round trip.
     */
    private static final long PACKED_B_MAX_CONTIGUOUS = 1L << 20;
    /** Buffer of {@link #packWholeB}, per calling thread. */
    private static final ThreadLocal<float[][]> PACKED_B = ThreadLocal.withInitial(() -> new float[1][0]);

    /** Public for {@link Sgemm}'s reflective load. */
    public SgemmVector() {
    }

    /** Below 4 lanes (no SIMD unit the JIT can use) the plain kernel is as good. */
    @Override
    public boolean usable() {
        return L >= 4;
    }

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nAlign() {
        return NR;
    }

    @Override
    public int mc(int nb) {
        int npad = (nb + NR - 1) / NR * NR;
        return Math.max(MR, Math.min(MC_MAX, ACC / npad / MR * MR));
    }

    @Override
    public int nb() {
        return NB;
    }

    /**
     * B' packed whole: K block {@code [p0, p0+kc)} of panel column {@code jp} (a multiple of NR) starts at
     * {@code p0·npadAll + jp·kc}, laid out as one block's {@link #packB} lays it out; so a block starting at
     * column j0 reads its K block from {@code p0·npadAll + j0·kc} exactly as from its own buffer.
     */
    @Override
    public float[] packWholeB(Sgemm.Plan pl) {
        int npadAll = (pl.n() + NR - 1) / NR * NR;
        long size = (long) pl.k() * npadAll;
        if (size > (pl.bCs() == 1 ? PACKED_B_MAX_CONTIGUOUS : PACKED_B_MAX)) return null;
        float[][] holder = PACKED_B.get();
        if (holder[0].length < size) holder[0] = new float[(int) size];
        float[] packed = holder[0];
        int kBlocks = (pl.k() + KC - 1) / KC, panels = npadAll / NR;
        CpuParallel.forRange(0, kBlocks * panels, Math.max(1, 4096 / KC), (from, to) -> {
            for (int t = from; t < to; t++) {
                int p0 = t / panels * KC, jp = t % panels * NR, kc = Math.min(KC, pl.k() - p0);
                packB(pl, packed, p0 * npadAll + jp * kc, p0, kc, jp, Math.min(NR, pl.n() - jp), NR);
            }
        });
        return packed;
    }

    @Override
    public void block(Sgemm.Plan pl, int i0, int mcur, int j0, int ncur) {
        Workspace ws = WORKSPACE.get();
        int mpad = (mcur + MR - 1) / MR * MR, npad = (ncur + NR - 1) / NR * NR;
        float[] a = pl.a(), acc = ws.acc, tail = ws.tail;
        float[] bp = pl.packedB() != null ? pl.packedB() : ws.bp;
        int npadAll = (pl.n() + NR - 1) / NR * NR;
        int aOff = pl.aOff(), aRs = pl.aRs(), aCs = pl.aCs();
        for (int p0 = 0; p0 < pl.k(); p0 += KC) {
            int kc = Math.min(KC, pl.k() - p0);
            int bBase;
            if (pl.packedB() != null) {
                bBase = p0 * npadAll + j0 * kc;
            } else {
                bBase = 0;
                packB(pl, bp, 0, p0, kc, j0, ncur, npad);
            }
            boolean first = p0 == 0;
            int base = aOff + i0 * aRs + p0 * aCs, full = mcur / MR * MR;
            if (full < mpad) packTail(pl, tail, i0 + full, mcur - full, p0, kc);
            for (int jp = 0; jp < npad; jp += NR) {
                int bo = bBase + jp * kc;
                for (int r = 0; r < full; r += MR) micro(kc, a, base + r * aRs, aRs, aCs, bp, bo, acc, r * npad + jp, npad, first);
                if (full < mpad) micro(kc, tail, 0, 1, MR, bp, bo, acc, full * npad + jp, npad, first);
            }
        }
        store(pl, acc, npad, i0, mcur, j0, ncur);
    }

    /** tail[p*MR + r] = A'(i0+r, p0+p) for r < rows, 0 for rows <= r < MR: the block's last, partial strip. */
    private static void packTail(Sgemm.Plan pl, float[] tail, int i0, int rows, int p0, int kc) {
        java.util.Arrays.fill(tail, 0, kc * MR, 0f);
        float[] a = pl.a();
        int aRs = pl.aRs(), aCs = pl.aCs();
        for (int r = 0; r < rows; r++) {
            int src = pl.aOff() + (i0 + r) * aRs + p0 * aCs;
            for (int p = 0; p < kc; p++, src += aCs) tail[p * MR + r] = a[src];
        }
    }

    /** bp[bpOff + (j/NR)*kc*NR + p*NR + j%NR] = B'(p0+p, j0+j) for j < ncur, 0 for ncur <= j < npad. */
    private static void packB(Sgemm.Plan pl, float[] bp, int bpOff, int p0, int kc, int j0, int ncur, int npad) {
        float[] b = pl.b();
        int bOff = pl.bOff(), bRs = pl.bRs(), bCs = pl.bCs();
        for (int jp = 0; jp < npad; jp += NR) {
            int w = Math.min(NR, ncur - jp), base = bpOff + jp * kc;
            if (bCs == 1) {
                // Two vector copies per row (an arraycopy call per 32 floats cost several times more);
                // the last panel's missing columns are masked off and stored as zeros.
                int src = bOff + p0 * bRs + j0 + jp;
                if (w == NR) {
                    for (int p = 0, dst = base; p < kc; p++, src += bRs, dst += NR) {
                        FloatVector.fromArray(S, b, src).intoArray(bp, dst);
                        FloatVector.fromArray(S, b, src + L).intoArray(bp, dst + L);
                    }
                } else {
                    VectorMask<Float> m0 = S.indexInRange(0, w), m1 = S.indexInRange(L, w);
                    for (int p = 0, dst = base; p < kc; p++, src += bRs, dst += NR) {
                        FloatVector.fromArray(S, b, src, m0).intoArray(bp, dst);
                        FloatVector.fromArray(S, b, src + L, m1).intoArray(bp, dst + L);
                    }
                }
            } else {
                // Transposed source (bRs == 1): each column j is contiguous along p; the panel being
                // written (kc·NR floats) stays in L1 while its columns are read one after another.
                for (int jj = 0; jj < NR; jj++) {
                    if (jj < w) {
                        int src = bOff + p0 + (j0 + jp + jj) * bCs;
                        for (int p = 0; p < kc; p++) bp[base + p * NR + jj] = b[src + p];
                    } else {
                        for (int p = 0; p < kc; p++) bp[base + p * NR + jj] = 0f;
                    }
                }
            }
        }
    }

    /** C' = alpha * acc + beta * C' over the block (the plain kernel's arithmetic); C' unread when beta == 0. */
    private static void store(Sgemm.Plan pl, float[] acc, int lda, int i0, int mcur, int j0, int ncur) {
        float al = pl.alpha(), be = pl.beta();
        float[] c = pl.c();
        int cOff = pl.cOff(), cRs = pl.cRs(), cCs = pl.cCs();
        if (cCs == 1) {
            for (int r = 0; r < mcur; r++) {
                int src = r * lda, dst = cOff + (i0 + r) * cRs + j0;
                for (int j = 0; j < ncur; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, ncur);
                    FloatVector v = FloatVector.fromArray(S, acc, src + j).mul(al);
                    if (be != 0f) v = v.add(FloatVector.fromArray(S, c, dst + j, m).mul(be));
                    v.intoArray(c, dst + j, m);
                }
            }
            return;
        }
        // Transposed destination (cRs == 1): write along C's rows, which are contiguous.
        for (int j = 0; j < ncur; j++) {
            int dst = cOff + (j0 + j) * cCs + i0;
            if (be == 0f) {
                for (int r = 0; r < mcur; r++) c[dst + r] = al * acc[r * lda + j];
            } else {
                for (int r = 0; r < mcur; r++) c[dst + r] = al * acc[r * lda + j] + be * c[dst + r];
            }
        }
    }

    /**
     * acc tile [co + r*ldc + j] (r < MR, j < NR) = (first ? 0 : itself) + Σ_p a[ao + r*ars + p*acs]·bp[bo + p*NR + j],
     * one fma per p in ascending order.
     */
    private static void micro(int kc, float[] a, int ao, int ars, int acs, float[] bp, int bo, float[] acc, int co, int ldc, boolean first) {
        FloatVector c00, c01;
        FloatVector c10, c11;
        FloatVector c20, c21;
        FloatVector c30, c31;
        FloatVector c40, c41;
        FloatVector c50, c51;
        if (first) {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z;
            c10 = z; c11 = z;
            c20 = z; c21 = z;
            c30 = z; c31 = z;
            c40 = z; c41 = z;
            c50 = z; c51 = z;
        } else {
            c00 = FloatVector.fromArray(S, acc, co + 0 * ldc); c01 = FloatVector.fromArray(S, acc, co + 0 * ldc + L);
            c10 = FloatVector.fromArray(S, acc, co + 1 * ldc); c11 = FloatVector.fromArray(S, acc, co + 1 * ldc + L);
            c20 = FloatVector.fromArray(S, acc, co + 2 * ldc); c21 = FloatVector.fromArray(S, acc, co + 2 * ldc + L);
            c30 = FloatVector.fromArray(S, acc, co + 3 * ldc); c31 = FloatVector.fromArray(S, acc, co + 3 * ldc + L);
            c40 = FloatVector.fromArray(S, acc, co + 4 * ldc); c41 = FloatVector.fromArray(S, acc, co + 4 * ldc + L);
            c50 = FloatVector.fromArray(S, acc, co + 5 * ldc); c51 = FloatVector.fromArray(S, acc, co + 5 * ldc + L);
        }
        int o0 = ao; int o1 = ao + ars; int o2 = ao + 2 * ars; int o3 = ao + 3 * ars; int o4 = ao + 4 * ars; int o5 = ao + 5 * ars;
        for (int p = 0, q = 0; p < kc; p++, q += acs, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo); FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector a0 = FloatVector.broadcast(S, a[o0 + q]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[o1 + q]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[o2 + q]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[o3 + q]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[o4 + q]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[o5 + q]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        c00.intoArray(acc, co + 0 * ldc); c01.intoArray(acc, co + 0 * ldc + L);
        c10.intoArray(acc, co + 1 * ldc); c11.intoArray(acc, co + 1 * ldc + L);
        c20.intoArray(acc, co + 2 * ldc); c21.intoArray(acc, co + 2 * ldc + L);
        c30.intoArray(acc, co + 3 * ldc); c31.intoArray(acc, co + 3 * ldc + L);
        c40.intoArray(acc, co + 4 * ldc); c41.intoArray(acc, co + 4 * ldc + L);
        c50.intoArray(acc, co + 5 * ldc); c51.intoArray(acc, co + 5 * ldc + L);
    }
}
