package org.bitengine.engine.backend.cpu;

import java.util.Arrays;
import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.ConvSpec;

/**
 * The fast float32 convolution of the CPU backend: im2col + {@link Sgemm}, with direct loops where a GEMM
 * would be degenerate. Same contract and layouts as {@link Conv2dReference}, which it is tested against:
 * x {@code [n, h, w, c]}, w {@code [kh, kw, c/groups, o]}, y {@code [n, oh, ow, o]}; outputs overwritten.
 *
 * <h2>How</h2>
 * The im2col matrix has one row per output pixel, {@code M = n*oh*ow} rows, and per group the columns
 * {@code (ky, kx, ci)}, {@code K = kh*kw*cPerGroup}; groups sit side by side, so a row is
 * {@code [group][ky][kx][ci]} and for one group it is exactly the HWIO kernel's row order. The kernel of
 * group g is then already the {@code [K, oPerGroup]} matrix starting at column {@code g*oPerGroup} with row
 * stride {@code o}, and the output rows of y are the GEMM's C rows: no kernel or output reshuffling.
 *
 * <ul>
 *   <li>forward: {@code y_g = col_g · W_g};</li>
 *   <li>backward-data: with stride 1, a forward convolution of dy with the flipped, channel-transposed
 *       kernel; otherwise {@code dcol_g = dy_g · W_gᵀ}, then col2im as a gather (each input pixel sums the
 *       taps that read it), which parallelises over input rows without write races;</li>
 *   <li>backward-filter: {@code dW_g = col_gᵀ · dy_g}, accumulated over row tiles.</li>
 * </ul>
 * A 1×1 stride-1 unpadded convolution needs no im2col (x viewed as {@code [n*h*w, c]} is the matrix).
 * Depthwise convolutions (one input channel per group) use direct row-vectorised loops: as GEMMs they
 * would be thousands of one-column products.
 *
 * <h2>Memory and determinism</h2>
 * The im2col matrix is built for a bounded tile of rows at a time (32 MB of floats by default), in a
 * buffer kept per thread and reused, so memory does not grow with the batch or the image. A large one
 * (one group) is built inside the GEMM instead ({@link Sgemm#gemmRowTiles}): each job makes the rows it
 * multiplies, a few hundred KB that stay in its core's L2, so they never travel to memory and back. Tile boundaries
 * depend only on the geometry, and every parallel loop writes disjoint outputs with a fixed summation
 * order, so for a given geometry the results do not depend on the thread count.
 */
public final class Conv2dF32 {

    /** Largest im2col tile, in floats. Package-private so tests can force many tiles on small inputs. */
    static volatile long colBudgetFloats = 8L << 20;

    private static final ThreadLocal<float[][]> COL = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * im2col matrices larger than this (8 MB) are built tile by tile inside the GEMM's jobs: written whole they
     * would go out to memory and come back. A smaller one stays in L3 anyway, and its few rows are better
     * multiplied in tall blocks that reuse each packed weight panel more often (measured on R50x1's stages 3-4,
     * where the row tiles would be 24-56 rows). Package-private so tests can send small convolutions this way.
     */
    static volatile long rowTiledMinFloats = 2L << 20;

    private Conv2dF32() {
    }

    /**
     * Forward convolution.
     *
     * @param x input {@code [n, h, w, c]}
     * @param w kernel {@code [kh, kw, c/groups, o]}
     * @param y output {@code [n, oh, ow, o]}, overwritten
     */
    public static void forward(ConvGeometry g, float[] x, float[] w, float[] y) {
        ConvBuffers.check("Conv2dF32.forward", g, "x", len(x), "w", len(w), "y", len(y));
        if (g.n() * g.oh() * g.ow() == 0) return;
        if (isDepthwise(g)) {
            depthwiseForward(g, x, w, y);
            return;
        }
        forwardGemm(g, x, w, y);
    }

