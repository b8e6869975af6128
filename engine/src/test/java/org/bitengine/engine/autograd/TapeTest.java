package org.bitengine.engine.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.SplittableRandom;

import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TapeTest {

    private static Tensor random(long seed, int... dims) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 1;
        for (int d : dims) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rng.nextDouble(-1, 1);
        return Tensor.of(v, dims);
    }

    private static float[] kernelGrad(boolean inputNeedsGrad) {
        Tensor x = random(1, 2, 6, 6, 3).requiresGrad(inputNeedsGrad);
        Tensor w = random(2, 3, 3, 3, 4).requiresGrad(true);
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.sum(Ops.relu(Ops.conv2d(x, Ops.weightStandardize(w, 1e-10), ConvSpec.of(2, 1)))));
        }
        if (inputNeedsGrad) assertNotNull(x.grad(), "the input asked for a gradient");
        else assertNull(x.grad(), "no gradient for an input that does not need one");
        return w.grad().toFloatArray();
    }

    /** Skipping the gradient of an input nobody reads (the image under the first conv) changes nothing else. */
    @Test
    void inputsThatNeedNoGradientGetNoneAndTheRestIsUnchanged() {
        assertArrayEquals(kernelGrad(true), kernelGrad(false), 0f);
    }

    /** A tensor used twice gets the sum of both paths' gradients, and micro-batches accumulate. */
    @Test
    void gradientsAccumulateOverUsesAndBackwardPasses() {
        Tensor a = Tensor.of(new float[] {2f, -3f}, 2).requiresGrad(true);
        for (int pass = 1; pass <= 2; pass++) {
            try (Tape tape = Tape.record()) {
                tape.backward(Ops.sum(Ops.mul(a, a))); // d/da Σ a² = 2a
            }
            assertArrayEquals(new float[] {4f * pass, -6f * pass}, a.grad().toFloatArray(), 0f);
        }
        a.zeroGrad();
        assertNull(a.grad());
    }

    @Test
    void nothingIsRecordedWithoutATape() {
        Tensor a = Tensor.of(new float[] {1f}, 1).requiresGrad(true);
        Tensor y = Ops.scale(a, 3);
        assertEquals(3.0, y.item());
        try (Tape tape = Tape.record()) {
            tape.backward(Ops.sum(Ops.scale(y, 1))); // y was made outside the tape: a is not reached
        }
        assertNull(a.grad());
    }
}
