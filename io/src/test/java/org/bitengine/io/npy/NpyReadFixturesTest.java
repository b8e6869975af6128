package org.bitengine.io.npy;

import static org.bitengine.io.npy.NpyTestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Reads files written by numpy: the BiT golden fixtures (numpy 1.24) and the small ones made for
 * these tests (numpy 2.4, see resources/npy/README.md). Expected values were printed with numpy
 * ({@code a.ravel()[i].tolist()}, i.e. the exact value as a Python float).
 */
class NpyReadFixturesTest {

    // --- golden fixtures from /work/shared/golden/bit ---

    @Test
    void logitsF4() {
        NpyArray a = Npy.read(fixture("logits.npy"));
        assertEquals(NpyDType.F4, a.dtype());
        assertArrayEquals(new int[] {3, 7}, a.shape());
        assertEquals(21, a.size());
        float[] v = a.toFloats();
        // From numpy: logits.ravel()[[0, 6, 20]].tolist()
        assertEquals((float) 0.0468447208404541, v[0], 0f);
        assertEquals((float) 0.22435113787651062, v[6], 0f);
        assertEquals((float) 2.1934046745300293, v[20], 0f);
        // From numpy: float(logits.sum(dtype=np.float64))
        double sum = 0;
        for (double d : a.toDoubles()) {
            sum += d;
        }
        assertEquals(3.9248797008767724, sum, 1e-12);
    }

    @Test
    void labelsI8() {
        NpyArray a = Npy.read(fixture("labels.npy"));
        assertEquals(NpyDType.I8, a.dtype());
        assertArrayEquals(new int[] {3}, a.shape());
        assertArrayEquals(new long[] {6, 1, 3}, a.toLongs()); // numpy: [6, 1, 3]
        assertArrayEquals(new int[] {6, 1, 3}, a.toInts());
    }

    @Test
    void lossIsZeroDimensional() {
        NpyArray a = Npy.read(fixture("loss.npy"));
        assertEquals(NpyDType.F4, a.dtype());
        assertEquals(0, a.ndim());
        assertEquals(1, a.size());
        assertEquals("()", a.shapeString());
        assertEquals((float) 2.980084180831909, a.toFloats()[0], 0f); // numpy: float(loss)
    }

    @Test
    void logitsF8() {
        NpyArray a = Npy.read(fixture("logits_f64ref.npy"));
        assertEquals(NpyDType.F8, a.dtype());
        assertArrayEquals(new int[] {3, 7}, a.shape());
        double[] v = a.toDoubles();
        // From numpy: logits_f64ref.ravel()[[0, 6, 20]].tolist()
        assertEquals(0.046841393836775366, v[0], 0);
        assertEquals(0.22434794714097353, v[6], 0);
        assertEquals(2.193404160611238, v[20], 0);
        assertEquals((float) 2.193404160611238, a.toFloats()[20], 0f); // rounded, not truncated
    }

    @Test
    void storedNpzWithZip64Extras() throws Exception {
        try (NpzReader z = NpzReader.open(fixture("outslice_channels.npz"))) {
            List<String> keys = z.keys();
            assertEquals(13, keys.size());
            // numpy: np.load(...).files[:2]
            assertEquals("resnet/block1/unit01/b/standardized_conv2d/kernel", keys.get(0));
            assertEquals("resnet/block2/unit01/a/proj/standardized_conv2d/kernel", keys.get(1));
            String k = "resnet/block3/unit01/a/proj/standardized_conv2d/kernel";
            assertTrue(z.contains(k));
            assertTrue(z.contains(k + ".npy"));
            assertFalse(z.contains("resnet/block3"));
            NpyHeader h = z.header(k);
            assertEquals(new NpyHeader(NpyDType.I8, new int[] {4}, 128, 32), h);
            assertArrayEquals(new long[] {0, 93, 932, 1023}, z.read(k).toLongs()); // numpy: [0, 93, 932, 1023]
            for (String key : keys) {
                NpyArray a = z.read(key);
                assertEquals(NpyDType.I8, a.dtype(), key);
                assertArrayEquals(new int[] {4}, a.shape(), key);
            }
        }
        // The property the README promises and the reader must cope with: every local header has
        // a Zip64 extra field and the entries are STORED.
        byte[] head = Files.readAllBytes(fixture("outslice_channels.npz"));
        assertEquals(0x0001, (head[30 + 53] & 0xFF) | (head[30 + 54] & 0xFF) << 8, "Zip64 extra id after the name");
        try (ZipFile zf = new ZipFile(fixture("outslice_channels.npz").toFile())) {
            zf.stream().forEach(e -> assertEquals(ZipEntry.STORED, e.getMethod()));
        }
    }

