package org.bitengine.models.efficientnet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Keras' correct_pad against TensorFlow's "SAME" for stride 2, which the class comment says are equal. */
class KerasPaddingTest {

    @Test
    void correctPadIsTensorflowSameForStride2() {
        for (int k : new int[] {3, 5, 7}) {
            for (int n = 1; n <= 64; n++) {
                int total = Math.max((n + 1) / 2 * 2 - 2 + k - n, 0);
                int before = total / 2, after = total - before;
                assertEquals(before, KerasPadding.before(n, k), "before, n=" + n + " k=" + k);
                assertEquals(after, KerasPadding.after(k), "after, n=" + n + " k=" + k);
                assertEquals((n + 1) / 2, (n + before + after - k) / 2 + 1, "outputs, n=" + n + " k=" + k);
            }
        }
        assertEquals(0, KerasPadding.before(224, 3));
        assertEquals(1, KerasPadding.before(225, 3));
        assertEquals(1, KerasPadding.before(112, 5));
    }
}
