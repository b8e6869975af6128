package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.ConvSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RestoreThreads.class)
class Conv2dF32Test {

    private long savedBudget;
    private long savedRowTiledMin;

    @BeforeEach
    void save() {
        savedBudget = Conv2dF32.colBudgetFloats;
        savedRowTiledMin = Conv2dF32.rowTiledMinFloats;
    }

    @AfterEach
    void restore() {
        Conv2dF32.colBudgetFloats = savedBudget;
        Conv2dF32.rowTiledMinFloats = savedRowTiledMin;
    }

    private static ConvSpec pad(int stride, int top, int bottom, int left, int right) {
        return new ConvSpec(stride, stride, top, bottom, left, right, 1);
    }

    /** Shapes of BiT (scaled down spatially), odd sizes, asymmetric padding, groups and depthwise. */
    static List<ConvGeometry> geometries() {
        List<ConvGeometry> gs = new ArrayList<>();
        gs.add(new ConvGeometry(2, 23, 23, 3, 7, 7, 16, ConvSpec.of(2, 3)));          // BiT root 7x7/2 pad 3
        gs.add(new ConvGeometry(2, 9, 9, 16, 1, 1, 24, ConvSpec.of(1, 0)));            // 1x1
        gs.add(new ConvGeometry(2, 10, 10, 8, 3, 3, 12, ConvSpec.of(1, 1)));           // 3x3 pad 1
        gs.add(new ConvGeometry(2, 11, 11, 8, 3, 3, 8, ConvSpec.of(2, 1)));            // 3x3 stride 2 pad 1
        gs.add(new ConvGeometry(2, 10, 10, 8, 1, 1, 16, ConvSpec.of(2, 0)));           // 1x1 stride 2 projection
        gs.add(new ConvGeometry(1, 13, 11, 5, 3, 3, 7, ConvSpec.of(1, 1)));            // odd sizes
        gs.add(new ConvGeometry(3, 13, 11, 6, 3, 3, 5, ConvSpec.of(2, 0)));            // batch 3, odd, no pad
        gs.add(new ConvGeometry(2, 12, 12, 8, 3, 3, 8, pad(2, 0, 1, 0, 1)));           // Keras "correct_pad"
        gs.add(new ConvGeometry(1, 9, 8, 3, 4, 2, 5, new ConvSpec(2, 1, 2, 0, 1, 3, 1))); // lopsided everything
        gs.add(new ConvGeometry(2, 7, 5, 4, 3, 1, 6, new ConvSpec(1, 2, 1, 1, 0, 0, 1))); // 3x1 kernel, strides 1x2
        gs.add(new ConvGeometry(2, 10, 9, 8, 3, 3, 6, new ConvSpec(1, 1, 1, 1, 1, 1, 2))); // groups = 2
        gs.add(new ConvGeometry(2, 8, 8, 8, 1, 1, 12, new ConvSpec(1, 1, 0, 0, 0, 0, 2))); // 1x1 groups = 2
        gs.add(new ConvGeometry(2, 9, 9, 8, 3, 3, 8, new ConvSpec(2, 2, 1, 1, 1, 1, 2))); // strided groups = 2
        gs.add(new ConvGeometry(2, 10, 10, 8, 3, 3, 8, new ConvSpec(1, 1, 1, 1, 1, 1, 8))); // depthwise
        gs.add(new ConvGeometry(2, 11, 10, 24, 5, 5, 24, new ConvSpec(2, 2, 2, 2, 2, 2, 24))); // depthwise 5x5/2
        gs.add(new ConvGeometry(1, 7, 7, 4, 3, 3, 8, new ConvSpec(1, 1, 0, 1, 1, 0, 4))); // depthwise x2, asym pad
        gs.add(new ConvGeometry(2, 1, 1, 6, 5, 5, 6, new ConvSpec(1, 1, 2, 2, 2, 2, 6))); // depthwise 5x5 on a 1x1 map (EfficientNet at 32x32)
        gs.add(new ConvGeometry(1, 2, 2, 4, 5, 5, 4, new ConvSpec(2, 2, 2, 2, 2, 2, 4))); // depthwise 5x5/2 on a 2x2 map
        gs.add(new ConvGeometry(2, 5, 5, 3, 5, 5, 4, ConvSpec.of(1, 0)));              // kernel = image: 1x1 out
        gs.add(new ConvGeometry(1, 5, 6, 4, 1, 1, 3, ConvSpec.of(1, 1)));              // 1x1 with padding
        gs.add(new ConvGeometry(2, 7, 9, 6, 3, 2, 9, new ConvSpec(1, 1, 2, 0, 0, 1, 3))); // stride 1, asym pad, 3 groups
        gs.add(new ConvGeometry(1, 6, 6, 4, 2, 2, 4, new ConvSpec(1, 1, 2, 2, 0, 0, 1))); // pad = kernel size
        gs.add(new ConvGeometry(2, 30, 30, 32, 3, 3, 64, ConvSpec.of(1, 1)));          // big enough for many GEMM jobs
        gs.add(new ConvGeometry(4, 14, 14, 64, 1, 1, 256, ConvSpec.of(1, 0)));         // BiT-like 1x1 expansion
        return gs;
    }

