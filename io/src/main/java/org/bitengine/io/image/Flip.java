package org.bitengine.io.image;

import org.bitengine.io.data.Image;

/** Mirrors [h, w, c] pixels left-right. */
public final class Flip {

    private Flip() {
    }

    /** Mirrors {@code hwc} [h, w, c] left-right, in place. */
    public static void horizontalInPlace(float[] hwc, int h, int w, int c) {
        if ((long) h * w * c != hwc.length) {
            throw new IllegalArgumentException("flip: " + hwc.length + " values are not " + h + "x" + w + "x" + c);
        }
        for (int y = 0; y < h; y++) {
            int row = y * w * c;
            for (int a = 0, b = w - 1; a < b; a++, b--) {
                for (int ch = 0; ch < c; ch++) {
                    int i = row + a * c + ch;
                    int j = row + b * c + ch;
                    float t = hwc[i];
                    hwc[i] = hwc[j];
                    hwc[j] = t;
                }
            }
        }
    }

    /** The image mirrored left-right (a new image). */
    public static Image horizontal(Image image) {
        float[] px = image.pixels().clone();
        horizontalInPlace(px, image.height(), image.width(), 3);
        return new Image(image.height(), image.width(), px, image.normalized());
    }
}
