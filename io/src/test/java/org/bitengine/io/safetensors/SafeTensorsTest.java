package org.bitengine.io.safetensors;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.IoTestSupport.filesIn;
import static org.bitengine.io.IoTestSupport.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** safetensors: a file written by a numpy script (resources/safetensors/make_fixtures.py), round trips, bad files. */
class SafeTensorsTest {

    @TempDir
    Path tmp;

    @Test
    void readsPythonMadeFile() {
        Path p = resource("safetensors/python_made.safetensors");
        Map<String, NpyArray> t = SafeTensors.read(p);
        assertEquals(List.of("empty", "bool", "u8", "i32", "i64", "bf16", "f16", "f64", "f32"), List.copyOf(t.keySet()));
        assertEquals(NpyArray.ofFloats(new int[] {2, 3}, new float[] {-2.5f, -1.5f, -.5f, .5f, 1.5f, 2.5f}), t.get("f32"));
        assertEquals(NpyArray.ofDoubles(new int[] {2}, new double[] {0.1, -1e300}), t.get("f64"));
        assertEquals(NpyArray.ofFloats(new int[] {3}, new float[] {1, -2.5f, 65504}), t.get("f16"));
        assertEquals(NpyArray.ofFloats(new int[] {2}, new float[] {1, 3.140625f}), t.get("bf16"));
        assertEquals(NpyArray.ofLongs(new int[] {}, new long[] {-(1L << 40)}), t.get("i64"));
        assertEquals(NpyArray.ofInts(new int[] {2, 1}, new int[] {-7, 9}), t.get("i32"));
        assertEquals(NpyArray.ofBytes(new int[] {4}, new byte[] {0, 1, (byte) 200, (byte) 255}), t.get("u8"));
        assertEquals(NpyArray.ofBools(new int[] {3}, new boolean[] {true, false, true}), t.get("bool"));
        assertArrayEquals(new int[] {0, 4}, t.get("empty").shape());
        assertEquals(0, t.get("empty").size());

        Map<String, SafeTensorHeader> h = SafeTensors.headers(p);
        assertEquals("F16", h.get("f16").dtype());
        assertEquals(NpyDType.F4, h.get("f16").npyDType());
        assertEquals(24, h.get("f32").end());
        assertEquals(Map.of("format", "pt", "made_by", "make_fixtures.py"), SafeTensors.metadata(p));
    }

    @Test
    void roundTrip() throws IOException {
        Map<String, NpyArray> in = new LinkedHashMap<>();
        in.put("conv.weight", NpyArray.ofFloats(new int[] {2, 1, 2, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, Float.NaN}));
        in.put("d", NpyArray.ofDoubles(new int[] {3}, new double[] {Math.PI, -0.0, 1e-310}));
        in.put("steps", NpyArray.ofLongs(new int[] {}, new long[] {Long.MIN_VALUE}));
        in.put("labels", NpyArray.ofInts(new int[] {2, 2}, new int[] {1, -2, 3, Integer.MAX_VALUE}));
        in.put("img", NpyArray.ofBytes(new int[] {1, 3}, new byte[] {0, 127, (byte) 255}));
        in.put("mask", NpyArray.ofBools(new int[] {2}, new boolean[] {false, true}));
        in.put("nothing", NpyArray.ofFloats(new int[] {0}, new float[0]));
        in.put("ünïcode/näme", NpyArray.ofFloats(new int[] {1}, new float[] {7}));
        Path p = tmp.resolve("rt.safetensors");
        SafeTensors.write(p, in, Map.of("format", "pt"));
        assertEquals(List.of("rt.safetensors"), filesIn(tmp));
        Map<String, NpyArray> out = SafeTensors.read(p);
        assertEquals(in, out);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
        assertEquals(Map.of("format", "pt"), SafeTensors.metadata(p));

        // header length is a multiple of 8 and the data are packed right after it
        byte[] all = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        long data = 0;
        for (NpyArray a : in.values()) {
            data += a.byteSize();
        }
        assertEquals(8 + n + data, all.length);

        // overwriting replaces the file atomically and leaves no temporary file
        SafeTensors.write(p, Map.of("x", NpyArray.ofInts(new int[] {1}, new int[] {5})));
        assertEquals(Map.of("x", NpyArray.ofInts(new int[] {1}, new int[] {5})), SafeTensors.read(p));
        assertEquals(Map.of(), SafeTensors.metadata(p));
        assertEquals(List.of("rt.safetensors"), filesIn(tmp));
    }

    @Test
    void pythonFileRewrittenReadsTheSame() {
        Map<String, NpyArray> a = SafeTensors.read(resource("safetensors/python_made.safetensors"));
        Path p = tmp.resolve("again.safetensors");
        SafeTensors.write(p, a);
        assertEquals(a, SafeTensors.read(p));
    }

