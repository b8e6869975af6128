package org.bitengine.io.torch;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.IoTestSupport.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads the torchvision EfficientNet-B0 state dict of /work/shared/golden/efficientnet (copied to
 * test resources) and a hand-made small.pth (see resources/torch/README.md); expected values were
 * computed independently with numpy from the raw storage entries of the zip.
 */
class TorchStateDictTest {

    @TempDir
    Path tmp;

    private static Path b0() {
        return resource("torch/b0_tv.pth");
    }

    private static Path small() {
        return resource("torch/small.pth");
    }

    @Test
    void efficientNetB0KeysShapesAndCounts() {
        Map<String, TorchTensorHeader> headers = TorchStateDict.headers(b0());
        Map<String, NpyArray> sd = TorchStateDict.read(b0());
        assertEquals(360, sd.size());
        assertEquals(List.copyOf(headers.keySet()), List.copyOf(sd.keySet()));
        assertEquals("features.0.0.weight", sd.keySet().iterator().next());
        long floats = 0;
        int ints = 0;
        for (Map.Entry<String, NpyArray> e : sd.entrySet()) {
            NpyArray a = e.getValue();
            assertArrayEquals(headers.get(e.getKey()).shape(), a.shape(), e.getKey());
            assertEquals(headers.get(e.getKey()).dtype(), a.dtype(), e.getKey());
            if (a.dtype() == NpyDType.F4) {
                floats += a.size();
            } else {
                assertEquals(NpyDType.I8, a.dtype(), e.getKey());
                assertTrue(e.getKey().endsWith("num_batches_tracked"), e.getKey());
                ints++;
            }
        }
        assertEquals(4_058_531, floats);
        assertEquals(49, ints);
        assertArrayEquals(new int[] {32, 3, 3, 3}, sd.get("features.0.0.weight").shape());
        assertArrayEquals(new int[] {32}, sd.get("features.0.1.running_var").shape());
        assertArrayEquals(new int[] {7, 1280}, sd.get("classifier.1.weight").shape());
        assertArrayEquals(new int[] {7}, sd.get("classifier.1.bias").shape());
        assertArrayEquals(new int[] {8, 32, 1, 1}, sd.get("features.1.0.block.1.fc1.weight").shape());
        assertArrayEquals(new int[] {32, 1, 3, 3}, sd.get("features.1.0.block.0.0.weight").shape());
        NpyArray nbt = sd.get("features.0.1.num_batches_tracked");
        assertArrayEquals(new int[] {}, nbt.shape());
        assertArrayEquals(new long[] {0}, nbt.toLongs());
        TorchTensorHeader h = headers.get("features.0.0.weight");
        assertEquals("FloatStorage", h.storageType());
        assertEquals("0", h.storageKey());
        assertArrayEquals(new long[] {27, 9, 3, 1}, h.stride());
    }

