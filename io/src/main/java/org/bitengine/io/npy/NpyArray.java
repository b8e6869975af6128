package org.bitengine.io.npy;

import static org.bitengine.io.IoErrors.error;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * One n-dimensional array as stored in a {@code .npy} file: dtype, C-order shape and the raw
 * little-endian bytes, independent of the engine's tensor types.
 *
 * <p>The bytes are kept as they are on disk so that reading and writing never round-trips values
 * through another type: a file read and written again is byte-identical. The typed accessors
 * ({@link #toFloats()} and friends) convert on demand and return fresh arrays. Instances are
 * immutable and safe to share between threads.
 *
 * <p>An array read from a file remembers where it came from ({@link #source()}), so a failing
 * conversion (say, {@code toInts()} on float labels) names the file and key.
 */
public final class NpyArray {

    private static final String INTEGER_DTYPES = "<i4 <i8 |u1 |b1";

    private final NpyDType dtype;
    private final int[] shape;
    private final int size;
    private final byte[] data;
    private final String source;

    /** Takes ownership of {@code shape} and {@code data}; callers have checked that they agree. */
    NpyArray(NpyDType dtype, int[] shape, byte[] data, String source) {
        this.dtype = dtype;
        this.shape = shape;
        this.size = data.length / dtype.itemSize();
        this.data = data;
        this.source = source;
    }

    // ---------------------------------------------------------------------------------------------
    // Factories

    /**
     * An array of the given dtype from raw little-endian bytes (copied).
     *
     * @throws IllegalArgumentException if the shape has a negative dimension or the byte count is
     *                                  not {@code product(shape) * dtype.itemSize()}
     */
    public static NpyArray ofRaw(NpyDType dtype, int[] shape, byte[] littleEndianData) {
        Objects.requireNonNull(dtype, "dtype");
        int[] s = checkedShape(shape, (long) littleEndianData.length / dtype.itemSize(), "bytes / itemSize");
        if (littleEndianData.length % dtype.itemSize() != 0) {
            throw new IllegalArgumentException(littleEndianData.length + " bytes is not a multiple of the "
                    + dtype.itemSize() + "-byte items of " + dtype.descr());
        }
        return new NpyArray(dtype, s, littleEndianData.clone(), null);
    }

    /** A {@code <f4} array; {@code data} is in C order and copied. */
    public static NpyArray ofFloats(int[] shape, float[] data) {
        int[] s = checkedShape(shape, data.length, "float[]");
        ByteBuffer b = allocate(data.length, 4);
        b.asFloatBuffer().put(data);
        return new NpyArray(NpyDType.F4, s, b.array(), null);
    }

    /** A {@code <f8} array; {@code data} is in C order and copied. */
    public static NpyArray ofDoubles(int[] shape, double[] data) {
        int[] s = checkedShape(shape, data.length, "double[]");
        ByteBuffer b = allocate(data.length, 8);
        b.asDoubleBuffer().put(data);
        return new NpyArray(NpyDType.F8, s, b.array(), null);
    }

    /** A {@code <i8} array; {@code data} is in C order and copied. */
    public static NpyArray ofLongs(int[] shape, long[] data) {
        int[] s = checkedShape(shape, data.length, "long[]");
        ByteBuffer b = allocate(data.length, 8);
        b.asLongBuffer().put(data);
        return new NpyArray(NpyDType.I8, s, b.array(), null);
    }

    /** A {@code <i4} array; {@code data} is in C order and copied. */
    public static NpyArray ofInts(int[] shape, int[] data) {
        int[] s = checkedShape(shape, data.length, "int[]");
        ByteBuffer b = allocate(data.length, 4);
        b.asIntBuffer().put(data);
        return new NpyArray(NpyDType.I4, s, b.array(), null);
    }

    /** A {@code |u1} array; each byte is read as unsigned (0..255), as numpy's uint8. Copied. */
    public static NpyArray ofBytes(int[] shape, byte[] data) {
        int[] s = checkedShape(shape, data.length, "byte[]");
        return new NpyArray(NpyDType.U1, s, data.clone(), null);
    }

    /** A {@code |b1} array, stored as numpy does: one byte 0 or 1 per element. */
    public static NpyArray ofBools(int[] shape, boolean[] data) {
        int[] s = checkedShape(shape, data.length, "boolean[]");
        byte[] b = new byte[data.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (data[i] ? 1 : 0);
        }
        return new NpyArray(NpyDType.B1, s, b, null);
    }

    private static int[] checkedShape(int[] shape, long length, String what) {
        int[] s = shape.clone();
        long count = Shapes.elementCount(s);
        if (count != length) {
            throw new IllegalArgumentException("shape " + Shapes.toString(s) + " needs " + count
                    + " elements but the " + what + " has " + length);
        }
        return s;
    }

    private static ByteBuffer allocate(int count, int itemSize) {
        if ((long) count * itemSize > NpyFormat.MAX_ARRAY_BYTES) {
            throw new IllegalArgumentException(count + " elements of " + itemSize
                    + " bytes do not fit in one Java byte array");
        }
        return ByteBuffer.allocate(count * itemSize).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ---------------------------------------------------------------------------------------------
    // Properties

    /** Element type. */
    public NpyDType dtype() {
        return dtype;
    }

    /** Dimensions in C order (a copy); {@code []} for a 0-d array. */
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int ndim() {
        return shape.length;
    }

    /** Number of elements (1 for a 0-d array, 0 when a dimension is 0). */
    public int size() {
        return size;
    }

    /** Bytes of data, {@code size() * dtype().itemSize()}. */
    public int byteSize() {
        return data.length;
    }

    /** The shape as Python prints it: {@code ()}, {@code (5,)}, {@code (3, 7)}. */
    public String shapeString() {
        return Shapes.toString(shape);
    }

    /**
     * Where the array was read from ("path" or "path: key 'k'"), or {@code "array"} for one built
     * in memory; used in error messages.
     */
    public String source() {
        return source == null ? "array" : source;
    }

    /** The raw data as a read-only little-endian view, without copying. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A copy of the raw little-endian data. */
    public byte[] toRawBytes() {
        return data.clone();
    }

    int[] shapeRef() {
        return shape;
    }

    byte[] bytesRef() {
        return data;
    }

    // ---------------------------------------------------------------------------------------------
    // Typed accessors

    /**
     * The elements as float, C order: {@code <f4} exactly, {@code <f8} rounded to nearest, integers
     * converted (exact up to 2^24 in magnitude), bool as 0/1, uint8 as 0..255.
     */
    public float[] toFloats() {
        float[] out = new float[size];
        if (dtype == NpyDType.F4) {
            le().asFloatBuffer().get(out);
            return out;
        }
        double[] d = toDoubles();
        for (int i = 0; i < size; i++) {
            out[i] = (float) d[i];
        }
        return out;
    }

    /** The elements as double, C order; exact for every dtype except {@code <i8} beyond 2^53. */
    public double[] toDoubles() {
        double[] out = new double[size];
        ByteBuffer b = le();
        switch (dtype) {
            case F8 -> b.asDoubleBuffer().get(out);
            case F4 -> {
                var d = b.asFloatBuffer();
                for (int i = 0; i < size; i++) {
                    out[i] = d.get(i);
                }
            }
            case I4 -> {
                IntBuffer d = b.asIntBuffer();
                for (int i = 0; i < size; i++) {
                    out[i] = d.get(i);
                }
            }
            case I8 -> {
                LongBuffer d = b.asLongBuffer();
                for (int i = 0; i < size; i++) {
                    out[i] = d.get(i);
                }
            }
            case B1 -> {
                for (int i = 0; i < size; i++) {
                    out[i] = data[i] != 0 ? 1 : 0;
                }
            }
            case U1 -> {
                for (int i = 0; i < size; i++) {
                    out[i] = data[i] & 0xFF;
                }
            }
        }
        return out;
    }

    /**
     * The elements as long, C order; for the integer dtypes (and bool as 0/1) only, since silently
     * truncating floats would hide a wrong file.
     *
     * @throws org.bitengine.engine.BitEngineException for {@code <f4}/{@code <f8} arrays
     */
    public long[] toLongs() {
        requireIntegral("toLongs()");
        long[] out = new long[size];
        ByteBuffer b = le();
        switch (dtype) {
            case I8 -> b.asLongBuffer().get(out);
            case I4 -> {
                IntBuffer d = b.asIntBuffer();
                for (int i = 0; i < size; i++) {
                    out[i] = d.get(i);
                }
            }
            case B1 -> {
                for (int i = 0; i < size; i++) {
                    out[i] = data[i] != 0 ? 1 : 0;
                }
            }
            case U1 -> {
                for (int i = 0; i < size; i++) {
                    out[i] = data[i] & 0xFF;
                }
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /**
     * The elements as int, C order; for the integer dtypes (and bool as 0/1) only. {@code <i8} values
     * must lie in the int range.
     *
     * @throws org.bitengine.engine.BitEngineException for float arrays or an out-of-range value
     */
    public int[] toInts() {
        long[] wide = toLongs();
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            if (wide[i] != (int) wide[i]) {
                throw error(source() + ": value " + wide[i] + " at flat index " + i + " of " + describe()
                        + " does not fit in an int; read it with toLongs()");
            }
            out[i] = (int) wide[i];
        }
        return out;
    }

    /**
     * The elements of a {@code |b1} array as booleans, C order (any non-zero byte is true, as in
     * numpy).
     *
     * @throws org.bitengine.engine.BitEngineException for any other dtype
     */
    public boolean[] toBools() {
        if (dtype != NpyDType.B1) {
            throw error(source() + ": " + describe() + " cannot be read as booleans (toBools() needs |b1);"
                    + " save it with numpy as a.astype(bool)");
        }
        boolean[] out = new boolean[size];
        for (int i = 0; i < size; i++) {
            out[i] = data[i] != 0;
        }
        return out;
    }

    /**
     * The elements of a {@code |u1} (or {@code |b1}) array as bytes, C order; uint8 values above 127
     * come back negative, use {@code b & 0xFF} (or {@link #toInts()}).
     *
     * @throws org.bitengine.engine.BitEngineException for the multi-byte dtypes
     */
    public byte[] toBytes() {
        if (dtype != NpyDType.U1 && dtype != NpyDType.B1) {
            throw error(source() + ": " + describe() + " cannot be read as bytes (toBytes() needs |u1 or |b1);"
                    + " read it with toFloats()/toLongs() or save it with numpy as a.astype(np.uint8)");
        }
        return data.clone();
    }

    private void requireIntegral(String method) {
        if (!dtype.isIntegral()) {
            throw error(source() + ": " + describe() + " holds floats but " + method + " needs an integer dtype ("
                    + INTEGER_DTYPES + "); read it with toFloats()/toDoubles() or save it with numpy as"
                    + " a.astype(np.int64)");
        }
    }

    private ByteBuffer le() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    private String describe() {
        return dtype.descr() + " " + shapeString();
    }

    // ---------------------------------------------------------------------------------------------

    /** Equal when dtype, shape and every data byte are equal (so NaNs with equal bits are equal). */
    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && dtype == a.dtype && Arrays.equals(shape, a.shape)
                && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "NpyArray[" + describe() + (source == null ? "" : " from " + source) + "]";
    }
}
