package org.bitengine.io.npy;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.IoTestSupport.filesIn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NpzWriter: contents, atomic replacement, abort, and reading large archives entry by entry. */
class NpzWriterTest {

    static Map<String, NpyArray> sampleArrays() {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        for (var e : NpyRoundTripTest.sameAsNumpyFixtures().entrySet()) {
            m.put(e.getKey().replace(".npy", ""), e.getValue());
        }
        float[] gamma = new float[256];
        for (int i = 0; i < gamma.length; i++) {
            gamma[i] = 1f + i / 256f;
        }
        m.put("resnet/block1/unit01/a/group_norm/gamma", NpyArray.ofFloats(new int[] {256}, gamma));
        m.put("resnet/root_block/standardized_conv2d/kernel", NpyArray.ofFloats(new int[] {7, 7, 3, 64}, new float[7 * 7 * 3 * 64]));
        return m;
    }

    @Test
    void writtenArchiveReadsBackEqual(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("model.npz");
        Map<String, NpyArray> arrays = sampleArrays();
        try (NpzWriter w = NpzWriter.create(p)) {
            arrays.forEach(w::write);
            w.commit();
        }
        assertEquals(List.of("model.npz"), filesIn(dir));
        try (NpzReader r = NpzReader.open(p)) {
            assertEquals(new ArrayList<>(arrays.keySet()), r.keys());
            for (var e : arrays.entrySet()) {
                assertEquals(e.getValue(), r.read(e.getKey()), e.getKey());
                assertEquals(Npy.headerBytes(e.getValue().dtype(), e.getValue().shape()).length, r.header(e.getKey()).dataOffset());
            }
        }
        // What np.savez writes: STORED entries named <key>.npy, sizes and CRC in the local header.
        try (ZipFile zf = new ZipFile(p.toFile())) {
            for (ZipEntry e : zf.stream().toList()) {
                assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
                assertTrue(e.getName().endsWith(".npy"));
            }
        }
        byte[] b = Files.readAllBytes(p);
        assertEquals(0, b[6] & 0x08, "no data descriptor flag in the first local header");
    }

