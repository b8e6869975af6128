package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.io.npy.NpyHeader;
import org.bitengine.io.npy.NpzReader;

/**
 * Images and labels held as arrays in an {@code .npz}: {@code x} of shape (N, H, W, C) with C = 1
 * (grey, replicated to RGB) or 3, and {@code y} of shape (N,) (or (N, 1)) integers, as written by
 * {@code np.savez(path, x=images, y=labels)}. A {@code uint8} x holds 0..255 pixels and goes through
 * the usual scaling; a {@code float32} x is taken as already normalised and used as it is. Class names
 * are "0".."K−1" with K = max(y) + 1.
 *
 * <p>The arrays are read into memory once at open (the file is closed again); images are cut out on
 * demand from the shared read-only buffer, so the dataset is safe to use from several threads.
 */
public final class NpzArrayDataset implements ImageDataset {

    private final Path file;
    private final int n;
    private final int h;
    private final int w;
    private final int c;
    private final boolean normalized;
    private final ByteBuffer bytes;   // uint8 x, or null
    private final FloatBuffer floats; // float32 x, or null
    private final int[] labels;
    private final List<String> classes;

    private NpzArrayDataset(Path file, int[] shape, NpyArray x, int[] labels) {
        this.file = file;
        this.n = shape[0];
        this.h = shape[1];
        this.w = shape[2];
        this.c = shape.length == 4 ? shape[3] : 1;
        this.normalized = x.dtype() == NpyDType.F4;
        ByteBuffer data = x.data();
        this.bytes = normalized ? null : data;
        this.floats = normalized ? data.asFloatBuffer() : null;
        this.labels = labels;
        int k = 0;
        for (int l : labels) {
            k = Math.max(k, l + 1);
        }
        this.classes = ArrayImages.numberedClasses(k);
    }

    /**
     * Reads {@code x} and {@code y} from the file.
     *
     * @throws BitEngineException naming the file and key when a key is missing, has the wrong rank or
     *                            dtype, the counts of x and y differ, or a label is negative
     */
    public static NpzArrayDataset open(Path file) {
        Objects.requireNonNull(file, "file");
        try (NpzReader r = NpzReader.open(file)) {
            String how = "; save the arrays with np.savez(path, x=images, y=labels)";
            for (String key : new String[] {"x", "y"}) {
                if (!r.contains(key)) {
                    throw error(file + ": no key '" + key + "' (" + (key.equals("x") ? "the images, shape (N, H, W, C)"
                            : "the integer labels, shape (N,)") + "); the file has keys " + r.keys() + how);
                }
            }
            NpyHeader hx = r.header("x");
            int[] sx = hx.shape();
            if (sx.length != 4 && sx.length != 3) {
                throw error(file + ": key 'x' has shape " + hx.shapeString() + " but images must be (N, H, W, C)"
                        + " with C = 1 or 3 (or (N, H, W) for grey)" + how);
            }
            if (sx.length == 4 && sx[3] != 1 && sx[3] != 3) {
                throw error(file + ": key 'x' has shape " + hx.shapeString() + ": " + sx[3]
                        + " channels, but images need 1 (grey) or 3 (RGB) in the last axis (N, H, W, C)"
                        + "; transpose NCHW data to NHWC with x.transpose(0, 2, 3, 1)");
            }
            if (hx.dtype() != NpyDType.U1 && hx.dtype() != NpyDType.F4) {
                throw error(file + ": key 'x' has dtype " + hx.dtype().descr() + " but images must be uint8 (0..255)"
                        + " or float32 (already normalised); convert with x.astype(np.uint8) or x.astype(np.float32)");
            }
            if (sx[0] == 0 || sx[1] == 0 || sx[2] == 0) {
                throw error(file + ": key 'x' has shape " + hx.shapeString() + " and so holds no image" + how);
            }
            NpyHeader hy = r.header("y");
            int[] sy = hy.shape();
            if (!(sy.length == 1 || (sy.length == 2 && sy[1] == 1))) {
                throw error(file + ": key 'y' has shape " + hy.shapeString() + " but labels must be (N,), one integer"
                        + " class index per image (not one-hot); use y.argmax(1) for one-hot labels");
            }
            if (!hy.dtype().isIntegral()) {
                throw error(file + ": key 'y' has dtype " + hy.dtype().descr() + " but labels must be integers"
                        + "; convert with y.astype(np.int64)");
            }
            if (sy[0] != sx[0]) {
                throw error(file + ": key 'x' has " + sx[0] + " images (shape " + hx.shapeString() + ") but key 'y' has "
                        + sy[0] + " labels (shape " + hy.shapeString() + "); save one label per image");
            }
            int[] labels = r.read("y").toInts();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0) {
                    throw error(file + ": key 'y' holds the negative label " + labels[i] + " at index " + i
                            + "; labels must be class indices 0..K-1");
                }
            }
            NpyArray x = r.read("x");
            return new NpzArrayDataset(file, sx, x, labels);
        }
    }

    /** The .npz file. */
    public Path file() {
        return file;
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, n)];
    }

    @Override
    public Image image(int index) {
        Objects.checkIndex(index, n);
        int len = h * w * c;
        float[] src;
        // Absolute gets: no shared position, safe across threads.
        if (normalized) {
            src = new float[len];
            floats.get(index * len, src, 0, len);
        } else {
            byte[] b = new byte[len];
            bytes.get(index * len, b, 0, len);
            src = ArrayImages.unsigned(b, 0, len);
        }
        return ArrayImages.image(h, w, c, src, normalized);
    }

    @Override
    public String describe(int index) {
        return file.getFileName() + "[" + index + "]";
    }

    @Override
    public int[] nominalSize() {
        return new int[] {h, w};
    }

    @Override
    public String toString() {
        return "npz arrays " + file + " (" + n + " images " + h + "x" + w + "x" + c
                + (normalized ? " float32" : " uint8") + ", " + classes.size() + " classes)";
    }
}