    @Test
    void deflatedNpz() {
        try (NpzReader z = NpzReader.open(fixture("activations_nchw.npz"))) {
            assertEquals(List.of("root_conv", "root", "block1", "block2", "block3", "block4", "head_gn_relu"), z.keys());
            int[][] shapes = {{3, 64, 24, 24}, {3, 64, 12, 12}, {3, 256, 12, 12}, {3, 512, 6, 6}, {3, 1024, 3, 3},
                {3, 2048, 2, 2}, {3, 2048, 2, 2}};
            for (int i = 0; i < shapes.length; i++) {
                NpyHeader h = z.header(z.keys().get(i));
                assertEquals(NpyDType.F4, h.dtype());
                assertArrayEquals(shapes[i], h.shape());
            }
            float[] root = z.read("root").toFloats();
            // From numpy: root[0,0,0,0], root[2,63,11,11], root_conv[1,2,3,4], (root == 0).sum()
            assertEquals((float) 6.987025737762451, root[0], 0f);
            assertEquals((float) 9.826850891113281, root[((2 * 64 + 63) * 12 + 11) * 12 + 11], 0f);
            assertEquals((float) 2.0034737586975098, z.read("root_conv").toFloats()[((1 * 64 + 2) * 24 + 3) * 24 + 4], 0f);
            int zeros = 0;
            for (float f : root) {
                zeros += f == 0f ? 1 : 0;
            }
            assertEquals(94, zeros);
        }
    }

    // --- fixtures generated for these tests ---

    @Test
    void oneFilePerDtype() {
        // Values as written by the README's python commands.
        NpyArray f4 = Npy.read(fixture("f4.npy"));
        assertEquals(NpyDType.F4, f4.dtype());
        assertArrayEquals(new int[] {2, 3}, f4.shape());
        assertArrayEquals(new float[] {0.1f, -2.5f, 3e-8f, 65504f, -0.0f, 1e30f}, f4.toFloats(), 0f);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(f4.toFloats()[4]));

        NpyArray f8 = Npy.read(fixture("f8.npy"));
        assertEquals(NpyDType.F8, f8.dtype());
        assertArrayEquals(new double[] {Math.PI, -1e300, Double.MIN_VALUE, 0.1}, f8.toDoubles(), 0);

