package org.bitengine.io.npy;

import java.util.Optional;

/**
 * The element types bit-engine reads from and writes to {@code .npy} files, with the descr string
 * that {@code np.save} writes for each.
 *
 * <p>All multi-byte types are little-endian: that is what numpy writes on every machine bit-engine
 * runs on, and supporting byte-swapped data would mean a second code path that no real file needs.
 */
public enum NpyDType {
    /** float32, {@code '<f4'}. */
    F4("<f4", 4),
    /** float64, {@code '<f8'}. */
    F8("<f8", 8),
    /** int32, {@code '<i4'}. */
    I4("<i4", 4),
    /** int64, {@code '<i8'}. */
    I8("<i8", 8),
    /** bool, one byte per element, {@code '|b1'}. */
    B1("|b1", 1),
    /** uint8, {@code '|u1'}. */
    U1("|u1", 1);

    private final String descr;
    private final int itemSize;

    NpyDType(String descr, int itemSize) {
        this.descr = descr;
        this.itemSize = itemSize;
    }

    /** The descr string exactly as numpy writes it in a header, e.g. {@code "<f4"}. */
    public String descr() {
        return descr;
    }

    /** Bytes per element. */
    public int itemSize() {
        return itemSize;
    }

    /** True for the integer types, bool included (numpy treats bool as 0/1 in integer context). */
    public boolean isIntegral() {
        return this != F4 && this != F8;
    }

    /** True for {@link #F4} and {@link #F8}. */
    public boolean isFloating() {
        return this == F4 || this == F8;
    }

    /**
     * The dtype for a descr read from a header, or empty when bit-engine does not support it.
     *
     * <p>Besides the canonical descrs, single-byte types are accepted with any byte-order mark
     * ({@code '<u1'}, {@code '>b1'}, {@code '=u1'}, {@code 'u1'}) because byte order is meaningless for
     * them and hand-written headers use these spellings. Multi-byte types must say {@code '<'}:
     * {@code '='} or no mark would mean "native order of the machine that wrote it", which a
     * reader cannot know.
     */
    public static Optional<NpyDType> fromDescr(String descr) {
        if (descr == null || descr.isEmpty()) {
            return Optional.empty();
        }
        for (NpyDType t : values()) {
            if (t.descr.equals(descr)) {
                return Optional.of(t);
            }
        }
        String body = descr;
        char first = descr.charAt(0);
        if (first == '<' || first == '>' || first == '|' || first == '=') {
            body = descr.substring(1);
        }
        if (body.equals("u1")) {
            return Optional.of(U1);
        }
        if (body.equals("b1")) {
            return Optional.of(B1);
        }
        return Optional.empty();
    }

    /** The supported descrs, space separated, for error messages. */
    static String supportedList() {
        StringBuilder sb = new StringBuilder();
        for (NpyDType t : values()) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(t.descr);
        }
        return sb.toString();
    }
}
