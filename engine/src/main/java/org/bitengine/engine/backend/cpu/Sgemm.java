package org.bitengine.engine.backend.cpu;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Single-precision general matrix multiply on the CPU, row-major:
 * {@code C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C}.
 *
 * <h2>Numerics</h2>
 * Every output element is {@code alpha * s + beta * c} where {@code s} is the chain
 * {@code s = fma(a[i,p], b[p,j], s)} over {@code p = 0 .. K-1} in ascending order, starting from 0. Neither
 * the blocking, the thread count nor the orientation chosen below changes that chain, so results are
 * bit-identical to that scalar loop and to each other for any thread count. With {@code beta == 0} C is
 * never read (NaN in C does not propagate); with {@code alpha == 0} or {@code K == 0} A and B are not read.
 *
 * <h2>How</h2>
 * C is cut into blocks that threads claim dynamically; each block is computed over all of K by a
 * {@link BlockKernel} that packs panels of A and B and runs a register- or row-blocked micro-kernel. With
 * {@code jdk.incubator.vector} in the boot layer (run with {@code --add-modules jdk.incubator.vector}) the
 * kernel is {@code SgemmVector}, whose accumulators live in vector registers; without it, or with
 * {@code -Dbitengine.simd=false}, the plain-Java {@link PlainKernel}. Both compute the same fma chains, so
 * they give bit-identical results.
 *
 * <p>{@link #gemmRowTiles} is the same product for an A that is produced rather than stored (im2col): each
 * job builds the rows of A it multiplies, in its own cache.
 *
 * <p>When N is narrower than the kernel's vector panel and M larger, the product is computed transposed,
 * {@code Cᵀ = op(B)ᵀ op(A)ᵀ}, so the vectorised dimension is the long one.
 */
public final class Sgemm {

    /** Rows of C per plain micro-kernel call. */
    static final int MR = 4;
    /** Depth of the K block packed at once; B panel KC×NB floats stays in L2. */
    static final int KC = 256;
    /** Rows of C per job at most; the accumulator block MC×NB floats stays in L2. */
    static final int MC = 128;
    /** Columns of C per job at most (the vector length of the plain micro-kernel's loop). */
    static final int NB = 256;
    /** Below this many multiply-adds a second thread costs more than it saves. */
    private static final long PARALLEL_MIN_WORK = 1L << 20;

    /** Orientation override for benchmarks and tests: 0 = heuristic, 1 = as given, 2 = transposed. */
    static volatile int forceOrientation = 0;

    /**
     * The SIMD block kernel, or null when {@code jdk.incubator.vector} is not in the boot layer (it is only
     * resolved with {@code --add-modules jdk.incubator.vector}) or has no useful vector width here. The
     * class is loaded by name only after that check, so a JVM without the module never links it.
     */
    private static final BlockKernel VECTOR = loadVectorKernel();
    private static final BlockKernel PLAIN = new PlainKernel();

    /** The kernel in use; {@code -Dbitengine.simd=false} starts with the plain one, tests switch both ways. */
    private static volatile BlockKernel active =
            VECTOR != null && !"false".equalsIgnoreCase(System.getProperty("bitengine.simd")) ? VECTOR : PLAIN;

    private Sgemm() {
    }

    private static BlockKernel loadVectorKernel() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return null;
        try {
            BlockKernel k = (BlockKernel) Class.forName("org.bitengine.engine.backend.cpu.SgemmVector")
                    .getDeclaredConstructor().newInstance();
            return k.usable() ? k : null;
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /** True when products run on the Vector API kernel, false on the plain-Java one. */
    public static boolean simd() {
        return active == VECTOR;
    }

    /**
     * Chooses the kernel (tests and benchmarks cover both paths in one JVM); asking for SIMD where it is
     * unavailable keeps the plain kernel.
     *
     * @return whether the SIMD kernel is now in use
     */
    static boolean useSimd(boolean on) {
        active = on && VECTOR != null ? VECTOR : PLAIN;
        return simd();
    }

    /**
     * Computes whole blocks of C' for {@link Plan#run()}, which splits C' into blocks and spreads them over
     * the threads. Implementations keep their per-thread scratch space; any block size gives the same
     * result, because every element is the same fma chain over ascending p.
     */
    interface BlockKernel {
        /** Whether this kernel can run here (the plain one always can). */
        boolean usable();

        /** Block heights are multiples of this (the micro-kernel's rows). */
        int mr();

        /** Block widths are multiples of this. */
        int nAlign();

        /** Largest block height for blocks {@code nb} columns wide (a multiple of {@link #mr()}). */
        int mc(int nb);

        /** Largest block width. */
        int nb();

        /**
         * Packs all of B' once, in parallel, into a buffer that every block of the call then reads instead
         * of packing its own copy; null when this kernel packs per block or B' is too large to hold packed.
         * The buffer belongs to the calling thread and is reused by its next call.
         */
        float[] packWholeB(Plan plan);

        /**
         * Computes C'[i0, i0+mcur) × [j0, j0+ncur) completely over all of K, including alpha and beta;
         * reads B' from {@code plan.packedB()} when that is set.
         */
        void block(Plan plan, int i0, int mcur, int j0, int ncur);
    }

    /**
     * {@code C = alpha * op(A) · op(B) + beta * C}, all row-major.
     *
     * @param transA  if false op(A) = A stored {@code [m, k]}; if true op(A) = Aᵀ with A stored {@code [k, m]}
     * @param transB  if false op(B) = B stored {@code [k, n]}; if true op(B) = Bᵀ with B stored {@code [n, k]}
     * @param m       rows of op(A) and C
     * @param n       columns of op(B) and C
     * @param k       columns of op(A), rows of op(B)
     * @param alpha   scale of the product
     * @param a       A's storage; element (r, s) of the stored matrix is {@code a[aOffset + r*lda + s]}
     * @param aOffset index of A's first element
     * @param lda     row stride of stored A, at least its column count ({@code k}, or {@code m} if transA)
     * @param b       B's storage; element (r, s) of the stored matrix is {@code b[bOffset + r*ldb + s]}
     * @param bOffset index of B's first element
     * @param ldb     row stride of stored B, at least its column count ({@code n}, or {@code k} if transB)
     * @param beta    scale of C's old value; 0 means C's old value is not read
     * @param c       C's storage {@code [m, n]}; element (i, j) is {@code c[cOffset + i*ldc + j]}; only those
     *                elements are written
     * @param cOffset index of C's first element
     * @param ldc     row stride of C, at least {@code n}
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                            float beta, float[] c, int cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("Sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        checkMatrix("C", c, cOffset, ldc, m, n);
        boolean readAB = k > 0 && alpha != 0f;
        if (readAB) {
            checkMatrix("A", a, aOffset, lda, transA ? k : m, transA ? m : k);
            checkMatrix("B", b, bOffset, ldb, transB ? n : k, transB ? k : n);
        }
        if (!readAB) {
            scaleC(m, n, beta, c, cOffset, ldc);
            return;
        }
        BlockKernel kern = active;
        // Element (i, p) of op(A) is a[aOff + i*aRs + p*aCs]; likewise for op(B) and C.
        int aRs = transA ? 1 : lda, aCs = transA ? lda : 1;
        int bRs = transB ? 1 : ldb, bCs = transB ? ldb : 1;
        // The kernels vectorise along N, so a narrow N wastes vector lanes (padding) when M is the long side.
        boolean swap = switch (forceOrientation) {
            case 1 -> false;
            case 2 -> true;
            default -> kern == PLAIN ? n < NB && m > n : n < kern.nAlign() && m > n;
        };
        Plan plan = swap
                ? new Plan(kern, n, m, k, alpha, beta, b, bOffset, bCs, bRs, a, aOffset, aCs, aRs, c, cOffset, 1, ldc, null)
                : new Plan(kern, m, n, k, alpha, beta, a, aOffset, aRs, aCs, b, bOffset, bRs, bCs, c, cOffset, ldc, 1, null);
        plan.run();
    }

    /** Fills rows {@code [i0, i0 + rows)} of a matrix A with {@code k} columns into {@code into}, row stride k. */
    @FunctionalInterface
    interface RowSource {
        void rows(int i0, int rows, float[] into);
    }

    /** Bytes of A rows one job of {@link #gemmRowTiles} builds and consumes at once: half a core's L2. */
    private static final int ROW_TILE_BYTES = 512 << 10;

    /** Per-thread tile buffer of {@link #gemmRowTiles}. */
    private static final ThreadLocal<float[][]> ROW_TILE = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * {@code C[m, n] = A · B} (row-major, beta 0) where A {@code [m, k]} is never stored whole: each job asks
     * {@code source} for a tile of A's rows, small enough to stay in its core's L2, and multiplies it right
     * away against B packed once for all jobs. So a matrix such as im2col's, built from a smaller input,
     * makes no round trip through memory and its construction runs in parallel with the products.
     * Every element of C is the same fma chain as {@link #gemm}'s, so the results are bit-identical to it.
     */
    static void gemmRowTiles(int m, int n, int k, RowSource source, float[] b, int bOffset, int ldb,
                             float[] c, int cOffset, int ldc) {
        if (m < 0 || n < 0 || k < 1) throw new IllegalArgumentException("Sgemm: bad size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        checkMatrix("B", b, bOffset, ldb, k, n);
        checkMatrix("C", c, cOffset, ldc, m, n);
        BlockKernel kern = active;
        int mr = kern.mr(), nb = columnBlockWidth(kern, n);
        int tile = Math.max(mr, Math.min(kern.mc(nb), ROW_TILE_BYTES / 4 / k) / mr * mr);
        int jobs = ceilDiv(m, tile);
        int threads = (long) m * n * k < PARALLEL_MIN_WORK ? 1 : CpuParallel.threads();
        // B' is the same for every job: the whole-matrix plan packs it once (null: each block packs its own).
        Plan whole = new Plan(kern, m, n, k, 1f, 0f, null, 0, k, 1, b, bOffset, ldb, 1, c, cOffset, ldc, 1, null);
        float[] packed = jobs > 1 ? kern.packWholeB(whole) : null;
        AtomicInteger next = new AtomicInteger();
        CpuParallel.forRange(0, Math.min(threads, jobs), 1, (from, to) -> {
            float[][] holder = ROW_TILE.get();
            if (holder[0].length < tile * k) holder[0] = new float[tile * k];
            float[] a = holder[0];
            for (int job; (job = next.getAndIncrement()) < jobs; ) {
                int i0 = job * tile, rows = Math.min(tile, m - i0);
                source.rows(i0, rows, a);
                Plan part = new Plan(kern, rows, n, k, 1f, 0f, a, 0, k, 1, b, bOffset, ldb, 1, c, cOffset + i0 * ldc, ldc, 1, packed);
                for (int j0 = 0; j0 < n; j0 += nb) kern.block(part, 0, rows, j0, Math.min(nb, n - j0));
            }
        });
    }

    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (x == null) throw new NullPointerException("Sgemm: " + name + " is null");
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("Sgemm: leading dimension of " + name + " is " + ld + ", must be >= " + Math.max(1, cols));
        }
        long last = (long) off + (long) (rows - 1) * ld + cols - 1;
        if (off < 0 || (rows > 0 && cols > 0 && last >= x.length)) {
            throw new IllegalArgumentException("Sgemm: " + name + " [" + rows + ", " + cols + "] with offset " + off + " and leading dimension "
                    + ld + " needs " + (last + 1) + " elements, array has " + x.length);
        }
    }

    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                Arrays.fill(c, row, row + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) c[row + j] *= beta;
            }
        }
    }

    /** Largest B' (floats) transposed up front; the buffer is kept per calling thread, so this bounds it (16 MB). */
    private static final long TRANSPOSE_B_MAX = 1L << 22;
    /** Buffer of {@link Plan#transposedB()}, per calling thread. */
    private static final ThreadLocal<float[][]> BT = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * One call, in the orientation actually computed: C'(i,j) = Σ_p A'(i,p) B'(p,j), every operand strided;
     * {@code packedB}, when not null, is B' already packed by {@link BlockKernel#packWholeB}.
     */
    record Plan(BlockKernel kern, int m, int n, int k, float alpha, float beta,
                float[] a, int aOff, int aRs, int aCs,
                float[] b, int bOff, int bRs, int bCs,
                float[] c, int cOff, int cRs, int cCs, float[] packedB) {

        void run() {
            int mr = kern.mr(), na = kern.nAlign();
            int nb = columnBlockWidth(kern, n);
            int nBlocks = ceilDiv(n, nb);
            int mBlocks = ceilDiv(m, kern.mc(nb));
            int mc = roundUp(ceilDiv(m, mBlocks), mr);
            long work = (long) m * n * k;
            int threads = work < PARALLEL_MIN_WORK ? 1 : CpuParallel.threads();
            if (threads > 1 && mBlocks == 1 && nBlocks < threads && n >= threads * na && n > m) {
                // One block row and a B' larger than A' (a weight gradient xᵀ·dy over many pixels): split
                // the columns, so each thread packs its share of B' and reads all of the smaller A', instead
                // of every thread packing all of B' for its share of the rows.
                nb = roundUp(ceilDiv(n, threads), na);
                nBlocks = ceilDiv(n, nb);
                mc = roundUp(m, mr);
            } else if (threads > 1) {
                // Split the rows finer until the jobs spread evenly over the threads. Smaller blocks cost
                // more packing per flop, so stop at the first split that balances well. Block sizes do
                // not affect the summation order, so results stay independent of the thread count.
                int maxBlocks = Math.max(mBlocks, ceilDiv(m, 4 * mr));
                for (int mb = mBlocks; mb <= maxBlocks; mb++) {
                    int mcTry = roundUp(ceilDiv(m, mb), mr);
                    int jobs = ceilDiv(m, mcTry) * nBlocks;
                    double balance = (double) jobs / ((long) threads * ceilDiv(jobs, threads));
                    if (balance >= 0.85 || mb == maxBlocks) {
                        mc = mcTry;
                        break;
                    }
                }
            }
            final int mcF = mc, mbF = ceilDiv(m, mc), jobs = mbF * nBlocks;
            if (mbF > 1) {
                // Every block row of C' needs all of B': packed per block, each thread would pack it again
                // (a transposed source being a strided gather each time), so pack it once, in parallel.
                float[] packed = kern.packWholeB(this);
                if (packed != null) {
                    new Plan(kern, m, n, k, alpha, beta, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, cRs, cCs, packed)
                            .runJobs(threads, jobs, mbF, mcF, nb);
                    return;
                }
                if (bCs != 1 && (long) k * n <= TRANSPOSE_B_MAX) {
                    // A kernel that packs per block reads a transposed source with a strided gather each
                    // time, so transpose it once into contiguous rows and pack from those.
                    float[] bt = transposedB();
                    new Plan(kern, m, n, k, alpha, beta, a, aOff, aRs, aCs, bt, 0, n, 1, c, cOff, cRs, cCs, null)
                            .runJobs(threads, jobs, mbF, mcF, nb);
                    return;
                }
            }
            runJobs(threads, jobs, mbF, mcF, nb);
        }

        /** Runs jobs 0 .. jobs-1 (block (i, j) of C' is job i + j*mBlocks). */
        private void runJobs(int threads, int jobs, int mbF, int mcF, int nb) {
            if (threads == 1 || jobs == 1) {
                for (int job = 0; job < jobs; job++) runJob(job, mbF, mcF, nb);
                return;
            }
            AtomicInteger next = new AtomicInteger();
            // Dynamic claiming balances uneven jobs and busy cores; which thread runs a job never changes
            // its result.
            CpuParallel.forRange(0, Math.min(threads, jobs), 1, (from, to) -> {
                for (int job; (job = next.getAndIncrement()) < jobs; ) runJob(job, mbF, mcF, nb);
            });
        }

        /**
         * B' as a row-major {@code [k, n]} array (in a per-thread buffer reused across calls), read from the
         * transposed source in 32×32 tiles so both sides touch few cache lines at a time.
         */
        private float[] transposedB() {
            float[][] holder = BT.get();
            long size = (long) k * n;
            if (holder[0].length < size) holder[0] = new float[Math.toIntExact(size)];
            float[] t = holder[0];
            for (int j0 = 0; j0 < n; j0 += 32) {
                int j1 = Math.min(n, j0 + 32);
                for (int p0 = 0; p0 < k; p0 += 32) {
                    int p1 = Math.min(k, p0 + 32);
                    for (int j = j0; j < j1; j++) {
                        int src = bOff + j * bCs + p0 * bRs;
                        for (int p = p0; p < p1; p++, src += bRs) t[p * n + j] = b[src];
                    }
                }
            }
            return t;
        }

        private void runJob(int job, int mBlocks, int mc, int nb) {
            int i0 = job % mBlocks * mc, j0 = job / mBlocks * nb;
            kern.block(this, i0, Math.min(mc, m - i0), j0, Math.min(nb, n - j0));
        }

        /**
         * ap[(r/mr)*kc*mr + p*mr + r%mr] = A'(i0+r, p0+p) for r < mpad (a multiple of mr): each mr-row strip
         * is contiguous in the order a micro-kernel reads it. Rows past mcur are zero, so padded
         * accumulator rows are harmless.
         */
        void packA(float[] ap, int mr, int i0, int mcur, int mpad, int p0, int kc) {
            for (int r = 0; r < mpad; r++) {
                int dst = (r / mr) * kc * mr + r % mr;
                if (r >= mcur) {
                    for (int p = 0; p < kc; p++) ap[dst + p * mr] = 0f;
                    continue;
                }
                int src = aOff + (i0 + r) * aRs + p0 * aCs;
                if (aCs == 1) {
                    for (int p = 0; p < kc; p++) ap[dst + p * mr] = a[src + p];
                } else {
                    for (int p = 0; p < kc; p++) ap[dst + p * mr] = a[src + p * aCs];
                }
            }
        }
    }

    /**
     * The plain-Java path, used when the Vector API is absent or switched off.
     *
     * <p>Without {@code jdk.incubator.vector}, speed depends on C2's auto-vectoriser, which (JDK 25) only
     * vectorises a loop whose arrays are all indexed by the same bare induction variable: any offset makes
     * it assume the arrays may alias and fall back to scalar code (~7 GFLOP/s instead of ~50 on one core).
     * So the accumulators are not locals but a block of C held as separate row arrays, the packed B panel
     * is separate row arrays too, and the micro-kernel is {@code c_r[j] = fma(a_r, b_p[j], c_r[j])} over
     * {@code j}, vectorised along N. Each element of the accumulator is loaded and stored once per four
     * {@code p} (the k-unroll), which is what bounds the kernel (L1 load/store ports, not FMA units); 4
     * rows × 4-deep was the fastest measured shape, larger ones spill vector registers.
     *
     * <p>Blocking: a job owns an {@code MC × NB} block of C whose accumulators (≤128 KB) live in L2 for the
     * whole K loop, the 4 rows a kernel call touches (4 KB) in L1; B is packed {@code KC × NB} (256 KB, L2)
     * and streamed once per 4 rows of C.
     */
    private static final class PlainKernel implements BlockKernel {

        /** Per-thread packing buffers, reused across calls so a steady-state call allocates nothing big. */
        private static final class Workspace {
            final float[][] acc = new float[MC][NB];
            final float[][] bp = new float[KC][NB];
            final float[] ap = new float[MC * KC];
        }

        private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

        @Override
        public boolean usable() {
            return true;
        }

        @Override
        public int mr() {
            return MR;
        }

        @Override
        public int nAlign() {
            return 16;
        }

        @Override
        public int mc(int nb) {
            return MC;
        }

        @Override
        public int nb() {
            return NB;
        }

        @Override
        public float[] packWholeB(Plan plan) {
            return null;
        }

        @Override
        public void block(Plan pl, int i0, int mcur, int j0, int ncur) {
            Workspace ws = WORKSPACE.get();
            int mpad = roundUp(mcur, MR);
            float[][] acc = ws.acc;
            for (int r = 0; r < mpad; r++) Arrays.fill(acc[r], 0, ncur, 0f);
            for (int p0 = 0; p0 < pl.k; p0 += KC) {
                int kc = Math.min(KC, pl.k - p0);
                packB(pl, ws.bp, p0, kc, j0, ncur);
                pl.packA(ws.ap, MR, i0, mcur, mpad, p0, kc);
                for (int r = 0; r < mpad; r += MR) {
                    kernel(kc, ncur, ws.ap, r * kc, ws.bp, acc[r], acc[r + 1], acc[r + 2], acc[r + 3]);
                }
            }
            store(pl, acc, i0, mcur, j0, ncur);
        }

        /** bp[p][j] = B'(p0+p, j0+j): separate row arrays so the kernel indexes them by bare j. */
        private static void packB(Plan pl, float[][] bp, int p0, int kc, int j0, int ncur) {
            float[] b = pl.b;
            int bOff = pl.bOff, bRs = pl.bRs, bCs = pl.bCs;
            if (bCs == 1) {
                for (int p = 0; p < kc; p++) System.arraycopy(b, bOff + (p0 + p) * bRs + j0, bp[p], 0, ncur);
                return;
            }
            // Transposed source: its columns j are strided, its p axis contiguous. Taking 64 columns at
            // a time keeps their 64 source cache lines in L1 while 16 consecutive p use each line
            // (measured faster than 8, 16 or 256 at a time).
            for (int jj = 0; jj < ncur; jj += 64) {
                int jEnd = Math.min(ncur, jj + 64);
                int src = bOff + p0 * bRs + (j0 + jj) * bCs;
                for (int p = 0; p < kc; p++) {
                    float[] row = bp[p];
                    int s = src + p * bRs;
                    for (int j = jj; j < jEnd; j++, s += bCs) row[j] = b[s];
                }
            }
        }

        /** C' = alpha * acc + beta * C' over the block; C' is never read when beta == 0. */
        private static void store(Plan pl, float[][] acc, int i0, int mcur, int j0, int ncur) {
            float al = pl.alpha, be = pl.beta;
            float[] c = pl.c;
            int cOff = pl.cOff, cRs = pl.cRs, cCs = pl.cCs;
            if (cCs == 1) {
                for (int r = 0; r < mcur; r++) {
                    float[] row = acc[r];
                    int dst = cOff + (i0 + r) * cRs + j0;
                    if (be == 0f) {
                        for (int j = 0; j < ncur; j++) c[dst + j] = al * row[j];
                    } else {
                        for (int j = 0; j < ncur; j++) c[dst + j] = al * row[j] + be * c[dst + j];
                    }
                }
                return;
            }
            // Transposed destination (cRs == 1): write along C's rows, which are contiguous, reading the
            // accumulators across rows.
            for (int j = 0; j < ncur; j++) {
                int dst = cOff + (j0 + j) * cCs + i0;
                if (be == 0f) {
                    for (int r = 0; r < mcur; r++) c[dst + r] = al * acc[r][j];
                } else {
                    for (int r = 0; r < mcur; r++) c[dst + r] = al * acc[r][j] + be * c[dst + r];
                }
            }
        }
    }

    /**
     * c_r[j] += Σ_p ap[ao + p*MR + r] * bp[p][j] for r in 0..3, j in [0, nc), p ascending.
     *
     * <p>The p loop is unrolled by four with the fmas nested innermost-first, which keeps the per-element
     * order p, p+1, p+2, p+3 while loading and storing each accumulator once per four products.
     *
     * @param kc depth; ap holds kc*MR values from ao, bp at least kc rows
     * @param nc columns; each row array holds at least nc values
     */
    private static void kernel(int kc, int nc, float[] ap, int ao, float[][] bp, float[] c0, float[] c1, float[] c2, float[] c3) {
        int p = 0;
        for (; p + 3 < kc; p += 4) {
            int a = ao + p * MR;
            float a00 = ap[a], a01 = ap[a + 1], a02 = ap[a + 2], a03 = ap[a + 3];
            float a10 = ap[a + 4], a11 = ap[a + 5], a12 = ap[a + 6], a13 = ap[a + 7];
            float a20 = ap[a + 8], a21 = ap[a + 9], a22 = ap[a + 10], a23 = ap[a + 11];
            float a30 = ap[a + 12], a31 = ap[a + 13], a32 = ap[a + 14], a33 = ap[a + 15];
            float[] b0 = bp[p], b1 = bp[p + 1], b2 = bp[p + 2], b3 = bp[p + 3];
            for (int j = 0; j < nc; j++) {
                float v0 = b0[j], v1 = b1[j], v2 = b2[j], v3 = b3[j];
                c0[j] = Math.fma(a30, v3, Math.fma(a20, v2, Math.fma(a10, v1, Math.fma(a00, v0, c0[j]))));
                c1[j] = Math.fma(a31, v3, Math.fma(a21, v2, Math.fma(a11, v1, Math.fma(a01, v0, c1[j]))));
                c2[j] = Math.fma(a32, v3, Math.fma(a22, v2, Math.fma(a12, v1, Math.fma(a02, v0, c2[j]))));
                c3[j] = Math.fma(a33, v3, Math.fma(a23, v2, Math.fma(a13, v1, Math.fma(a03, v0, c3[j]))));
            }
        }
        for (; p < kc; p++) {
            int a = ao + p * MR;
            float a0 = ap[a], a1 = ap[a + 1], a2 = ap[a + 2], a3 = ap[a + 3];
            float[] b0 = bp[p];
            for (int j = 0; j < nc; j++) {
                float v = b0[j];
                c0[j] = Math.fma(a0, v, c0[j]);
                c1[j] = Math.fma(a1, v, c1[j]);
                c2[j] = Math.fma(a2, v, c2[j]);
                c3[j] = Math.fma(a3, v, c3[j]);
            }
        }
    }

    /**
     * Width of C's column blocks: equal-width blocks (multiples of the kernel's alignment) rather than full
     * blocks plus a thin tail, so jobs cost the same and the vector loops have no short remainder.
     */
    private static int columnBlockWidth(BlockKernel kern, int n) {
        int nBlocks = ceilDiv(n, kern.nb());
        return Math.min(n, roundUp(ceilDiv(n, nBlocks), kern.nAlign()));
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int mult) {
        return ceilDiv(x, mult) * mult;
    }
}
