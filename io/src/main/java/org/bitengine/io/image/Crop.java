package org.bitengine.io.image;

import org.bitengine.io.data.Image;

/** Cuts a rectangle out of [h, w, c] pixels. */
public final class Crop {

    private Crop() {
    }

    /** The [rows, cols, c] rectangle whose top-left corner is (top, left) of {@code hwc} [h, w, c]. */
    public static float[] apply(float[] hwc, int h, int w, int c, int top, int left, int rows, int cols) {
        if ((long) h * w * c != hwc.length) {
            throw new IllegalArgumentException("crop: " + hwc.length + " values are not " + h + "x" + w + "x" + c);
        }
        if (rows <= 0 || cols <= 0 || top < 0 || left < 0 || top + rows > h || left + cols > w) {
            throw new IllegalArgumentException("crop " + rows + "x" + cols + " at (" + top + ", " + left
                    + ") is not inside the " + h + "x" + w + " image");
        }
        float[] out = new float[rows * cols * c];
        for (int y = 0; y < rows; y++) {
            System.arraycopy(hwc, ((top + y) * w + left) * c, out, y * cols * c, cols * c);
        }
        return out;
    }

    /** The rectangle of the image at (top, left), {@code rows × cols}. */
    public static Image apply(Image image, int top, int left, int rows, int cols) {
        return new Image(rows, cols, apply(image.pixels(), image.height(), image.width(), 3, top, left, rows, cols),
                image.normalized());
    }

    /** The centred {@code rows × cols} rectangle (offsets rounded as torchvision's CenterCrop). */
    public static Image center(Image image, int rows, int cols) {
        int top = (int) Math.round((image.height() - rows) / 2.0);
        int left = (int) Math.round((image.width() - cols) / 2.0);
        return apply(image, top, left, rows, cols);
    }
}