        NpyArray i4 = Npy.read(fixture("i4.npy"));
        assertEquals(NpyDType.I4, i4.dtype());
        assertArrayEquals(new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE, 1, -1, 42}, i4.toInts());
        assertArrayEquals(new long[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE, 1, -1, 42}, i4.toLongs());

        NpyArray i8 = Npy.read(fixture("i8.npy"));
        assertEquals(NpyDType.I8, i8.dtype());
        assertArrayEquals(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 3_000_000_000L}, i8.toLongs());

        NpyArray b1 = Npy.read(fixture("b1.npy"));
        assertEquals(NpyDType.B1, b1.dtype());
        assertArrayEquals(new int[] {3, 2}, b1.shape());
        assertArrayEquals(new boolean[] {true, false, false, true, true, true}, b1.toBools());
        assertArrayEquals(new float[] {1, 0, 0, 1, 1, 1}, b1.toFloats(), 0f);

        NpyArray u1 = Npy.read(fixture("u1.npy"));
        assertEquals(NpyDType.U1, u1.dtype());
        assertArrayEquals(new int[] {1, 5}, u1.shape());
        assertArrayEquals(new int[] {0, 1, 127, 128, 255}, u1.toInts());
        assertArrayEquals(new byte[] {0, 1, 127, (byte) 128, (byte) 255}, u1.toBytes());
    }

    @Test
    void zeroDimensionalAndEmpty() {
        NpyArray s = Npy.read(fixture("scalar0d.npy"));
        assertEquals(NpyDType.I8, s.dtype());
        assertArrayEquals(new int[0], s.shape());
        assertArrayEquals(new long[] {-7}, s.toLongs());

        NpyArray e = Npy.read(fixture("empty_0x3.npy"));
        assertEquals(NpyDType.F4, e.dtype());
        assertArrayEquals(new int[] {0, 3}, e.shape());
        assertEquals(0, e.size());
        assertEquals(0, e.toFloats().length);
        assertEquals(new NpyHeader(NpyDType.F4, new int[] {0, 3}, 128, 0), Npy.readHeader(fixture("empty_0x3.npy")));
    }

    @Test
    void versions2And3() {
        NpyHeader h2 = Npy.readHeader(fixture("v2.npy"));
        assertEquals(128, h2.dataOffset()); // 12-byte prefix, still padded to 64
        NpyArray v2 = Npy.read(fixture("v2.npy"));
        assertArrayEquals(new int[] {3, 4}, v2.shape());
        float[] want = new float[12];
        for (int i = 0; i < 12; i++) {
            want[i] = i / 4f; // np.arange(12) / 4
        }
        assertArrayEquals(want, v2.toFloats(), 0f);

        NpyArray v3 = Npy.read(fixture("v3.npy"));
        assertEquals(NpyDType.I4, v3.dtype());
        assertArrayEquals(new int[] {-2, -1, 0, 1, 2}, v3.toInts());
    }

    @Test
    void generatedNpzFiles() {
        try (NpzReader z = NpzReader.open(fixture("compressed.npz"))) {
            assertEquals(List.of("a", "nested/key/b", "c"), z.keys());
            NpyArray a = z.read("a");
            assertArrayEquals(new int[] {10, 100}, a.shape());
            float[] v = a.toFloats();
            // numpy: a.ravel()[[0, 1, 500, 999]].tolist()
            assertEquals(-1f, v[0], 0f);
            assertEquals((float) -0.9979979991912842, v[1], 0f);
            assertEquals((float) 0.0010010009864345193, v[500], 0f);
            assertEquals(1f, v[999], 0f);
            assertArrayEquals(new long[] {0, -3, -6, -9, -12, -15, -18}, z.read("nested/key/b").toLongs());
            assertArrayEquals(new boolean[] {true, false, true}, z.read("c").toBools());
        }
        try (NpzReader z = NpzReader.open(fixture("stored.npz"))) {
            assertEquals(List.of("x", "resnet/block1/unit01/a/group_norm/gamma"), z.keys());
            assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, z.read("x").toDoubles(), 0);
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, z.read("resnet/block1/unit01/a/group_norm/gamma").toFloats(), 0f);
        }
    }

    @Test
    void readFromStreamStopsAfterTheArray() throws Exception {
        // numpy allows several arrays back to back in one stream; read(InputStream) must not consume more.
        byte[] one = Files.readAllBytes(fixture("f4.npy"));
        byte[] two = Files.readAllBytes(fixture("labels.npy"));
        byte[] both = new byte[one.length + two.length];
        System.arraycopy(one, 0, both, 0, one.length);
        System.arraycopy(two, 0, both, one.length, two.length);
        try (InputStream in = new java.io.ByteArrayInputStream(both)) {
            assertEquals(Npy.read(fixture("f4.npy")), Npy.read(in, "both"));
            assertArrayEquals(new long[] {6, 1, 3}, Npy.read(in, "both").toLongs());
            assertEquals(-1, in.read());
        }
    }

    @Test
    void acceptedDescrSpellings() {
        assertEquals(NpyDType.F4, NpyDType.fromDescr("<f4").orElseThrow());
        assertEquals(NpyDType.U1, NpyDType.fromDescr("|u1").orElseThrow());
        assertEquals(NpyDType.U1, NpyDType.fromDescr("<u1").orElseThrow());
        assertEquals(NpyDType.U1, NpyDType.fromDescr("u1").orElseThrow());
        assertEquals(NpyDType.B1, NpyDType.fromDescr(">b1").orElseThrow());
        assertEquals(NpyDType.I8, NpyDType.fromDescr("<i8").orElseThrow());
        assertTrue(NpyDType.fromDescr(">f4").isEmpty());
        assertTrue(NpyDType.fromDescr("=f4").isEmpty());
        assertTrue(NpyDType.fromDescr("<f2").isEmpty());
        assertTrue(NpyDType.fromDescr("|O").isEmpty());
        assertTrue(NpyDType.fromDescr("").isEmpty());
    }
}