    /** Forward through GEMMs (not depthwise); also runs stride-1 backward-data as a convolution. */
    private static void forwardGemm(ConvGeometry g, float[] x, float[] w, float[] y) {
        int rows = g.n() * g.oh() * g.ow();
        int groups = g.spec().groups(), cpg = g.cPerGroup(), opg = g.oPerGroup(), o = g.o(), c = g.c();
        if (isPointwise(g)) {
            for (int gr = 0; gr < groups; gr++) {
                Sgemm.gemm(false, false, rows, opg, cpg, 1f, x, gr * cpg, c, w, gr * opg, o, 0f, y, gr * opg, o);
            }
            return;
        }
        int k = g.kh() * g.kw() * cpg, kTot = k * groups;
        if (groups == 1 && (long) rows * k > rowTiledMinFloats) {
            // Each GEMM job builds the im2col rows it multiplies, in its own cache: no pass through memory.
            Sgemm.gemmRowTiles(rows, o, k, (m0, mt, col) -> im2col(g, x, m0, m0 + mt, col), w, 0, o, y, 0, o);
            return;
        }
        int tile = tileRows(rows, kTot);
        float[] col = colBuffer((long) tile * kTot);
        for (int m0 = 0; m0 < rows; m0 += tile) {
            int mt = Math.min(tile, rows - m0);
            im2col(g, x, m0, m0 + mt, col);
            for (int gr = 0; gr < groups; gr++) {
                Sgemm.gemm(false, false, mt, opg, k, 1f, col, gr * k, kTot, w, gr * opg, o, 0f, y, m0 * o + gr * opg, o);
            }
        }
    }

    /**
     * Gradient with respect to the input.
     *
     * @param dy gradient of the output {@code [n, oh, ow, o]}
     * @param w  kernel {@code [kh, kw, c/groups, o]}
     * @param dx gradient of the input {@code [n, h, w, c]}, overwritten
     */
    public static void backwardData(ConvGeometry g, float[] dy, float[] w, float[] dx) {
        ConvBuffers.check("Conv2dF32.backwardData", g, "dx", len(dx), "w", len(w), "dy", len(dy));
        int rows = g.n() * g.oh() * g.ow();
        int groups = g.spec().groups(), cpg = g.cPerGroup(), opg = g.oPerGroup(), o = g.o(), c = g.c();
        if (rows == 0) {
            Arrays.fill(dx, 0, (int) ConvBuffers.inputSize(g), 0f);
            return;
        }
        if (isDepthwise(g)) {
            depthwiseBackwardData(g, dy, w, dx);
            return;
        }
        if (isPointwise(g)) {
            // dx_g [n*h*w, cpg] = dy_g [n*h*w, opg] · W_gᵀ, W_g stored [cpg, opg] with row stride o.
            for (int gr = 0; gr < groups; gr++) {
                Sgemm.gemm(false, true, rows, cpg, opg, 1f, dy, gr * opg, o, w, gr * opg, o, 0f, dx, gr * cpg, c);
            }
            return;
        }
        if (transposable(g)) {
            forwardGemm(transposed(g), dy, flippedKernel(g, w), dx);
            return;
        }
        int k = g.kh() * g.kw() * cpg, kTot = k * groups;
        int tile = tileRows(rows, kTot);
        float[] dcol = colBuffer((long) tile * kTot);
        zero(dx, (int) ConvBuffers.inputSize(g));
        for (int m0 = 0; m0 < rows; m0 += tile) {
            int mt = Math.min(tile, rows - m0);
            for (int gr = 0; gr < groups; gr++) {
                Sgemm.gemm(false, true, mt, k, opg, 1f, dy, m0 * o + gr * opg, o, w, gr * opg, o, 0f, dcol, gr * k, kTot);
            }
            col2imAdd(g, dcol, m0, m0 + mt, dx);
        }
    }