    @Test
    void efficientNetB0ValuesMatchNumpy() {
        Map<String, NpyArray> sd = TorchStateDict.read(b0());
        float[] w = sd.get("features.0.0.weight").toFloats();
        assertEquals(0.015733838081359863f, w[0]);
        assertEquals(-0.03591553121805191f, w[1]);
        assertEquals(-0.08510535955429077f, w[2]);
        assertEquals(-0.08359384536743164f, w[w.length - 1]);
        assertEquals(-0.4214546971343225, sum(w), 1e-9);
        float[] rv = sd.get("features.0.1.running_var").toFloats();
        assertEquals(0.6734890937805176f, rv[0]);
        assertEquals(1.053887128829956f, rv[1]);
        assertEquals(0.9762309789657593f, rv[31]);
        assertEquals(31.98052144050598, sum(rv), 1e-9);
        float[] cw = sd.get("classifier.1.weight").toFloats();
        assertEquals(-0.06474384665489197f, cw[0]);
        assertEquals(-0.06872741132974625f, cw[cw.length - 1]);
        assertEquals(-73.55971360186595, sum(cw), 1e-7);
        assertArrayEquals(new float[7], sd.get("classifier.1.bias").toFloats());
        double abs = 0;
        for (NpyArray a : sd.values()) {
            if (a.dtype() == NpyDType.F4) {
                for (float f : a.toFloats()) {
                    abs += Math.abs(f);
                }
            }
        }
        assertEquals(306971.13960930053, abs, 1e-6);
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float f : v) {
            s += f;
        }
        return s;
    }

    @Test
    void smallViewsAndDtypes() {
        Map<String, NpyArray> sd = TorchStateDict.read(small());
        assertEquals(List.of("w", "wt", "sl", "h", "bf", "n", "i", "d", "b"), List.copyOf(sd.keySet()));
        assertEquals(NpyArray.ofFloats(new int[] {2, 3}, new float[] {0, .5f, 1, 1.5f, 2, 2.5f}), sd.get("w"));
        assertEquals(NpyArray.ofFloats(new int[] {3, 2}, new float[] {0, 1.5f, .5f, 2, 1, 2.5f}), sd.get("wt"));
        assertEquals(NpyArray.ofFloats(new int[] {2, 2}, new float[] {2, 3, 6, 7}), sd.get("sl"));
        assertEquals(NpyArray.ofFloats(new int[] {3}, new float[] {1, -2.5f, 65504}), sd.get("h"));
        assertEquals(NpyArray.ofFloats(new int[] {2}, new float[] {1, 3.140625f}), sd.get("bf"));
        assertEquals(NpyArray.ofLongs(new int[] {}, new long[] {42}), sd.get("n"));
        assertEquals(NpyArray.ofInts(new int[] {2}, new int[] {-7, 9}), sd.get("i"));
        assertEquals(NpyArray.ofDoubles(new int[] {2}, new double[] {0.1, -1e300}), sd.get("d"));
        assertEquals(NpyArray.ofBools(new int[] {3}, new boolean[] {true, false, true}), sd.get("b"));

        Map<String, TorchTensorHeader> hs = TorchStateDict.headers(small());
        assertEquals("HalfStorage", hs.get("h").storageType());
        assertEquals(NpyDType.F4, hs.get("h").dtype());
        assertEquals(NpyDType.F4, hs.get("bf").dtype());
        assertArrayEquals(new long[] {1, 3}, hs.get("wt").stride());
        assertEquals(2, hs.get("sl").storageOffset());
        assertEquals(hs.get("w").storageKey(), hs.get("wt").storageKey());
    }

    // ---------------------------------------------------------------------------------------------
    // Bad files

    /** Copies small.pth's entries into a new zip, replacing or dropping some. */
    private Path smallWith(String name, Map<String, byte[]> replace) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(small().toFile())) {
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                entries.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        for (Map.Entry<String, byte[]> r : replace.entrySet()) {
            if (r.getValue() == null) {
                entries.remove(r.getKey());
            } else {
                entries.put(r.getKey(), r.getValue());
            }
        }
        return zip(name, entries);
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path p = tmp.resolve(name);
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return p;
    }

    private Path pickle(String name, byte[] pkl) throws IOException {
        return zip(name, Map.of("a/data.pkl", pkl));
    }

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    @Test
    void headersNeedNoStorages() throws IOException {
        Map<String, byte[]> drop = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            drop.put("small/data/" + i, null);
        }
        Path p = smallWith("nostorage.pth", drop);
        assertEquals(9, TorchStateDict.headers(p).size());
        assertUserError(() -> TorchStateDict.read(p), "nostorage.pth", "key 'w'", "small/data/0", "missing");
    }

    @Test
    void shortStorage() throws IOException {
        Path p = smallWith("short.pth", Map.of("small/data/1", new byte[12]));
        assertUserError(() -> TorchStateDict.read(p), "short.pth", "key 'sl'", "holds 12 bytes", "need 40");
    }

    /** open() parses only the pickle: each tensor is read when asked for, so one bad storage spoils only its own. */
    @Test
    void openReadsOneTensorAtATime() throws IOException {
        Path p = smallWith("short.pth", Map.of("small/data/1", new byte[12]));
        try (TorchStateDict.Reader r = TorchStateDict.open(p)) {
            assertEquals(List.of("w", "wt", "sl", "h", "bf", "n", "i", "d", "b"), List.copyOf(r.keys()));
            assertArrayEquals(new int[] {2, 2}, r.shape("sl").dims());
            assertEquals(NpyArray.ofFloats(new int[] {2, 3}, new float[] {0, .5f, 1, 1.5f, 2, 2.5f}), r.array("w"));
            assertArrayEquals(new float[] {42}, r.read("n"), "as a WeightSource: float32 whatever the dtype");
            assertUserError(() -> r.array("sl"), "short.pth", "key 'sl'", "holds 12 bytes", "need 40");
            assertUserError(() -> r.array("x"), "short.pth", "no key 'x'");
        }
    }

    @Test
    void unsupportedOpcode() throws IOException {
        Path p = pickle("op.pth", bytes(0x80, 0x02, 0x93, '.'));
        String m = assertUserError(() -> TorchStateDict.headers(p), "op.pth");
        assertEquals(p + ": unsupported pickle opcode 0x93 at byte 2 of data.pkl;"
                + " this reader handles PyTorch state dicts saved with torch.save", m);
    }

    @Test
    void truncatedPickle() throws IOException {
        byte[] pkl;
        try (ZipFile z = new ZipFile(small().toFile())) {
            pkl = z.getInputStream(z.getEntry("small/data.pkl")).readAllBytes();
        }
        Path p = smallWith("tp.pth", Map.of("small/data.pkl", java.util.Arrays.copyOf(pkl, pkl.length / 2)));
        assertUserError(() -> TorchStateDict.read(p), "tp.pth", "truncated");
    }

    @Test
    void unsupportedGlobalIsNeverCalled() throws IOException {
        // GLOBAL 'os system', SHORT_BINUNICODE 'ls', TUPLE1, REDUCE, STOP
        Path p = pickle("g.pth", bytes(0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n',
                0x8c, 2, 'l', 's', 0x85, 'R', '.'));
        assertUserError(() -> TorchStateDict.read(p), "g.pth", "unsupported global os.system");
    }

    @Test
    void nonTensorValue() throws IOException {
        // EMPTY_DICT, SHORT_BINUNICODE 'a', BININT1 1, SETITEM, STOP
        Path p = pickle("nt.pth", bytes(0x80, 2, '}', 0x8c, 1, 'a', 'K', 1, 's', '.'));
        assertUserError(() -> TorchStateDict.read(p), "nt.pth", "key 'a' holds an int, not a tensor");
    }

    @Test
    void viewOutsideStorage() throws IOException {
        // small.pth's 'sl' view needs 8 floats of storage 1 past offset 2; claim the storage has 4
        byte[] pkl;
        try (ZipFile z = new ZipFile(small().toFile())) {
            pkl = z.getInputStream(z.getEntry("small/data.pkl")).readAllBytes();
        }
        // the persistent id of storage '1' ends with BININT1 10 (numel) then TUPLE
        String s = new String(pkl, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("X\u0001\u0000\u0000\u00001");
        int numel = s.indexOf("K\n", at);
        assertTrue(at > 0 && numel > at, "fixture layout");
        pkl[numel + 1] = 4;
        Path p = smallWith("view.pth", Map.of("small/data.pkl", pkl));
        assertUserError(() -> TorchStateDict.headers(p), "view.pth", "key 'sl'", "does not fit in its storage of 4");
    }

    @Test
    void truncatedZipNotAZipAndMissing() throws IOException {
        byte[] all = Files.readAllBytes(small());
        Path cut = tmp.resolve("cut.pth");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 30));
        assertUserError(() -> TorchStateDict.read(cut), "cut.pth", "not a zip archive");
        Path junk = tmp.resolve("junk.pth");
        Files.write(junk, bytes(0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc));
        assertUserError(() -> TorchStateDict.read(junk), "junk.pth", "legacy");
        assertUserError(() -> TorchStateDict.read(tmp.resolve("none.pth")), "none.pth", "no such file");
        Path nopkl = zip("nopkl.pth", Map.of("a/other", new byte[3]));
        assertUserError(() -> TorchStateDict.headers(nopkl), "nopkl.pth", "data.pkl");
    }

    @Test
    void flippedStorageByteFailsCrc() throws IOException {
        byte[] all = Files.readAllBytes(b0());
        Path p = tmp.resolve("flip.pth");
        all[all.length / 2] ^= 0x01; // the middle of the file is raw float data of some storage
        Files.write(p, all);
        assertUserError(() -> TorchStateDict.read(p), "flip.pth", "CRC-32");
    }

    @Test
    void bigEndianRefused() throws IOException {
        Path p = smallWith("be.pth", Map.of("small/byteorder", "big".getBytes()));
        assertUserError(() -> TorchStateDict.read(p), "be.pth", "big-endian");
    }
}