    /** open() reads the header only: each tensor is read when asked for, so one bad tensor spoils only its own read. */
    @Test
    void openReadsOneTensorAtATime() throws IOException {
        Path p = file("two.safetensors", "{\"ok\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"bad\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[8,9]}}", 0);
        Files.write(p, new byte[] {5, 0, 0, 0, -3, -1, -1, -1, 7}, java.nio.file.StandardOpenOption.APPEND);
        try (SafeTensors.Reader r = SafeTensors.open(p)) {
            assertEquals(List.of("ok", "bad"), List.copyOf(r.keys()));
            assertArrayEquals(new int[] {1}, r.shape("bad").dims());
            assertEquals(NpyArray.ofInts(new int[] {2}, new int[] {5, -3}), r.array("ok"));
            assertArrayEquals(new float[] {5, -3}, r.read("ok"), "as a WeightSource: float32 whatever the dtype");
            assertUserError(() -> r.array("bad"), "two.safetensors", "tensor 'bad'", "neither 0 nor 1");
            assertUserError(() -> r.array("x"), "two.safetensors", "no tensor 'x'");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Bad files

    private Path file(String name, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path p = tmp.resolve("long.safetensors");
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Files.write(p, b.array());
        assertUserError(() -> SafeTensors.read(p), "long.safetensors", "header length 1099511627776 runs past the end");
        Path neg = tmp.resolve("neg.safetensors");
        Files.write(neg, ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        assertUserError(() -> SafeTensors.headers(neg), "neg.safetensors", "18446744073709551615");
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[3]);
        assertUserError(() -> SafeTensors.read(tiny), "tiny.safetensors", "too short");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        Path p = file("oor.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
        assertUserError(() -> SafeTensors.read(p), "oor.safetensors", "tensor 'a'", "outside the data section of 4 bytes");
        Path q = file("rev.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4);
        assertUserError(() -> SafeTensors.read(q), "rev.safetensors", "tensor 'a'", "outside");
    }

    @Test
    void overlapping() throws IOException {
        Path p = file("ov.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertUserError(() -> SafeTensors.headers(p), "ov.safetensors", "'a' [0, 8) and 'b' [4, 12) overlap");
    }

    @Test
    void byteLengthMismatch() throws IOException {
        Path p = file("mm.safetensors", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
        assertUserError(() -> SafeTensors.read(p), "mm.safetensors", "tensor 'a'", "needs 32 bytes", "hold 16");
        Path big = file("big.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967295,4294967295,4294967295],\"data_offsets\":[0,4]}}", 4);
        assertUserError(() -> SafeTensors.read(big), "big.safetensors", "too large");
        Path huge = file("huge.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2000000000,2000000000,2000000000],\"data_offsets\":[0,4]}}", 4);
        assertUserError(() -> SafeTensors.read(huge), "huge.safetensors", "needs", "hold 4");
    }

    @Test
    void malformedHeaders() throws IOException {
        Path dt = file("dt.safetensors", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
        assertUserError(() -> SafeTensors.read(dt), "dt.safetensors", "unsupported dtype F8_E4M3");
        Path json = file("json.safetensors", "{\"a\":", 0);
        assertUserError(() -> SafeTensors.read(json), "json.safetensors", "invalid JSON");
        Path notObj = file("arr.safetensors", "[1,2]", 0);
        assertUserError(() -> SafeTensors.read(notObj), "arr.safetensors", "'{'");
        Path frac = file("frac.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1);
        assertUserError(() -> SafeTensors.read(frac), "frac.safetensors", "not a non-negative integer");
        Path noOff = file("nooff.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1);
        assertUserError(() -> SafeTensors.read(noOff), "nooff.safetensors", "data_offsets");
        Path meta = file("meta.safetensors", "{\"__metadata__\":{\"k\":1}}", 0);
        assertUserError(() -> SafeTensors.read(meta), "meta.safetensors", "not a string");
        Path bool = file("bool.safetensors", "{\"a\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", 0);
        Files.write(bool, new byte[] {7}, java.nio.file.StandardOpenOption.APPEND);
        assertUserError(() -> SafeTensors.read(bool), "bool.safetensors", "tensor 'a'", "neither 0 nor 1");
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] all = Files.readAllBytes(resource("safetensors/python_made.safetensors"));
        Path p = tmp.resolve("cut.safetensors");
        Files.write(p, java.util.Arrays.copyOf(all, all.length - 5));
        assertUserError(() -> SafeTensors.read(p), "cut.safetensors", "outside the data section");
        assertUserError(() -> SafeTensors.read(tmp.resolve("none.safetensors")), "none.safetensors", "no such file");
    }

    @Test
    void badNamesAreRefusedAndNothingIsLeftBehind() throws IOException {
        Path p = tmp.resolve("bad.safetensors");
        assertUserError(() -> SafeTensors.write(p, Map.of("__metadata__", NpyArray.ofInts(new int[] {1}, new int[] {1}))),
                "bad.safetensors", "__metadata__");
        assertEquals(List.of(), filesIn(tmp));
    }
}
