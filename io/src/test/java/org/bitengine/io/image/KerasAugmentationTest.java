package org.bitengine.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.bitengine.io.data.Image;
import org.junit.jupiter.api.Test;

class KerasAugmentationTest {

    /** [h, w, 3] with channel c of pixel (y, x) = 100·c + 10·y + x. */
    private static float[] ramp(int h, int w) {
        float[] px = new float[h * w * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = 100 * c + 10 * y + x;
        return px;
    }

    private static float at(float[] px, int w, int y, int x, int c) {
        return px[(y * w + x) * 3 + c];
    }

    @Test
    void reflectRepeatsTheEdgePixel() {
        // Keras' fill_mode="reflect": (d c b a | a b c d | d c b a)
        int[] got = new int[12];
        for (int i = -4; i < 8; i++) got[i + 4] = KerasAugmentation.reflect(i, 4);
        assertArrayEquals(new int[] {3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0}, got);
    }

    @Test
    void identityMapLeavesThePixels() {
        float[] px = ramp(5, 7);
        assertArrayEquals(px, KerasAugmentation.affine(px, 5, 7, 0, 0, 0), 1e-5f);
    }

    @Test
    void positiveAngleRotatesCounterClockwise() {
        float[] px = ramp(3, 3);
        float[] r = KerasAugmentation.affine(px, 3, 3, Math.PI / 2, 0, 0);
        // Counter-clockwise by 90° on screen: the top-middle pixel lands left-middle, the centre stays.
        for (int c = 0; c < 3; c++) {
            assertEquals(at(px, 3, 0, 1, c), at(r, 3, 1, 0, c), 1e-4f);
            assertEquals(at(px, 3, 1, 1, c), at(r, 3, 1, 1, c), 1e-4f);
            assertEquals(at(px, 3, 1, 2, c), at(r, 3, 0, 1, c), 1e-4f);
        }
    }

    @Test
    void translationShiftsAndReflectsAtTheBorder() {
        float[] px = ramp(4, 5);
        float[] t = KerasAugmentation.affine(px, 4, 5, 0, 1, 2);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 5; x++) {
                int sy = KerasAugmentation.reflect(y - 1, 4), sx = KerasAugmentation.reflect(x - 2, 5);
                assertEquals(at(px, 5, sy, sx, 2), at(t, 5, y, x, 2), 1e-4f, "(" + y + "," + x + ")");
            }
        }
    }

    @Test
    void halfPixelShiftInterpolatesBilinearly() {
        float[] px = ramp(2, 4);
        float[] t = KerasAugmentation.affine(px, 2, 4, 0, 0, 0.5);
        // output x takes the input at x − 0.5: the mean of columns x−1 and x (column −1 reflects to 0).
        assertEquals(0.0f, at(t, 4, 0, 0, 0), 1e-5f);
        assertEquals(0.5f, at(t, 4, 0, 1, 0), 1e-5f);
        assertEquals(12.5f, at(t, 4, 1, 3, 0), 1e-5f);
    }

    @Test
    void contrastScalesAboutEachChannelsMeanAndClips() {
        float[] px = ramp(2, 2);
        float[] c = px.clone();
        KerasAugmentation.contrastInPlace(c, 4, 2f, false);
        for (int ch = 0; ch < 3; ch++) {
            double mean = (at(px, 2, 0, 0, ch) + at(px, 2, 0, 1, ch) + at(px, 2, 1, 0, ch) + at(px, 2, 1, 1, ch)) / 4;
            assertEquals((at(px, 2, 1, 1, ch) - mean) * 2 + mean, at(c, 2, 1, 1, ch), 1e-4);
        }
        float[] bright = {250, 250, 250, 10, 10, 10};
        KerasAugmentation.contrastInPlace(bright, 2, 1.5f, true);
        assertArrayEquals(new float[] {255, 255, 255, 0, 0, 0}, bright);
    }

    @Test
    void drawsComeFromTheGeneratorAndNoneIsIdentity() {
        KerasAugmentation k = new KerasAugmentation(0.15, 0.1, 0.1);
        float[] px = ramp(6, 6);
        float[] a = k.apply(px.clone(), 6, 6, true, new SplittableRandom(1));
        float[] b = k.apply(px.clone(), 6, 6, true, new SplittableRandom(1));
        float[] c = k.apply(px.clone(), 6, 6, true, new SplittableRandom(2));
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
        float[] same = px.clone();
        assertSame(same, KerasAugmentation.NONE.apply(same, 6, 6, true, new SplittableRandom(1)));
        assertEquals("rotation 0.15, translation 0.1, contrast 0.1", k.toString());
        assertThrows(IllegalArgumentException.class, () -> new KerasAugmentation(1.5, 0, 0));
    }

    @Test
    void trainingPipelineAppliesThemBeforeTheScaling() {
        Image img = new Image(8, 8, ramp(8, 8), false);
        Transform plain = Transforms.train(8, 8, Preprocessing.IMAGENET, KerasAugmentation.NONE);
        Transform augmented = Transforms.train(8, 8, Preprocessing.IMAGENET, new KerasAugmentation(0.1, 0.1, 0));
        float[] p = plain.apply(img, new SplittableRandom(5));
        float[] q = augmented.apply(img, new SplittableRandom(5));
        assertNotEquals(Arrays.toString(p), Arrays.toString(q));
        // Bilinear samples are convex combinations, so each channel stays within its input range, scaled.
        for (int i = 0; i < q.length; i++) {
            int c = i % 3;
            double mean = Preprocessing.IMAGENET.mean()[c], std = Preprocessing.IMAGENET.std()[c];
            float lo = (float) ((100 * c / 255.0 - mean) / std);
            float hi = (float) (((100 * c + 77) / 255.0 - mean) / std);
            assertTrue(q[i] >= lo - 1e-5f && q[i] <= hi + 1e-5f, "value " + q[i] + " of channel " + c);
        }
        // Evaluation never augments: the same image scaled alone.
        assertArrayEquals(Preprocessing.IMAGENET.apply(img.pixels()), Transforms.eval(8, Preprocessing.IMAGENET).apply(img,
                new SplittableRandom(5)), 1e-5f);
    }
}
