package org.bitengine.io.npy;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.npy.NpyTestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every malformed or unsupported input gives a one-line BitEngineException that names the file
 * (and npz key) and nothing else escapes: no IOException, no OutOfMemoryError, no parser exception.
 */
class NpyBadFilesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', quoteCharacter = '"', textBlock = """
            bad_fortran.npy            # Fortran order
            bad_bigendian.npy          # unsupported dtype '>f4' (supported: <f4 <f8 <i4 <i8 |b1 |u1); re-save it with numpy as little-endian
            bad_object.npy             # unsupported dtype '|O'
            bad_structured.npy         # unsupported dtype [('x', '<f4'), ('y', '<i4')]
            bad_truncated_data.npy     # truncated
            bad_truncated_header.npy   # truncated .npy header
            bad_not_npy.npy            # not a .npy file
            bad_empty.npy              # empty
            bad_version.npy            # unsupported .npy format version 9.0
            bad_huge_shape.npy         # truncated
            bad_shape_exceeds_file.npy # truncated
            bad_trailing_bytes.npy     # 8 unexpected bytes after the data
            compressed.npz             # zip archive
            """)
    void badNpyFiles(String name, String fragment) {
        Path p = fixture(name);
        assertUserError(() -> Npy.read(p), name, fragment);
        assertUserError(() -> Npy.readHeader(p), name);
        if (name.equals("bad_trailing_bytes.npy")) {
            return; // a stream may hold more arrays after this one: legal there
        }
        // The stream variant knows no file size, so it cannot always tell the same story, but it
        // must fail just as cleanly.
        assertUserError(() -> {
            try (InputStream in = Files.newInputStream(p)) {
                Npy.read(in, name);
            }
        }, name);
    }

    @Test
    void truncatedMessageSaysHowMuchIsMissing() {
        String m = assertUserError(() -> Npy.read(fixture("bad_truncated_data.npy")), "bad_truncated_data.npy",
                "<f4 (2, 3)", "24 bytes of data", "only 19 follow");
        assertTrue(m.contains("copy or save it again"), m);
        assertUserError(() -> Npy.read(fixture("bad_huge_shape.npy")), "(1000000, 1000000)", "4000000000000 bytes");
    }

    @Test
    void hugeShapeOnAStreamDoesNotAllocateIt() {
        // The header claims 100 million float32 (400 MB, a valid Java array size) but 100 bytes follow.
        // Without a known size the reader must grow its buffer as data arrives, not trust the header.
        Path p = fixture("bad_shape_exceeds_file.npy");
        long before = NpyTestSupport.allocatedBytes();
        assertUserError(() -> {
            try (InputStream in = Files.newInputStream(p)) {
                Npy.read(in, "claims-400MB");
            }
        }, "claims-400MB", "truncated", "400000000 bytes of data", "only 100 follow");
        long after = NpyTestSupport.allocatedBytes();
        if (before >= 0) {
            assertTrue(after - before < 16 << 20, "allocated " + (after - before) + " bytes for a 228-byte input");
        }
        // 10^12 elements do not fit an int: refused from the header alone.
        assertUserError(() -> {
            try (InputStream in = Files.newInputStream(fixture("bad_huge_shape.npy"))) {
                Npy.read(in, "huge");
            }
        }, "huge", "1000000000000 elements");
    }

    @Test
    void missingFileAndDirectory(@TempDir Path dir) {
        Path missing = dir.resolve("nope.npy");
        assertUserError(() -> Npy.read(missing), "nope.npy", "no such file");
        assertUserError(() -> Npy.read(dir), dir.toString(), "directory");
        assertUserError(() -> NpzReader.open(dir.resolve("nope.npz")), "nope.npz", "no such file");
        assertUserError(() -> NpzReader.open(dir), dir.toString(), "directory");
    }

    @Test
    void badNpzArchives() {
        assertUserError(() -> NpzReader.open(fixture("bad_truncated.npz")), "bad_truncated.npz", "truncated");
        assertUserError(() -> NpzReader.open(fixture("bad_not_npz.npz")), "bad_not_npz.npz", "'readme.txt'",
                "not an .npz");
        assertUserError(() -> NpzReader.open(fixture("bad_not_npy.npy")), "bad_not_npy.npy", "not a readable .npz");
        assertUserError(() -> NpzReader.open(fixture("bad_empty.npy")), "bad_empty.npy", "not a readable .npz");
        assertUserError(() -> NpzReader.open(fixture("f4.npy")), "f4.npy", "single .npy array");
    }

    @Test
    void corruptEntries() {
        try (NpzReader z = NpzReader.open(fixture("bad_crc.npz"))) {
            // The header is intact; only the data's CRC gives the damage away.
            assertEquals(NpyDType.F8, z.header("x").dtype());
            assertUserError(() -> z.read("x"), "bad_crc.npz", "key 'x'", "CRC");
            assertEquals(4, z.read("resnet/block1/unit01/a/group_norm/gamma").size());
        }
        try (NpzReader z = NpzReader.open(fixture("bad_corrupt_deflate.npz"))) {
            assertUserError(() -> z.read("a"), "bad_corrupt_deflate.npz", "key 'a'");
            assertArrayEquals(new boolean[] {true, false, true}, z.read("c").toBools());
        }
        try (NpzReader z = NpzReader.open(fixture("bad_bigendian_entry.npz"))) {
            assertUserError(() -> z.read("w/be"), "bad_bigendian_entry.npz: key 'w/be': unsupported dtype '>f4'",
                    "little-endian");
            assertUserError(() -> z.header("w/be"), "bad_bigendian_entry.npz", "key 'w/be'");
            assertEquals(2, z.read("good").size());
        }
    }

    @Test
    void deflatedSizeClaimIsNotAllocated() {
        try (NpzReader z = NpzReader.open(fixture("bad_deflate_size_claim.npz"))) {
            assertEquals(400_000_000L, z.header("big").dataLength()); // the header agrees with the directory
            long before = NpyTestSupport.allocatedBytes();
            assertUserError(() -> z.read("big"), "bad_deflate_size_claim.npz", "key 'big'", "only 100 follow");
            long used = NpyTestSupport.allocatedBytes() - before;
            if (before >= 0) {
                assertTrue(used < 16 << 20, "allocated " + used + " bytes for 100 bytes of data");
            }
        }
    }

    @Test
    void missingKeyNamesTheKeyAndTheKeyCount() {
        try (NpzReader z = NpzReader.open(fixture("outslice_channels.npz"))) {
            assertUserError(() -> z.read("resnet/block9/unit01/a/standardized_conv2d/kernel"), "outslice_channels.npz",
                    "no key 'resnet/block9/unit01/a/standardized_conv2d/kernel'", "13 keys",
                    "e.g. 'resnet/block1/unit01/b/standardized_conv2d/kernel'");
            assertUserError(() -> z.header("nothing"), "no key 'nothing'", "13 keys");
        }
    }

    // --- headers crafted in memory: what the parser accepts and refuses ---

    private static byte[] npy(String dict, byte[] data) {
        byte[] text = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[10 + text.length + data.length];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) text.length, (byte) (text.length >> 8)};
        System.arraycopy(magic, 0, out, 0, 10);
        System.arraycopy(text, 0, out, 10, text.length);
        System.arraycopy(data, 0, out, 10 + text.length, data.length);
        return out;
    }

    private static NpyArray parse(String dict, int dataBytes) {
        return Npy.read(new ByteArrayInputStream(npy(dict, new byte[dataBytes])), "crafted.npy");
    }

    @Test
    void headerSpellingsNumpyAccepts() {
        // Python 2 era numpy wrote 3L and u'...'; key order and quotes are free in a dict literal.
        assertArrayEquals(new int[] {3, 2}, parse("{'descr': u'<f4', 'fortran_order': False, 'shape': (3L, 2L), }", 24).shape());
        assertArrayEquals(new int[] {2}, parse("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i8\"}", 16).shape());
        assertArrayEquals(new int[] {2, 1}, parse("{ 'descr' : '<i4' , 'fortran_order' : False , 'shape' : ( 2 , 1 , ) }", 8).shape());
        // Fortran order is harmless when at most one dimension exceeds 1: the bytes are the same.
        assertArrayEquals(new int[] {1, 4}, parse("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 4), }", 16).shape());
        assertArrayEquals(new int[] {}, parse("{'descr': '|u1', 'fortran_order': True, 'shape': (), }", 1).shape());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', quoteCharacter = '"', textBlock = """
            {'descr': '<f4', 'fortran_order': False, 'shape': (2), }                  # not a tuple
            {'descr': '<f4', 'fortran_order': False, 'shape': [2], }                  # not a tuple of integers
            {'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }                # non-negative
            {'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }               # corrupt .npy header
            {'descr': '<f4', 'fortran_order': False, 'shape': (3000000000,), }        # larger than bit-engine supports
            {'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }                     # fortran_order
            {'descr': '<f4', 'shape': (2,), }                                         # expected [descr, fortran_order, shape]
            {'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}       # expected [descr, fortran_order, shape]
            {'descr': '<f4', 'fortran_order': False, 'shape': (2,)                    # corrupt .npy header
            {'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing        # corrupt .npy header
            {'descr': <f4, 'fortran_order': False, 'shape': (2,), }                   # corrupt .npy header
            {'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }                 # unknown name
            {'descr': 7, 'fortran_order': False, 'shape': (2,), }                     # unsupported dtype 7
            {'descr': '<f2', 'fortran_order': False, 'shape': (2,), }                 # unsupported dtype '<f2'
            ((((((((((((((((((((((((((((((((((((((((                                  # nesting
            [1, 2]                                                                    # not a dict
            """)
    void headersRefused(String dict, String fragment) {
        assertUserError(() -> parse(dict, 8), "crafted.npy", fragment);
    }

    @Test
    void oversizedHeaderLengthIsRefusedBeforeReading() {
        byte[] b = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0, 0x7F};
        assertUserError(() -> Npy.read(new ByteArrayInputStream(b), "len.npy"), "len.npy", "length field");
    }
}
