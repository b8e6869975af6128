package org.bitengine.io.npy;

import java.util.Arrays;
import java.util.Objects;

/**
 * The parsed header of one {@code .npy} array: what it holds and where its data lies.
 *
 * <p>A header is validated before it is returned: the dtype is supported, the order is C, the
 * element count fits in an {@code int}, and, where the size of the file or npz entry is known, the
 * data is exactly as long as the shape says.
 *
 * @param dtype      element type
 * @param shape      dimensions, C order; {@code []} for a 0-d array (one element)
 * @param dataOffset bytes from the start of the .npy file (or npz entry) to the first data byte:
 *                   the magic, version, header-length field and header dict together
 * @param dataLength bytes of array data, {@code elementCount() * dtype.itemSize()}
 */
public record NpyHeader(NpyDType dtype, int[] shape, long dataOffset, long dataLength) {

    /** Validates and copies the shape so the record stays immutable. */
    public NpyHeader {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        long count = Shapes.elementCount(shape);
        if (dataOffset < 0) {
            throw new IllegalArgumentException("negative dataOffset " + dataOffset);
        }
        if (dataLength != count * dtype.itemSize()) {
            throw new IllegalArgumentException("dataLength " + dataLength + " does not match shape "
                    + Shapes.toString(shape) + " of " + dtype.descr());
        }
    }

    /** The dimensions (a copy). */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions; 0 for a scalar. */
    public int ndim() {
        return shape.length;
    }

    /** Number of elements, the product of the shape (1 for a 0-d array). */
    public int elementCount() {
        return (int) (dataLength / dtype.itemSize());
    }

    /** The shape as Python writes a tuple: {@code ()}, {@code (5,)}, {@code (3, 7)}. */
    public String shapeString() {
        return Shapes.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyHeader h && dtype == h.dtype && Arrays.equals(shape, h.shape)
                && dataOffset == h.dataOffset && dataLength == h.dataLength;
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), dataOffset, dataLength);
    }

    @Override
    public String toString() {
        return "NpyHeader[" + dtype.descr() + " " + shapeString() + ", dataOffset=" + dataOffset
                + ", dataLength=" + dataLength + "]";
    }
}
