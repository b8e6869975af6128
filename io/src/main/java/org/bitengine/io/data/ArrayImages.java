package org.bitengine.io.data;

import java.util.ArrayList;
import java.util.List;

/** What the datasets that hold their images as arrays (idx, npz, CIFAR) build their images and classes from. */
final class ArrayImages {

    private ArrayImages() {
    }

    /** Class names "0".."k−1", for data that has labels but no names. */
    static List<String> numberedClasses(int k) {
        List<String> names = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            names.add(Integer.toString(i));
        }
        return List.copyOf(names);
    }

    /** {@code len} unsigned bytes of {@code b} from {@code off} as floats 0..255. */
    static float[] unsigned(byte[] b, int off, int len) {
        float[] f = new float[len];
        for (int i = 0; i < len; i++) {
            f[i] = b[off + i] & 0xFF;
        }
        return f;
    }

    /**
     * An image from {@code values} [h, w, channels] with 1 channel (grey, replicated to RGB) or 3 (RGB,
     * used as it is).
     */
    static Image image(int h, int w, int channels, float[] values, boolean normalized) {
        if (channels == 3) {
            return new Image(h, w, values, normalized);
        }
        int len = h * w;
        float[] rgb = new float[len * 3];
        for (int i = 0; i < len; i++) {
            float v = values[i];
            rgb[3 * i] = v;
            rgb[3 * i + 1] = v;
            rgb[3 * i + 2] = v;
        }
        return new Image(h, w, rgb, normalized);
    }
}
