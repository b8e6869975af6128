package org.bitengine.io.torch;

import java.util.Arrays;
import org.bitengine.io.npy.NpyDType;

/**
 * What {@code data.pkl} says about one tensor of a PyTorch state dict, without its data.
 *
 * @param key           the state-dict key, e.g. {@code features.0.0.weight}
 * @param storageType   the storage class as pickled, e.g. {@code FloatStorage}, {@code HalfStorage}
 * @param dtype         the dtype {@link TorchStateDict#read} returns ({@code HalfStorage} and
 *                      {@code BFloat16Storage} become {@link NpyDType#F4})
 * @param shape         the tensor's size
 * @param stride        the tensor's strides, in elements
 * @param storageOffset the offset of element 0 in the storage, in elements
 * @param storageKey    the storage's file name under {@code <archive>/data/}
 * @param storageNumel  the storage's element count as pickled
 */
public record TorchTensorHeader(String key, String storageType, NpyDType dtype, int[] shape, long[] stride,
        long storageOffset, String storageKey, long storageNumel) {

    public TorchTensorHeader {
        shape = shape.clone();
        stride = stride.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public long[] stride() {
        return stride.clone();
    }

    /** Number of elements of the tensor (product of the shape). */
    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** True when the storage holds floating-point values (float, double, half, bfloat16). */
    public boolean isFloating() {
        return dtype.isFloating();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TorchTensorHeader h && key.equals(h.key) && storageType.equals(h.storageType)
                && dtype == h.dtype && Arrays.equals(shape, h.shape) && Arrays.equals(stride, h.stride)
                && storageOffset == h.storageOffset && storageKey.equals(h.storageKey)
                && storageNumel == h.storageNumel;
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return key + ": " + storageType + " " + Arrays.toString(shape) + " stride " + Arrays.toString(stride)
                + " offset " + storageOffset + " (storage " + storageKey + ")";
    }
}
