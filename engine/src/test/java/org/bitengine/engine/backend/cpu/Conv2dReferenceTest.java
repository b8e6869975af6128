package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Random;
import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.ConvSpec;
import org.junit.jupiter.api.Test;

class Conv2dReferenceTest {

    // x is the 3x3 image   1 2 3     and w the 2x2 kernel   1 2
    //                      4 5 6                            3 4
    //                      7 8 9     (one channel in, one out; HWIO [2, 2, 1, 1] = {1, 2, 3, 4}).
    private static final double[] X = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    private static final double[] W = {1, 2, 3, 4};

    @Test
    void handComputedStrideOneNoPadding() {
        ConvGeometry g = new ConvGeometry(1, 3, 3, 1, 2, 2, 1, ConvSpec.of(1, 0));
        assertEquals(2, g.oh());
        assertEquals(2, g.ow());
        // y[0,0] = 1*1 + 2*2 + 4*3 + 5*4 = 37     y[0,1] = 2*1 + 3*2 + 5*3 + 6*4 = 47
        // y[1,0] = 4*1 + 5*2 + 7*3 + 8*4 = 67     y[1,1] = 5*1 + 6*2 + 8*3 + 9*4 = 77
        double[] y = new double[4];
        Conv2dReference.forward(g, X, W, y);
        assertArrayEquals(new double[] {37, 47, 67, 77}, y);

        // dy = all ones: each input pixel collects the kernel taps that read it.
        // dx = w00        w00+w01              w01         =  1  3 2
        //      w00+w10    w00+w01+w10+w11      w01+w11        4 10 6
        //      w10        w10+w11              w11            3  7 4
        double[] ones = {1, 1, 1, 1};
        double[] dx = new double[9];
        Conv2dReference.backwardData(g, ones, W, dx);
        assertArrayEquals(new double[] {1, 3, 2, 4, 10, 6, 3, 7, 4}, dx);

        // dw[ky,kx] = sum of the 2x2 window of x at offset (ky, kx):
        // dw00 = 1+2+4+5 = 12, dw01 = 2+3+5+6 = 16, dw10 = 4+5+7+8 = 24, dw11 = 5+6+8+9 = 28.
        double[] dw = new double[4];
        Conv2dReference.backwardFilter(g, X, ones, dw);
        assertArrayEquals(new double[] {12, 16, 24, 28}, dw);
    }

    @Test
    void handComputedStrideTwoPadOne() {
        // oh = (3 + 1 + 1 - 2) / 2 + 1 = 2; window origin (oy*2 - 1, ox*2 - 1).
        ConvGeometry g = new ConvGeometry(1, 3, 3, 1, 2, 2, 1, ConvSpec.of(2, 1));
        assertEquals(2, g.oh());
        // y[0,0]: only tap (1,1) is inside, on x(0,0):          1*4                   =  4
        // y[0,1]: taps (1,0),(1,1) on x(0,1),x(0,2):            2*3 + 3*4             = 18
        // y[1,0]: taps (0,1),(1,1) on x(1,0),x(2,0):            4*2 + 7*4             = 36
        // y[1,1]: all four taps on x(1,1),x(1,2),x(2,1),x(2,2): 5*1 + 6*2 + 8*3 + 9*4 = 77
        double[] y = new double[4];
        Conv2dReference.forward(g, X, W, y);
        assertArrayEquals(new double[] {4, 18, 36, 77}, y);

        // With dy = {1, 10, 100, 1000} each x pixel is read by exactly one output and tap:
        // dx(0,0) = 1*w11 = 4, dx(0,1) = 10*w10 = 30, dx(0,2) = 10*w11 = 40,
        // dx(1,0) = 100*w01 = 200, dx(1,1) = 1000*w00 = 1000, dx(1,2) = 1000*w01 = 2000,
        // dx(2,0) = 100*w11 = 400, dx(2,1) = 1000*w10 = 3000, dx(2,2) = 1000*w11 = 4000.
        double[] dy = {1, 10, 100, 1000};
        double[] dx = new double[9];
        Conv2dReference.backwardData(g, dy, W, dx);
        assertArrayEquals(new double[] {4, 30, 40, 200, 1000, 2000, 400, 3000, 4000}, dx);

        // dw00 = 1000*x(1,1) = 5000; dw01 = 100*x(1,0) + 1000*x(1,2) = 400 + 6000 = 6400;
        // dw10 = 10*x(0,1) + 1000*x(2,1) = 20 + 8000 = 8020;
        // dw11 = 1*x(0,0) + 10*x(0,2) + 100*x(2,0) + 1000*x(2,2) = 1 + 30 + 700 + 9000 = 9731.
        double[] dw = new double[4];
        Conv2dReference.backwardFilter(g, X, dy, dw);
        assertArrayEquals(new double[] {5000, 6400, 8020, 9731}, dw);
    }

