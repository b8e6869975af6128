package org.bitengine.io.npy;

/** Shape arithmetic and formatting shared by the npy classes. */
final class Shapes {

    private Shapes() {
    }

    /**
     * The product of the dimensions, checked: every dimension non-negative and the product at most
     * {@link Integer#MAX_VALUE}, because every array bit-engine loads is indexed by {@code int}.
     *
     * @throws IllegalArgumentException on a negative dimension or a count that does not fit
     */
    static long elementCount(int[] shape) {
        boolean empty = false;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + toString(shape));
            }
            empty |= d == 0;
        }
        if (empty) {
            return 0; // numpy allows (0, 10**9, 10**9); its other dimensions need not multiply out
        }
        long count = 1;
        for (int d : shape) {
            count *= d;
            // Each factor is < 2^31, so checking after every step keeps count < 2^62: no overflow.
            if (count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + toString(shape) + " has more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        return count;
    }

    /** A shape the way Python prints a tuple, because that is how numpy users will recognise it. */
    static String toString(int[] shape) {
        long[] l = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            l[i] = shape[i];
        }
        return toString(l);
    }

    /** As {@link #toString(int[])}, for dimensions read from a header before they are range checked. */
    static String toString(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        if (shape.length == 1) {
            sb.append(',');
        }
        return sb.append(')').toString();
    }
}
