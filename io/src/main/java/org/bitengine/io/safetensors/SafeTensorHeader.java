package org.bitengine.io.safetensors;

import java.util.Arrays;
import org.bitengine.io.npy.NpyDType;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name   the tensor's name
 * @param dtype  the safetensors dtype as written ({@code F32}, {@code F16}, {@code BF16}, {@code I64}...)
 * @param npyDType the dtype {@link SafeTensors#read} returns ({@code F16}/{@code BF16} become float32)
 * @param shape  the shape, C order
 * @param begin  first byte of the data, relative to the start of the data section
 * @param end    one past the last byte, relative to the start of the data section
 */
public record SafeTensorHeader(String name, String dtype, NpyDType npyDType, int[] shape, long begin, long end) {

    public SafeTensorHeader {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (product of the shape). */
    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafeTensorHeader h && name.equals(h.name) && dtype.equals(h.dtype)
                && npyDType == h.npyDType && Arrays.equals(shape, h.shape) && begin == h.begin && end == h.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + ": " + dtype + " " + Arrays.toString(shape) + " bytes [" + begin + ", " + end + ")";
    }
}
