package org.bitengine.engine.backend.cpu;

import org.bitengine.engine.backend.ConvGeometry;

/** Size checks shared by the convolution implementations, so a wrong buffer fails with one clear line. */
final class ConvBuffers {

    private ConvBuffers() {
    }

    static long inputSize(ConvGeometry g) {
        return (long) g.n() * g.h() * g.w() * g.c();
    }

    static long kernelSize(ConvGeometry g) {
        return (long) g.kh() * g.kw() * g.cPerGroup() * g.o();
    }

    static long outputSize(ConvGeometry g) {
        return (long) g.n() * g.oh() * g.ow() * g.o();
    }

    /**
     * Checks that the input-shaped, kernel-shaped and output-shaped arrays are each at least as long as
     * the geometry needs, and that every index fits in an int.
     */
    static void check(String op, ConvGeometry g, String xName, long xLen, String wName, long wLen, String yName, long yLen) {
        long xs = inputSize(g), ws = kernelSize(g), ys = outputSize(g);
        if (xs > Integer.MAX_VALUE || ys > Integer.MAX_VALUE || ws > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors of " + g + " exceed 2^31 elements; split the batch");
        }
        need(op, g, xName, "[" + g.n() + ", " + g.h() + ", " + g.w() + ", " + g.c() + "]", xs, xLen);
        need(op, g, wName, "[" + g.kh() + ", " + g.kw() + ", " + g.cPerGroup() + ", " + g.o() + "]", ws, wLen);
        need(op, g, yName, "[" + g.n() + ", " + g.oh() + ", " + g.ow() + ", " + g.o() + "]", ys, yLen);
    }

    private static void need(String op, ConvGeometry g, String name, String shape, long size, long len) {
        if (len < size) {
            throw new IllegalArgumentException(op + ": " + name + " must hold " + shape + " = " + size + " values, has " + len + " (" + g + ")");
        }
    }
}
