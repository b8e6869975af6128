package org.bitengine.io.data;

/**
 * Derives independent 64-bit seeds from a run's seed and coordinates (epoch, example index, class),
 * so that every random choice of the data pipeline is a pure function of them: the same seed gives
 * the same splits, orders and augmentations whatever the thread count or the order of work.
 */
final class Seeds {

    private Seeds() {
    }

    /** A well-mixed seed for the triple; distinct triples give unrelated seeds. */
    static long mix(long a, long b, long c) {
        long h = fmix(a + 0x9E3779B97F4A7C15L);
        h = fmix(h ^ (b * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L));
        return fmix(h ^ (c * 0x9E3779B97F4A7C15L + 0x27D4EB2F165667C5L));
    }

    /** SplitMix64's finaliser (Steele, Lea and Flood, 2014). */
    private static long fmix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