    /**
     * Gradient with respect to the kernel.
     *
     * @param x  input {@code [n, h, w, c]}
     * @param dy gradient of the output {@code [n, oh, ow, o]}
     * @param dw gradient of the kernel {@code [kh, kw, c/groups, o]}, overwritten
     */
    public static void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw) {
        ConvBuffers.check("Conv2dF32.backwardFilter", g, "x", len(x), "dw", len(dw), "dy", len(dy));
        int rows = g.n() * g.oh() * g.ow();
        int groups = g.spec().groups(), cpg = g.cPerGroup(), opg = g.oPerGroup(), o = g.o(), c = g.c();
        if (rows == 0) {
            Arrays.fill(dw, 0, (int) ConvBuffers.kernelSize(g), 0f);
            return;
        }
        if (isDepthwise(g)) {
            depthwiseBackwardFilter(g, x, dy, dw);
            return;
        }
        if (isPointwise(g)) {
            // dW_g [cpg, opg] = x_gᵀ · dy_g, x_g the [n*h*w, cpg] column slice of x.
            for (int gr = 0; gr < groups; gr++) {
                Sgemm.gemm(true, false, cpg, opg, rows, 1f, x, gr * cpg, c, dy, gr * opg, o, 0f, dw, gr * opg, o);
            }
            return;
        }
        int k = g.kh() * g.kw() * cpg, kTot = k * groups;
        int tile = tileRows(rows, kTot);
        float[] col = colBuffer((long) tile * kTot);
        for (int m0 = 0; m0 < rows; m0 += tile) {
            int mt = Math.min(tile, rows - m0);
            im2col(g, x, m0, m0 + mt, col);
            float beta = m0 == 0 ? 0f : 1f; // the first tile overwrites dw, later ones accumulate
            for (int gr = 0; gr < groups; gr++) {
                Sgemm.gemm(true, false, k, opg, mt, 1f, col, gr * k, kTot, dy, m0 * o + gr * opg, o, beta, dw, gr * opg, o);
            }
        }
    }

    static boolean isPointwise(ConvGeometry g) {
        var s = g.spec();
        return g.kh() == 1 && g.kw() == 1 && s.strideH() == 1 && s.strideW() == 1
                && s.padTop() == 0 && s.padBottom() == 0 && s.padLeft() == 0 && s.padRight() == 0;
    }

    static boolean isDepthwise(ConvGeometry g) {
        return g.spec().groups() > 1 && g.cPerGroup() == 1;
    }

    /**
     * With stride 1, the input gradient is itself a convolution: of dy, padded by {@code k-1-pad} on each
     * side, with the kernel flipped in space and its in/out channels swapped. That turns the col2im
     * scatter into the forward path's contiguous im2col copies. Needs every pad ≤ kernel size - 1.
     */
    static boolean transposable(ConvGeometry g) {
        var s = g.spec();
        return s.strideH() == 1 && s.strideW() == 1 && s.padTop() < g.kh() && s.padBottom() < g.kh()
                && s.padLeft() < g.kw() && s.padRight() < g.kw();
    }

    /** The geometry of dx = conv(dy, flipped kernel): input [n, oh, ow, o], output [n, h, w, c]. */
    static ConvGeometry transposed(ConvGeometry g) {
        var s = g.spec();
        int kh = g.kh(), kw = g.kw();
        return new ConvGeometry(g.n(), g.oh(), g.ow(), g.o(), kh, kw, g.c(),
                new ConvSpec(1, 1, kh - 1 - s.padTop(), kh - 1 - s.padBottom(), kw - 1 - s.padLeft(), kw - 1 - s.padRight(), s.groups()));
    }

    private static final ThreadLocal<float[][]> FLIPPED = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * wT[ky, kx, m, gr*cpg + ci] = w[kh-1-ky, kw-1-kx, ci, gr*opg + m]: the HWIO kernel {@code [kh, kw, o/groups, c]}
     * of {@link #transposed}, in a buffer kept per thread. Per tap and group it is a transpose of a
     * {@code [cpg, opg]} matrix, done in 32×32 blocks (both sides touch few cache lines at a time) and spread
     * over the threads: a deep kernel (stage 4's 2.4 M floats) took milliseconds strided and serial.
     */
    private static float[] flippedKernel(ConvGeometry g, float[] w) {
        int c = g.c(), o = g.o(), cpg = g.cPerGroup(), opg = g.oPerGroup(), groups = g.spec().groups();
        int taps = g.kh() * g.kw(), size = (int) ConvBuffers.kernelSize(g);
        float[][] holder = FLIPPED.get();
        if (holder[0].length < size) holder[0] = new float[size];
        float[] wT = holder[0];
        int ciBlocks = (cpg + 31) / 32;
        CpuParallel.forRange(0, taps * groups * ciBlocks, Math.max(1, (1 << 14) / (32 * opg)), (from, to) -> {
            for (int t = from; t < to; t++) {
                int tap = t / (groups * ciBlocks), gr = t / ciBlocks % groups;
                int ci0 = t % ciBlocks * 32, ci1 = Math.min(cpg, ci0 + 32);
                int src = (taps - 1 - tap) * cpg * o + gr * opg, dst = tap * opg * c + gr * cpg;
                for (int m0 = 0; m0 < opg; m0 += 32) {
                    int m1 = Math.min(opg, m0 + 32);
                    for (int ci = ci0; ci < ci1; ci++) {
                        int s = src + ci * o;
                        for (int m = m0; m < m1; m++) wT[dst + m * c + ci] = w[s + m];
                    }
                }
            }
        });
        return wT;
    }

    /** Rows per im2col tile: as many as fit the budget, at least one. */
    private static int tileRows(int rows, int kTot) {
        long fit = Math.max(1, colBudgetFloats / kTot);
        return (int) Math.min(rows, fit);
    }

    /** This thread's im2col buffer, grown to at least {@code size} floats and then kept. */
    private static float[] colBuffer(long size) {
        float[][] holder = COL.get();
        if (holder[0].length < size) holder[0] = new float[(int) size];
        return holder[0];
    }

    private static void zero(float[] a, int size) {
        CpuParallel.forRange(0, size, 1 << 16, (from, to) -> Arrays.fill(a, from, to, 0f));
    }

    /**
     * col[(m-m0)*kTot + group*K + (ky*kw+kx)*cpg + ci] = x at the tap (ky, kx) of output pixel m, channel
     * group*cpg+ci, or 0 outside the image; for m in [m0, m1).
     */
    static void im2col(ConvGeometry g, float[] x, int m0, int m1, float[] col) {
        int kh = g.kh(), kw = g.kw(), c = g.c(), h = g.h(), w = g.w(), oh = g.oh(), ow = g.ow();
        int sh = g.spec().strideH(), sw = g.spec().strideW(), pt = g.spec().padTop(), pl = g.spec().padLeft();
        int groups = g.spec().groups(), cpg = g.cPerGroup(), k = kh * kw * cpg, kTot = k * groups;
        CpuParallel.forRange(m0, m1, Math.max(16, 32768 / kTot), (from, to) -> {
            for (int m = from; m < to; m++) {
                int ox = m % ow, t = m / ow, oy = t % oh, b = t / oh;
                int iy0 = oy * sh - pt, ix0 = ox * sw - pl;
                // Taps with kx in [kxLo, kxHi) land inside the row; the rest are padding.
                int kxLo = Math.max(0, -ix0), kxHi = Math.min(kw, w - ix0);
                int dst = (m - m0) * kTot;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = iy0 + ky;
                    if (groups == 1) {
                        int rowDst = dst + ky * kw * c;
                        if (iy < 0 || iy >= h || kxLo >= kxHi) {
                            Arrays.fill(col, rowDst, rowDst + kw * c, 0f);
                            continue;
                        }
                        // With one group the in-image taps of a kernel row are one contiguous run of x.
                        Arrays.fill(col, rowDst, rowDst + kxLo * c, 0f);
                        System.arraycopy(x, ((b * h + iy) * w + ix0 + kxLo) * c, col, rowDst + kxLo * c, (kxHi - kxLo) * c);
                        Arrays.fill(col, rowDst + kxHi * c, rowDst + kw * c, 0f);
                        continue;
                    }
                    for (int kx = 0; kx < kw; kx++) {
                        int tap = (ky * kw + kx) * cpg;
                        boolean inside = iy >= 0 && iy < h && kx >= kxLo && kx < kxHi;
                        int src = inside ? ((b * h + iy) * w + ix0 + kx) * c : 0;
                        for (int gr = 0; gr < groups; gr++) {
                            int d = dst + gr * k + tap;
                            if (inside) System.arraycopy(x, src + gr * cpg, col, d, cpg);
                            else Arrays.fill(col, d, d + cpg, 0f);
                        }
                    }
                }
            }
        });
    }

    /**
     * dx += the contributions of im2col rows [m0, m1) held in dcol (layout as {@link #im2col}). Written as
     * a gather: each input pixel adds its taps in (ky, kx) order, so input rows can run in parallel.
     */
    static void col2imAdd(ConvGeometry g, float[] dcol, int m0, int m1, float[] dx) {
        int kh = g.kh(), kw = g.kw(), c = g.c(), h = g.h(), w = g.w(), oh = g.oh(), ow = g.ow();
        int sh = g.spec().strideH(), sw = g.spec().strideW(), pt = g.spec().padTop(), pl = g.spec().padLeft();
        int groups = g.spec().groups(), cpg = g.cPerGroup(), k = kh * kw * cpg, kTot = k * groups;
        int pixels = oh * ow;
        int rowBegin = (m0 / pixels) * h, rowEnd = ((m1 - 1) / pixels + 1) * h;
        CpuParallel.forRange(rowBegin, rowEnd, 1, (from, to) -> {
            for (int r = from; r < to; r++) {
                int b = r / h, iy = r % h;
                // Output rows whose window covers iy; skip input rows this tile cannot touch.
                int lo = iy + pt - kh + 1;
                int oyMin = lo <= 0 ? 0 : (lo + sh - 1) / sh;
                int oyMax = Math.min(oh - 1, (iy + pt) / sh);
                if (oyMin > oyMax) continue;
                if ((b * oh + oyMax + 1) * ow <= m0 || (b * oh + oyMin) * ow >= m1) continue;
                for (int ix = 0; ix < w; ix++) {
                    int xo = ((b * h + iy) * w + ix) * c;
                    for (int ky = 0; ky < kh; ky++) {
                        int ty = iy + pt - ky;
                        if (ty < 0) break;
                        if (ty % sh != 0 || ty / sh >= oh) continue;
                        int rowM = (b * oh + ty / sh) * ow;
                        for (int kx = 0; kx < kw; kx++) {
                            int tx = ix + pl - kx;
                            if (tx < 0) break;
                            if (tx % sw != 0 || tx / sw >= ow) continue;
                            int m = rowM + tx / sw;
                            if (m < m0 || m >= m1) continue;
                            int src = (m - m0) * kTot + (ky * kw + kx) * cpg;
                            for (int gr = 0; gr < groups; gr++) {
                                int s = src + gr * k, d = xo + gr * cpg;
                                for (int ci = 0; ci < cpg; ci++) dx[d + ci] += dcol[s + ci];
                            }
                        }
                    }
                }
            }
        });
    }

    // ---- Depthwise ------------------------------------------------------------------------------------
    //
    // One input channel per group (oPerGroup = mult, the channel multiplier). Each thread works on a whole
    // image row at a time, laid out as j = column*o + oc, and every tap becomes one vectorisable line
    // acc[j] = fma(a[j], b[j], acc[j]) over the row (see fmaRow). To get there the input row is copied,
    // shifted by the tap, into a scratch row, and the kernel is replicated along the row once per call.
    // Taps in the padding contribute fma(0, w, acc) instead of being skipped; that is exact for finite w.

    /** Scratch rows of one thread for the depthwise paths, grown on demand and kept. */
    private static final class DwScratch {
        float[] acc = new float[0], shifted = new float[0], dyRow = new float[0];
        float[][] tapAcc = new float[0][0];

        DwScratch ensure(int rowLen, int taps, boolean withTapAcc) {
            if (acc.length < rowLen) {
                acc = new float[rowLen];
                shifted = new float[rowLen];
                dyRow = new float[rowLen];
            }
            if (withTapAcc && (tapAcc.length < taps || tapAcc[0].length < rowLen)) tapAcc = new float[taps][rowLen];
            return this;
        }
    }

    private static final ThreadLocal<DwScratch> DW_SCRATCH = ThreadLocal.withInitial(DwScratch::new);

    /** acc[j] = fma(a[j], b[j], acc[j]) for j in [0, n); a separate method so C2 compiles it on its own and vectorises it. */
    static void fmaRow(float[] acc, float[] a, float[] b, int n) {
        for (int j = 0; j < n; j++) acc[j] = Math.fma(a[j], b[j], acc[j]);
    }

    /** rep[tap][col*o + oc] = w[tap*o + oc] for col in [0, cols): the kernel laid out like an image row. */
    private static float[][] replicateKernel(float[] w, int taps, int o, int cols) {
        float[][] rep = new float[taps][cols * o];
        for (int t = 0; t < taps; t++) {
            for (int col = 0; col < cols; col++) System.arraycopy(w, t * o, rep[t], col * o, o);
        }
        return rep;
    }

    /**
     * shifted[ox*o + oc] = x[b, iy, ox*sw - pl + kx, oc/mult] for ox in [0, ow), zero where the column falls
     * in the padding: the input row as tap (·, kx) of every output column sees it.
     */
    private static void shiftInputRow(ConvGeometry g, float[] x, int b, int iy, int kx, float[] shifted) {
        int c = g.c(), wd = g.w(), ow = g.ow(), o = g.o(), mult = g.oPerGroup();
        int sw = g.spec().strideW(), pl = g.spec().padLeft();
        int rowBase = (b * g.h() + iy) * wd;
        // Output columns whose tap kx lands inside the image: ox*sw - pl + kx in [0, wd).
        int oxLo = Math.min(ow, Math.max(0, ceilDivNonNeg(pl - kx, sw)));
        int oxHi = Math.max(oxLo, Math.min(ow, ceilDivNonNeg(wd + pl - kx, sw)));
        Arrays.fill(shifted, 0, oxLo * o, 0f);
        Arrays.fill(shifted, oxHi * o, ow * o, 0f);
        if (oxHi == oxLo) return; // the tap lies in the padding for every output column (tiny feature maps)
        if (mult == 1 && sw == 1) {
            System.arraycopy(x, (rowBase + oxLo - pl + kx) * c, shifted, oxLo * o, (oxHi - oxLo) * o);
            return;
        }
        for (int ox = oxLo; ox < oxHi; ox++) {
            int src = (rowBase + ox * sw - pl + kx) * c, dst = ox * o;
            if (mult == 1) {
                System.arraycopy(x, src, shifted, dst, c);
            } else {
                for (int oc = 0; oc < o; oc++) shifted[dst + oc] = x[src + oc / mult];
            }
        }
    }

    /** ceil(a / b) for b > 0, and 0 for a <= 0. */
    private static int ceilDivNonNeg(int a, int b) {
        return a <= 0 ? 0 : (a + b - 1) / b;
    }

    /** y[b,oy,ox,oc] = Σ_{ky,kx} x[b,iy,ix,oc/mult] · w[ky,kx,0,oc], taps in (ky, kx) order. */
    private static void depthwiseForward(ConvGeometry g, float[] x, float[] w, float[] y) {
        int kh = g.kh(), kw = g.kw(), h = g.h(), oh = g.oh(), o = g.o();
        int sh = g.spec().strideH(), pt = g.spec().padTop();
        int rowLen = g.ow() * o;
        float[][] wRep = replicateKernel(w, kh * kw, o, g.ow());
        CpuParallel.forRange(0, g.n() * oh, Math.max(1, 16384 / (rowLen * kh * kw)), (from, to) -> {
            DwScratch s = DW_SCRATCH.get().ensure(rowLen, 0, false);
            for (int r = from; r < to; r++) {
                int b = r / oh, oy = r % oh;
                Arrays.fill(s.acc, 0, rowLen, 0f);
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * sh - pt + ky;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < kw; kx++) {
                        shiftInputRow(g, x, b, iy, kx, s.shifted);
                        fmaRow(s.acc, s.shifted, wRep[ky * kw + kx], rowLen);
                    }
                }
                System.arraycopy(s.acc, 0, y, r * rowLen, rowLen);
            }
        });
    }

    /**
     * dx[b,iy,ix,ch] = Σ_{ky,kx} Σ_m dy[b,oy,ox,ch*mult+m] · w[ky,kx,0,ch*mult+m] over the taps that read
     * (iy, ix): gathered per input row, taps in (ky, kx) order, then the multiplier.
     */
    private static void depthwiseBackwardData(ConvGeometry g, float[] dy, float[] w, float[] dx) {
        int kh = g.kh(), kw = g.kw(), c = g.c(), h = g.h(), wd = g.w(), oh = g.oh(), ow = g.ow(), o = g.o();
        int sh = g.spec().strideH(), sw = g.spec().strideW(), pt = g.spec().padTop(), pl = g.spec().padLeft();
        int mult = g.oPerGroup();
        int rowLen = wd * o;
        float[][] wRep = replicateKernel(w, kh * kw, o, wd);
        CpuParallel.forRange(0, g.n() * h, Math.max(1, 16384 / (rowLen * kh * kw)), (from, to) -> {
            DwScratch s = DW_SCRATCH.get().ensure(rowLen, 0, false);
            float[] acc = s.acc, shifted = s.shifted;
            for (int r = from; r < to; r++) {
                int b = r / h, iy = r % h;
                Arrays.fill(acc, 0, rowLen, 0f);
                for (int ky = 0; ky < kh; ky++) {
                    int ty = iy + pt - ky;
                    if (ty < 0) break;
                    if (ty % sh != 0 || ty / sh >= oh) continue;
                    int dyRow = (b * oh + ty / sh) * ow;
                    for (int kx = 0; kx < kw; kx++) {
                        // shifted[ix*o + oc] = dy[b, oy, ox, oc] for the ox whose tap kx reads column ix.
                        for (int ix = 0; ix < wd; ix++) {
                            int tx = ix + pl - kx;
                            if (tx < 0 || tx % sw != 0 || tx / sw >= ow) Arrays.fill(shifted, ix * o, ix * o + o, 0f);
                            else System.arraycopy(dy, (dyRow + tx / sw) * o, shifted, ix * o, o);
                        }
                        fmaRow(acc, shifted, wRep[ky * kw + kx], rowLen);
                    }
                }
                int dst = r * wd * c;
                if (mult == 1) {
                    System.arraycopy(acc, 0, dx, dst, rowLen);
                } else {
                    for (int i = 0; i < wd * c; i++) {
                        float sum = 0f;
                        for (int m = 0; m < mult; m++) sum += acc[i * mult + m];
                        dx[dst + i] = sum;
                    }
                }
            }
        });
    }

    /**
     * dw[ky,kx,0,oc] = Σ_{b,oy,ox} x[b,iy,ix,oc/mult] · dy[b,oy,ox,oc]. The output rows are cut into fixed
     * blocks (their size depends only on the geometry); each block sums its rows per tap and column, then
     * over its columns, and the blocks' partial sums are added in block order, so the result does not
     * depend on how many threads share the blocks.
     */
    private static void depthwiseBackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw) {
        int kh = g.kh(), kw = g.kw(), h = g.h(), oh = g.oh(), ow = g.ow(), o = g.o();
        int sh = g.spec().strideH(), pt = g.spec().padTop();
        int taps = kh * kw, rowLen = ow * o, rows = g.n() * oh;
        int rowsPerBlock = Math.max(8, (rows + 255) / 256);
        int blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        float[][] partial = new float[blocks][taps * o];
        CpuParallel.forRange(0, blocks, 1, (fromBlock, toBlock) -> {
            DwScratch s = DW_SCRATCH.get().ensure(rowLen, taps, true);
            for (int blk = fromBlock; blk < toBlock; blk++) {
                for (int t = 0; t < taps; t++) Arrays.fill(s.tapAcc[t], 0, rowLen, 0f);
                int r1 = Math.min(rows, (blk + 1) * rowsPerBlock);
                for (int r = blk * rowsPerBlock; r < r1; r++) {
                    int b = r / oh, oy = r % oh;
                    System.arraycopy(dy, r * rowLen, s.dyRow, 0, rowLen);
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * sh - pt + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            shiftInputRow(g, x, b, iy, kx, s.shifted);
                            fmaRow(s.tapAcc[ky * kw + kx], s.shifted, s.dyRow, rowLen);
                        }
                    }
                }
                float[] part = partial[blk];
                for (int t = 0; t < taps; t++) {
                    float[] acc = s.tapAcc[t];
                    for (int ox = 0; ox < ow; ox++) {
                        for (int oc = 0; oc < o; oc++) part[t * o + oc] += acc[ox * o + oc];
                    }
                }
            }
        });
        CpuParallel.forRange(0, taps * o, 4096, (from, to) -> {
            for (int i = from; i < to; i++) {
                float sum = 0f;
                for (int blk = 0; blk < blocks; blk++) sum += partial[blk][i];
                dw[i] = sum;
            }
        });
    }

    private static long len(float[] a) {
        if (a == null) throw new NullPointerException("Conv2dF32: an array argument is null");
        return a.length;
    }
}
