package org.bitengine.engine.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Inverted dropout and stochastic depth: masks, scaling, determinism, eval identity and the backward. */
class DropoutTest {

    private static Tensor ones(int... dims) {
        float[] v = new float[org.bitengine.engine.tensor.Shape.of(dims).size()];
        java.util.Arrays.fill(v, 1f);
        return Tensor.of(v, dims);
    }

    @Test
    void dropoutKeepsWithProbabilityOneMinusPAndScales() {
        Tensor x = ones(100, 100);
        float[] y = Ops.dropout(x, 0.2, true, new SplittableRandom(1)).toFloatArray();
        int kept = 0;
        for (float v : y) {
            assertTrue(v == 0f || v == 1.25f, "value " + v);
            if (v != 0) kept++;
        }
        assertEquals(0.8, kept / 10000.0, 0.02);
        assertArrayEquals(y, Ops.dropout(x, 0.2, true, new SplittableRandom(1)).toFloatArray(), "same seed, same mask");
    }

    @Test
    void identityInEvalOrWithoutDropping() {
        Tensor x = ones(3, 4);
        assertSame(x, Ops.dropout(x, 0.5, false, new SplittableRandom(1)));
        assertSame(x, Ops.dropout(x, 0.0, true, new SplittableRandom(1)));
        assertSame(x, Ops.stochasticDepth(x, 0.5, false, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> Ops.dropout(x, 1.5, true, new SplittableRandom(1)));
    }

    @Test
    void stochasticDepthDropsWholeSamples() {
        Tensor x = ones(64, 2, 3, 4);
        float[] y = Ops.stochasticDepth(x, 0.5, true, new SplittableRandom(3)).toFloatArray();
        int kept = 0;
        for (int n = 0; n < 64; n++) {
            float first = y[n * 24];
            assertTrue(first == 0f || first == 2f, "sample " + n + ": " + first);
            for (int i = 1; i < 24; i++) assertEquals(first, y[n * 24 + i], "sample " + n + " is not uniform");
            if (first != 0) kept++;
        }
        assertTrue(kept > 10 && kept < 54, "kept " + kept + " of 64");
    }

    @Test
    void backwardUsesTheSameMask() {
        Tensor x = ones(8, 5).requiresGrad(true);
        float[] y;
        try (Tape tape = Tape.record()) {
            Tensor out = Ops.dropout(x, 0.3, true, new SplittableRandom(9));
            y = out.toFloatArray();
            tape.backward(Ops.sum(out));
        }
        assertArrayEquals(y, x.grad().toFloatArray(), 1e-7f, "d sum(x·mask)/dx = mask, and x is all ones");

        Tensor z = ones(6, 2, 2, 3).requiresGrad(true);
        try (Tape tape = Tape.record()) {
            Tensor out = Ops.stochasticDepth(z, 0.3, true, new SplittableRandom(9));
            y = out.toFloatArray();
            tape.backward(Ops.sum(out));
        }
        assertArrayEquals(y, z.grad().toFloatArray(), 1e-7f);
    }
}
