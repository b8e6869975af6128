package org.bitengine.io.npy;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.npy.NpyTestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Writing .npy: byte-identical to np.save, and everything written reads back equal. */
class NpyRoundTripTest {

    /** The arrays of the README's np.save commands, built with our factories. */
    static Map<String, NpyArray> sameAsNumpyFixtures() {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("f4.npy", NpyArray.ofFloats(new int[] {2, 3}, new float[] {0.1f, -2.5f, 3e-8f, 65504f, -0.0f, 1e30f}));
        m.put("f8.npy", NpyArray.ofDoubles(new int[] {4}, new double[] {Math.PI, -1e300, Double.MIN_VALUE, 0.1}));
        m.put("i4.npy", NpyArray.ofInts(new int[] {2, 3}, new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE, 1, -1, 42}));
        m.put("i8.npy", NpyArray.ofLongs(new int[] {5}, new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 3_000_000_000L}));
        m.put("b1.npy", NpyArray.ofBools(new int[] {3, 2}, new boolean[] {true, false, false, true, true, true}));
        m.put("u1.npy", NpyArray.ofBytes(new int[] {1, 5}, new byte[] {0, 1, 127, (byte) 128, (byte) 255}));
        m.put("scalar0d.npy", NpyArray.ofLongs(new int[] {}, new long[] {-7}));
        m.put("empty_0x3.npy", NpyArray.ofFloats(new int[] {0, 3}, new float[0]));
        return m;
    }

    @Test
    void factoriesAndWriterReproduceNumpyBytes() throws Exception {
        for (var e : sameAsNumpyFixtures().entrySet()) {
            byte[] numpy = Files.readAllBytes(fixture(e.getKey()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Npy.write(out, e.getValue());
            assertArrayEquals(numpy, out.toByteArray(), e.getKey());
            assertEquals(Npy.read(fixture(e.getKey())), e.getValue(), e.getKey());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"logits.npy", "labels.npy", "loss.npy", "logits_f64ref.npy", "f4.npy", "f8.npy", "i4.npy",
        "i8.npy", "b1.npy", "u1.npy", "scalar0d.npy", "empty_0x3.npy"})
    void rewritingANumpyFileGivesTheSameBytes(String name, @TempDir Path dir) throws Exception {
        // The golden files come from numpy 1.24, the others from 2.4: both pad headers the same way.
        Path out = dir.resolve(name);
        Npy.write(out, Npy.read(fixture(name)));
        assertArrayEquals(Files.readAllBytes(fixture(name)), Files.readAllBytes(out));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file may remain");
        }
    }

    @Test
    void versionTwoFileIsRewrittenAsVersionOne(@TempDir Path dir) throws Exception {
        NpyArray a = Npy.read(fixture("v2.npy"));
        Path out = dir.resolve("v1.npy");
        Npy.write(out, a);
        byte[] b = Files.readAllBytes(out);
        assertEquals(1, b[6]);
        assertEquals(a, Npy.read(out));
    }

    @Test
    void everyDtypeRoundTripsThroughAFile(@TempDir Path dir) {
        int i = 0;
        for (NpyArray a : sameAsNumpyFixtures().values()) {
            Path p = dir.resolve("a" + i++ + ".npy");
            Npy.write(p, a);
            NpyArray back = Npy.read(p);
            assertEquals(a, back);
            assertEquals(a.dtype(), back.dtype());
            assertArrayEquals(a.shape(), back.shape());
            assertEquals(p.toString(), back.source());
        }
    }

    @Test
    void writeReplacesAnExistingFile(@TempDir Path dir) {
        Path p = dir.resolve("x.npy");
        Npy.write(p, NpyArray.ofInts(new int[] {1}, new int[] {1}));
        Npy.write(p, NpyArray.ofInts(new int[] {2}, new int[] {2, 3}));
        assertArrayEquals(new int[] {2, 3}, Npy.read(p).toInts());
    }

    @Test
    void writeIntoAMissingDirectoryIsAUserError(@TempDir Path dir) {
        Path p = dir.resolve("no/such/dir/x.npy");
        assertUserError(() -> Npy.write(p, NpyArray.ofInts(new int[] {1}, new int[] {1})), "x.npy", "does not exist");
    }

    @Test
    void headerPaddingFollowsNumpy() {
        // numpy 2 format.py: the dict, then 21 - len(repr(shape[0])) spaces (GROWTH_AXIS_MAX_DIGITS,
        // none for 0-d), then padding to a multiple of 64 including the final '\n'; a header that is
        // already aligned gets 64 more bytes, never 0.
        for (int ndim = 0; ndim < 40; ndim++) {
            int[] shape = new int[ndim];
            java.util.Arrays.fill(shape, 1234567);
            if (ndim > 1) {
                shape[ndim - 1] = 0; // keeps the element count legal while the digits stay long
            }
            byte[] h = Npy.headerBytes(NpyDType.F8, shape);
            assertEquals(0, h.length % 64, "ndim " + ndim);
            assertEquals('\n', h[h.length - 1]);
            assertEquals(1, h[6]);
            assertEquals(h.length - 10, (h[8] & 0xFF) | (h[9] & 0xFF) << 8);
            String text = new String(h, 10, h.length - 10, StandardCharsets.ISO_8859_1);
            assertTrue(text.startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': ("), text);
            int end = text.indexOf(", }") + 3;
            int pad = h.length - 10 - end - 1;
            int growth = ndim == 0 ? 0 : 21 - 7;
            assertTrue(pad >= growth && pad - growth < 64 + 1, "ndim " + ndim + " pad " + pad);
            assertTrue(pad - growth > 0, "numpy always pads with at least one space: ndim " + ndim);
        }
        assertEquals(128, Npy.headerBytes(NpyDType.F4, new int[] {3, 7}).length);
        assertEquals(128, Npy.headerBytes(NpyDType.F4, new int[] {}).length);
    }

    // --- NpyArray itself ---

    @Test
    void factoriesCheckShapes() {
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofFloats(new int[] {2, 3}, new float[5]));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofDoubles(new int[] {-1}, new double[0]));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofLongs(new int[] {}, new long[0]));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofInts(new int[] {65536, 65536}, new int[1]));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofBytes(new int[] {2}, new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofBools(new int[] {0}, new boolean[1]));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofRaw(NpyDType.F4, new int[] {1}, new byte[5]));
        assertEquals(NpyArray.ofInts(new int[] {2}, new int[] {1, -2}),
                NpyArray.ofRaw(NpyDType.I4, new int[] {2}, new byte[] {1, 0, 0, 0, -2, -1, -1, -1}));
    }

    @Test
    void arraysAreImmutableCopies() {
        int[] shape = {2};
        float[] data = {1, 2};
        NpyArray a = NpyArray.ofFloats(shape, data);
        shape[0] = 7;
        data[0] = 9;
        a.shape()[0] = 5;
        a.toFloats()[1] = 8;
        assertArrayEquals(new int[] {2}, a.shape());
        assertArrayEquals(new float[] {1, 2}, a.toFloats(), 0f);
        assertTrue(a.data().isReadOnly());
        assertEquals(8, a.byteSize());
    }

    @Test
    void conversions() {
        NpyArray f8 = NpyArray.ofDoubles(new int[] {3}, new double[] {0.1, 1e40, -2.5});
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY, -2.5f}, f8.toFloats(), 0f);
        NpyArray i8 = NpyArray.ofLongs(new int[] {2}, new long[] {-5, 16_777_217});
        assertArrayEquals(new float[] {-5f, 16_777_216f}, i8.toFloats(), 0f);
        assertArrayEquals(new double[] {-5, 16_777_217}, i8.toDoubles(), 0);
        assertArrayEquals(new int[] {-5, 16_777_217}, i8.toInts());
        NpyArray b = NpyArray.ofBools(new int[] {2}, new boolean[] {true, false});
        assertArrayEquals(new long[] {1, 0}, b.toLongs());
        assertArrayEquals(new byte[] {1, 0}, b.toBytes());
        NpyArray u = NpyArray.ofBytes(new int[] {2}, new byte[] {-1, 3});
        assertArrayEquals(new double[] {255, 3}, u.toDoubles(), 0);
        assertArrayEquals(new long[] {255, 3}, u.toLongs());
        assertNotEquals(NpyArray.ofInts(new int[] {2}, new int[] {1, 2}), NpyArray.ofInts(new int[] {2, 1}, new int[] {1, 2}));
    }

    @Test
    void conversionsThatLoseInformationAreUserErrors() {
        NpyArray big = NpyArray.ofLongs(new int[] {2}, new long[] {1, 3_000_000_000L});
        assertUserError(big::toInts, "array", "3000000000", "index 1", "toLongs()");
        NpyArray labels = Npy.read(fixture("logits.npy"));
        assertUserError(labels::toInts, "logits.npy", "<f4 (3, 7)", "integer dtype");
        assertUserError(labels::toLongs, "logits.npy", "integer dtype");
        assertUserError(labels::toBools, "logits.npy", "|b1");
        assertUserError(labels::toBytes, "logits.npy", "|u1");
        assertFalse(labels.toString().isEmpty());
    }
}