    @Test
    void handComputedTwoGroups() {
        // Two channels, two groups, 1x1 kernel: each output channel sees only its own input channel.
        // x pixel 0 = (1, 2), pixel 1 = (3, 4); w [1, 1, 1, 2] = {10, 100}.
        ConvGeometry g = new ConvGeometry(1, 1, 2, 2, 1, 1, 2, new ConvSpec(1, 1, 0, 0, 0, 0, 2));
        double[] y = new double[4];
        Conv2dReference.forward(g, new double[] {1, 2, 3, 4}, new double[] {10, 100}, y);
        assertArrayEquals(new double[] {10, 200, 30, 400}, y);
    }

    static List<ConvGeometry> adjointGeometries() {
        return List.of(
                new ConvGeometry(2, 5, 6, 3, 3, 3, 4, ConvSpec.of(1, 1)),
                new ConvGeometry(1, 9, 7, 2, 7, 7, 3, ConvSpec.of(2, 3)),
                new ConvGeometry(2, 6, 5, 4, 3, 2, 6, new ConvSpec(2, 1, 0, 1, 2, 0, 2)),
                new ConvGeometry(1, 7, 7, 4, 3, 3, 8, new ConvSpec(2, 2, 1, 1, 1, 1, 4)),
                new ConvGeometry(3, 4, 4, 6, 1, 1, 4, ConvSpec.of(2, 0)));
    }

    /**
     * backwardData and backwardFilter must be the adjoints of forward:
     * ⟨forward(x, w), dy⟩ = ⟨x, backwardData(dy, w)⟩ = ⟨w, backwardFilter(x, dy)⟩.
     */
    @Test
    void backwardPassesAreAdjointsOfForward() {
        Random r = new Random(42);
        for (ConvGeometry g : adjointGeometries()) {
            double[] x = random(r, (int) ConvBuffers.inputSize(g));
            double[] w = random(r, (int) ConvBuffers.kernelSize(g));
            double[] dy = random(r, (int) ConvBuffers.outputSize(g));
            double[] y = new double[dy.length];
            double[] dx = new double[x.length];
            double[] dw = new double[w.length];
            Conv2dReference.forward(g, x, w, y);
            Conv2dReference.backwardData(g, dy, w, dx);
            Conv2dReference.backwardFilter(g, x, dy, dw);
            double lhs = dot(y, dy);
            assertEquals(lhs, dot(x, dx), 1e-10 * Math.abs(lhs), "<forward(x), dy> vs <x, backwardData(dy)> for " + g);
            assertEquals(lhs, dot(w, dw), 1e-10 * Math.abs(lhs), "<forward(x), dy> vs <w, backwardFilter(x, dy)> for " + g);
        }
    }

    @Test
    void outputsAreOverwrittenNotAccumulated() {
        ConvGeometry g = new ConvGeometry(1, 3, 3, 1, 2, 2, 1, ConvSpec.of(1, 0));
        double[] y = {5, 5, 5, 5};
        Conv2dReference.forward(g, X, W, y);
        assertArrayEquals(new double[] {37, 47, 67, 77}, y);
        double[] dx = new double[9];
        java.util.Arrays.fill(dx, 3);
        Conv2dReference.backwardData(g, new double[] {1, 1, 1, 1}, W, dx);
        assertArrayEquals(new double[] {1, 3, 2, 4, 10, 6, 3, 7, 4}, dx);
        double[] dw = {9, 9, 9, 9};
        Conv2dReference.backwardFilter(g, X, new double[] {1, 1, 1, 1}, dw);
        assertArrayEquals(new double[] {12, 16, 24, 28}, dw);
    }

    @Test
    void tooSmallBufferFailsWithAClearMessage() {
        ConvGeometry g = new ConvGeometry(1, 3, 3, 1, 2, 2, 1, ConvSpec.of(1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Conv2dReference.forward(g, X, W, new double[3]));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("y must hold [1, 2, 2, 1]"), e.getMessage());
    }

    static double[] random(Random r, int size) {
        double[] a = new double[size];
        for (int i = 0; i < size; i++) a[i] = r.nextDouble() * 2 - 1;
        return a;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