    private static float[] randomFloats(Random r, long size) {
        float[] a = new float[(int) size];
        for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    private static void assertClose(double[] ref, float[] got, String what) {
        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
        }
        assertTrue(maxErr <= 1e-5 * maxRef, what + ": max error " + maxErr + " vs max |ref| " + maxRef);
    }

    /** Runs all three passes of Conv2dF32 and compares each with Conv2dReference on the same (float) data. */
    private static void checkAgainstReference(ConvGeometry g, long seed, String tag) {
        Random r = new Random(seed);
        float[] x = randomFloats(r, ConvBuffers.inputSize(g));
        float[] w = randomFloats(r, ConvBuffers.kernelSize(g));
        float[] dy = randomFloats(r, ConvBuffers.outputSize(g));

        double[] yRef = new double[dy.length];
        Conv2dReference.forward(g, toDouble(x), toDouble(w), yRef);
        float[] y = new float[dy.length];
        java.util.Arrays.fill(y, Float.NaN); // outputs are overwritten, whatever they held
        Conv2dF32.forward(g, x, w, y);
        assertClose(yRef, y, tag + " forward " + g);

        double[] dxRef = new double[x.length];
        Conv2dReference.backwardData(g, toDouble(dy), toDouble(w), dxRef);
        float[] dx = new float[x.length];
        java.util.Arrays.fill(dx, Float.NaN);
        Conv2dF32.backwardData(g, dy, w, dx);
        assertClose(dxRef, dx, tag + " backwardData " + g);

        double[] dwRef = new double[w.length];
        Conv2dReference.backwardFilter(g, toDouble(x), toDouble(dy), dwRef);
        float[] dw = new float[w.length];
        java.util.Arrays.fill(dw, Float.NaN);
        Conv2dF32.backwardFilter(g, x, dy, dw);
        assertClose(dwRef, dw, tag + " backwardFilter " + g);
    }

    @Test
    void matchesReference() {
        CpuParallel.setThreads(2);
        long seed = 1;
        for (ConvGeometry g : geometries()) checkAgainstReference(g, seed++, "default tiles");
    }

    /** A tiny im2col budget forces many row tiles, including ones that end mid-row and mid-image. */
    @Test
    void matchesReferenceWithManySmallTiles() {
        CpuParallel.setThreads(2);
        long seed = 100;
        for (ConvGeometry g : geometries()) {
            int kTot = g.kh() * g.kw() * g.c();
            Conv2dF32.colBudgetFloats = (long) kTot * 7; // 7 output pixels per tile
            checkAgainstReference(g, seed++, "7-row tiles");
            Conv2dF32.colBudgetFloats = kTot; // one pixel per tile
            checkAgainstReference(g, seed++, "1-row tiles");
        }
    }