    @Test
    void writeFloatsGivesTheBytesOfWritingTheArray(@TempDir Path dir) throws Exception {
        // More values than one 64 KiB chunk, and not a whole number of chunks.
        float[] values = new float[3 * 16384 + 5];
        for (int i = 0; i < values.length; i++) values[i] = i * 0.5f - 7;
        int[] shape = {1, values.length};
        try (NpzWriter w = NpzWriter.create(dir.resolve("array.npz"))) {
            w.write("x", NpyArray.ofFloats(shape, values));
            w.commit();
        }
        try (NpzWriter w = NpzWriter.create(dir.resolve("floats.npz"))) {
            w.writeFloats("x", shape, values);
            assertThrows(IllegalArgumentException.class, () -> w.writeFloats("y", new int[] {2}, values));
            w.commit();
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("array.npz")), Files.readAllBytes(dir.resolve("floats.npz")));
    }

    @Test
    void sameArraysGiveTheSameBytes(@TempDir Path dir) throws Exception {
        // Fixed entry timestamps make checkpoints reproducible (comparable by hash).
        for (String name : List.of("a.npz", "b.npz")) {
            try (NpzWriter w = NpzWriter.create(dir.resolve(name))) {
                sampleArrays().forEach(w::write);
                w.commit();
            }
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.npz")), Files.readAllBytes(dir.resolve("b.npz")));
    }

    @Test
    void targetIsReplacedOnlyOnCommit(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("ckpt.npz");
        try (NpzWriter w = NpzWriter.create(p)) {
            w.write("old", NpyArray.ofInts(new int[] {1}, new int[] {1}));
            w.commit();
        }
        byte[] old = Files.readAllBytes(p);
        NpzWriter w = NpzWriter.create(p);
        w.write("new", NpyArray.ofInts(new int[] {1}, new int[] {2}));
        // While writing, the old archive is intact and the new bytes sit in a temporary file.
        assertArrayEquals(old, Files.readAllBytes(p));
        assertTrue(Files.exists(w.tempPath()));
        assertEquals(dir, w.tempPath().getParent());
        w.commit();
        assertFalse(Files.exists(w.tempPath()));
        assertEquals(List.of("ckpt.npz"), filesIn(dir));
        try (NpzReader r = NpzReader.open(p)) {
            assertEquals(List.of("new"), r.keys());
        }
        w.close(); // after a commit, close leaves the archive alone
        assertEquals(List.of("ckpt.npz"), filesIn(dir));
    }

    @Test
    void abortLeavesNothingBehind(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("aborted.npz");
        try (NpzWriter w = NpzWriter.create(p)) {
            w.write("a", NpyArray.ofFloats(new int[] {3}, new float[3]));
            w.abort();
            assertThrows(IllegalStateException.class, () -> w.write("b", NpyArray.ofFloats(new int[] {1}, new float[1])));
        }
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void closeWithoutCommitDiscardsTheArchive(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("failed.npz");
        assertThrows(IllegalStateException.class, () -> {
            try (NpzWriter w = NpzWriter.create(p)) {
                w.write("a", NpyArray.ofFloats(new int[] {3}, new float[3]));
                throw new IllegalStateException("simulated failure between two writes");
            }
        });
        assertEquals(List.of(), filesIn(dir));
    }

    @Test
    void abortKeepsTheOldTarget(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("keep.npz");
        try (NpzWriter w = NpzWriter.create(p)) {
            w.write("old", NpyArray.ofInts(new int[] {1}, new int[] {1}));
            w.commit();
        }
        byte[] old = Files.readAllBytes(p);
        try (NpzWriter w = NpzWriter.create(p)) {
            w.write("new", NpyArray.ofInts(new int[] {1}, new int[] {2}));
            w.abort();
        }
        assertArrayEquals(old, Files.readAllBytes(p));
        assertEquals(List.of("keep.npz"), filesIn(dir));
    }

    @Test
    void misuse(@TempDir Path dir) throws Exception {
        try (NpzWriter w = NpzWriter.create(dir.resolve("m.npz"))) {
            w.write("k", NpyArray.ofInts(new int[] {1}, new int[] {1}));
            assertThrows(IllegalArgumentException.class, () -> w.write("k", NpyArray.ofInts(new int[] {1}, new int[] {1})));
            assertThrows(IllegalArgumentException.class, () -> w.write("", NpyArray.ofInts(new int[] {1}, new int[] {1})));
            w.commit();
            assertThrows(IllegalStateException.class, w::commit);
        }
        try (NpzReader r = NpzReader.open(dir.resolve("m.npz"))) {
            assertEquals(List.of("k"), r.keys());
            r.close();
            assertThrows(IllegalStateException.class, () -> r.read("k"));
        }
        assertUserError(() -> NpzWriter.create(dir.resolve("missing/dir/m.npz")), "m.npz", "does not exist");
        assertUserError(() -> NpzWriter.create(dir), dir.toString(), "directory");
    }

    @Test
    void emptyArchive(@TempDir Path dir) {
        Path p = dir.resolve("empty.npz");
        try (NpzWriter w = NpzWriter.create(p)) {
            assertEquals(p, w.target());
            w.commit();
        }
        try (NpzReader r = NpzReader.open(p)) {
            assertEquals(List.of(), r.keys());
            assertUserError(() -> r.read("x"), "empty.npz", "no key 'x'", "0 keys");
        }
    }

    @Test
    void headersOfALargeArchiveAreReadWithoutItsData(@TempDir Path dir) {
        // 64 entries of 1 MiB: reading every header must not touch the 64 MiB of data.
        Path p = dir.resolve("big.npz");
        float[] block = new float[1 << 18];
        try (NpzWriter w = NpzWriter.create(p)) {
            for (int i = 0; i < 64; i++) {
                block[0] = i;
                w.write("layer" + i + "/kernel", NpyArray.ofFloats(new int[] {512, 512}, block));
            }
            w.commit();
        }
        try (NpzReader r = NpzReader.open(p)) {
            long before = NpyTestSupport.allocatedBytes();
            for (String k : r.keys()) {
                NpyHeader h = r.header(k);
                assertArrayEquals(new int[] {512, 512}, h.shape());
                assertEquals(1L << 20, h.dataLength());
            }
            long used = NpyTestSupport.allocatedBytes() - before;
            if (before >= 0) {
                assertTrue(used < 8 << 20, "reading 64 headers allocated " + used + " bytes");
            }
            assertEquals(64, r.keys().size());
            assertEquals(37f, r.read("layer37/kernel").toFloats()[0], 0f);
        }
    }
}
