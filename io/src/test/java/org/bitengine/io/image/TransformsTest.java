package org.bitengine.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.data.Image;
import org.junit.jupiter.api.Test;

class TransformsTest {

    private static Image bytesImage(int h, int w, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] px = new float[h * w * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = rng.nextInt(256);
        }
        return new Image(h, w, px, false);
    }

    @Test
    void scalingIsTorchvisionsToTensorThenNormalize() {
        float[] px = {0, 255, 127, 128, 1, 254};
        Preprocessing.MINUS1_1.applyInPlace(px);
        assertEquals(-1f, px[0]);
        assertEquals(1f, px[1]);
        // float32 x / 255 (ToTensor), then (t - 0.5) / 0.5 (Normalize), each rounded as torch rounds them
        assertEquals((127 / 255f - 0.5f) / 0.5f, px[2]);
        assertEquals(0.003921628f, px[3]);
        assertEquals((1 / 255f - 0.5f) / 0.5f, px[4]);
        assertEquals((254 / 255f - 0.5f) / 0.5f, px[5]);
    }

    @Test
    void evalAtTheImagesOwnSizeOnlyScales() {
        Image img = bytesImage(9, 9, 1);
        float[] out = Transforms.eval(9).apply(img, new SplittableRandom(0));
        float[] want = img.pixels().clone();
        Preprocessing.MINUS1_1.applyInPlace(want);
        assertArrayEquals(want, out);
        // A normalized image of that size comes back bit for bit.
        float[] floats = new float[9 * 9 * 3];
        SplittableRandom rng = new SplittableRandom(2);
        for (int i = 0; i < floats.length; i++) {
            floats[i] = (float) rng.nextGaussian();
        }
        assertArrayEquals(floats, Transforms.eval(9).apply(new Image(9, 9, floats, true), new SplittableRandom(0)));
        assertArrayEquals(floats, Transforms.noAugment(9).apply(new Image(9, 9, floats, true), new SplittableRandom(0)));
    }

    @Test
    void evalResizesTheWholeImageToASquare() {
        Image img = bytesImage(20, 30, 3);
        float[] out = Transforms.eval(8).apply(img, new SplittableRandom(0));
        float[] want = Resize.apply(img, 8, 8).pixels();
        Preprocessing.MINUS1_1.applyInPlace(want);
        assertArrayEquals(want, out);
        assertEquals(8, Transforms.eval(8).outputHeight());
    }

    @Test
    void trainIsResizeRandomCropRandomFlipScale() {
        Image img = bytesImage(21, 13, 4);
        Transform t = Transforms.train(10, 7);
        assertEquals(7, t.outputWidth());
        float[] full = Resize.apply(img, 10, 10).pixels();
        Set<String> seen = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            float[] out = t.apply(img, new SplittableRandom(seed));
            assertEquals(7 * 7 * 3, out.length);
            // Replay the draws: top, left, flip.
            SplittableRandom r = new SplittableRandom(seed);
            int top = r.nextInt(4);
            int left = r.nextInt(4);
            boolean flip = r.nextDouble() < 0.5;
            float[] want = Crop.apply(full, 10, 10, 3, top, left, 7, 7);
            if (flip) {
                Flip.horizontalInPlace(want, 7, 7, 3);
            }
            Preprocessing.MINUS1_1.applyInPlace(want);
            assertArrayEquals(want, out, "seed " + seed);
            for (float v : out) {
                assertTrue(v >= -1f && v <= 1f);
            }
            seen.add(top + "," + left + "," + flip);
            assertArrayEquals(out, t.apply(img, new SplittableRandom(seed)), "not a pure function of the seed");
        }
        assertEquals(4 * 4 * 2, seen.size(), "every crop position and both flips occur");
    }

    @Test
    void trainOnNormalizedImagesDoesNotScale() {
        float[] floats = new float[8 * 8 * 3];
        Arrays.fill(floats, 3.5f);
        float[] out = Transforms.train(8, 8).apply(new Image(8, 8, floats, true), new SplittableRandom(9));
        for (float v : out) {
            assertEquals(3.5f, v);
        }
        Image img = bytesImage(8, 8, 5);
        float[] a = Transforms.train(8, 6).apply(img, new SplittableRandom(1));
        float[] b = Transforms.train(8, 6).apply(img, new SplittableRandom(2));
        assertNotEquals(Arrays.toString(a), Arrays.toString(b));
    }

    @Test
    void badSizesAreUserErrors() {
        BitEngineException e = assertThrows(BitEngineException.class, () -> Transforms.train(100, 128));
        assertTrue(e.getMessage().contains("precrop"));
        assertFalse(e.getMessage().contains("\n"));
        assertInstanceOf(BitEngineException.class, assertThrows(RuntimeException.class, () -> Transforms.eval(0)));
    }
}
