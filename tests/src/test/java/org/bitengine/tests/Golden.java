package org.bitengine.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;

import org.bitengine.io.npy.Npy;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;

/** Access to the reference fixtures in the test resources, and the comparisons their README prescribes. */
public final class Golden {

    private Golden() {}

    /** A file under {@code src/test/resources/golden/}, e.g. {@code bit/forward/logits.npy}. */
    public static Path path(String relative) {
        try {
            return Path.of(Golden.class.getResource("/golden/" + relative).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test fixture golden/" + relative, e);
        }
    }

    public static NpyArray npy(String relative) {
        return Npy.read(path(relative));
    }

    public static NpzReader npz(String relative) {
        return NpzReader.open(path(relative));
    }

    /** NCHW [n,c,h,w] → NHWC [n,h,w,c]. */
    public static double[] nchwToNhwc(double[] a, int n, int c, int h, int w) {
        double[] out = new double[a.length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++) out[((b * h + i) * w + j) * c + ch] = a[((b * c + ch) * h + i) * w + j];
        return out;
    }

    public static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    /**
     * Asserts |a − b| ≤ abs + rel·|b| element-wise and returns the largest |a − b| (printed, so the
     * measured parity is visible in the test log).
     */
    public static double assertClose(String what, double[] actual, double[] expected, double abs, double rel) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            assertTrue(Double.isFinite(actual[i]), what + ": element " + i + " is " + actual[i]);
            if (d > worst) {
                worst = d;
                worstAt = i;
            }
            if (d > abs + rel * Math.abs(expected[i])) {
                throw new AssertionError(String.format(Locale.ROOT, "%s: element %d is %.9g, expected %.9g (|diff| %.3g > %.3g + %.3g·|expected|)",
                        what, i, actual[i], expected[i], d, abs, rel));
            }
        }
        System.out.printf(Locale.ROOT, "parity %-60s max|diff| %.3e (at %d, max|ref| %.3g)%n", what, worst, worstAt, maxAbs(expected));
        return worst;
    }

    public static void assertShape(String what, int[] expected, int[] actual) {
        assertArrayEquals(expected, actual, what + ": shape");
    }
}