    /**
     * Every convolution through the path that builds im2col rows inside the GEMM's jobs (normally only for
     * large ones); the 30×30 geometry spans several jobs, the last one partial.
     */
    @Test
    void matchesReferenceWithIm2colBuiltPerGemmJob() {
        CpuParallel.setThreads(2);
        Conv2dF32.rowTiledMinFloats = 0;
        long seed = 300;
        for (ConvGeometry g : geometries()) checkAgainstReference(g, seed++, "im2col per GEMM job");
    }

    @Test
    void identicalResultsForOneAndTwoThreads() {
        Random r = new Random(9);
        List<ConvGeometry> gs = List.of(
                new ConvGeometry(2, 30, 30, 32, 3, 3, 64, ConvSpec.of(1, 1)),
                new ConvGeometry(2, 23, 23, 3, 7, 7, 16, ConvSpec.of(2, 3)),
                new ConvGeometry(4, 14, 14, 64, 1, 1, 256, ConvSpec.of(1, 0)),
                new ConvGeometry(2, 11, 10, 24, 5, 5, 24, new ConvSpec(2, 2, 2, 2, 2, 2, 24)),
                new ConvGeometry(2, 9, 9, 8, 3, 3, 8, new ConvSpec(2, 2, 1, 1, 1, 1, 2)));
        for (ConvGeometry g : gs) {
            float[] x = randomFloats(r, ConvBuffers.inputSize(g));
            float[] w = randomFloats(r, ConvBuffers.kernelSize(g));
            float[] dy = randomFloats(r, ConvBuffers.outputSize(g));
            float[][] results = new float[2][];
            for (int t = 1; t <= 2; t++) {
                CpuParallel.setThreads(t);
                float[] y = new float[dy.length], dx = new float[x.length], dw = new float[w.length];
                Conv2dF32.forward(g, x, w, y);
                Conv2dF32.backwardData(g, dy, w, dx);
                Conv2dF32.backwardFilter(g, x, dy, dw);
                float[] all = new float[y.length + dx.length + dw.length];
                System.arraycopy(y, 0, all, 0, y.length);
                System.arraycopy(dx, 0, all, y.length, dx.length);
                System.arraycopy(dw, 0, all, y.length + dx.length, dw.length);
                results[t - 1] = all;
            }
            assertArrayEquals(results[0], results[1], "1 vs 2 threads differ for " + g);
        }
    }

    /** Building im2col inside the GEMM's jobs changes where the rows are made, not one bit of the result. */
    @Test
    void im2colPerGemmJobIsBitIdenticalToWholeIm2col() {
        CpuParallel.setThreads(2);
        Random r = new Random(11);
        for (ConvGeometry g : List.of(new ConvGeometry(2, 30, 30, 32, 3, 3, 64, ConvSpec.of(1, 1)),
                new ConvGeometry(2, 40, 40, 3, 7, 7, 16, ConvSpec.of(2, 3)))) {
            float[] x = randomFloats(r, ConvBuffers.inputSize(g));
            float[] w = randomFloats(r, ConvBuffers.kernelSize(g));
            float[] dy = randomFloats(r, ConvBuffers.outputSize(g));
            float[][] y = new float[2][dy.length], dx = new float[2][x.length];
            for (int path = 0; path < 2; path++) {
                Conv2dF32.rowTiledMinFloats = path == 0 ? Long.MAX_VALUE : 0;
                Conv2dF32.forward(g, x, w, y[path]);
                Conv2dF32.backwardData(g, dy, w, dx[path]);
            }
            assertArrayEquals(y[0], y[1], "forward " + g);
            assertArrayEquals(dx[0], dx[1], "backwardData " + g);
        }
    }

    @Test
    void tooSmallBufferFailsWithAClearMessage() {
        ConvGeometry g = new ConvGeometry(1, 4, 4, 2, 3, 3, 2, ConvSpec.of(1, 1));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Conv2dF32.backwardFilter(g, new float[32], new float[32], new float[10]));
        assertTrue(e.getMessage().contains("dw must hold [3, 3, 2, 2]"), e.getMessage());
    }
}
