package org.bitengine.io.data;

/**
 * One decoded image: {@code pixels} is [height, width, 3] row-major RGB (grey images are replicated
 * to three channels). When {@code normalized} is false the values are 0..255 and the pipeline scales
 * them to [-1, 1] (BiT's {@code (x − 127.5) / 127.5}); when true they are used as they are (float32
 * research arrays).
 */
public record Image(int height, int width, float[] pixels, boolean normalized) {

    public Image {
        if (pixels.length != height * width * 3) {
            throw new IllegalArgumentException("image " + height + "x" + width + "x3 needs " + height * width * 3 + " values, got " + pixels.length);
        }
    }
}
