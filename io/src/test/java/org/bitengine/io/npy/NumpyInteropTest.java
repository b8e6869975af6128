package org.bitengine.io.npy;

import static org.bitengine.io.npy.NpyTestSupport.python;
import static org.bitengine.io.npy.NpyTestSupport.sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-checks with the numpy installed on the machine (skipped, with a message, where python3 or
 * numpy is missing): numpy loads what we write, we load what numpy writes, and our headers are
 * numpy's byte for byte for shapes the fixtures do not cover.
 */
class NumpyInteropTest {

    // For each key: key|descr|shape|sha256 of the C-order bytes, as the Java side computes them.
    private static final String DESCRIBE = """
            import sys, hashlib, numpy as np
            def line(k, a):
                print(f"{k}|{a.dtype.str}|{a.shape!r}|{hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()}")
            for path in sys.argv[1:]:
                if path.endswith('.npz'):
                    with np.load(path) as z:
                        for k in z.files:
                            line(k, z[k])
                else:
                    line(path, np.load(path))
            """;

    @BeforeEach
    void needsNumpy() {
        NpyTestSupport.assumeNumpy();
    }

    private static String describe(String key, NpyArray a) {
        return key + "|" + a.dtype().descr() + "|" + a.shapeString() + "|" + sha256(a.toRawBytes());
    }

    @Test
    void numpyLoadsOurNpz(@TempDir Path dir) {
        Path p = dir.resolve("ours.npz");
        Map<String, NpyArray> arrays = NpzWriterTest.sampleArrays();
        try (NpzWriter w = NpzWriter.create(p)) {
            arrays.forEach(w::write);
            w.commit();
        }
        List<String> want = new ArrayList<>();
        arrays.forEach((k, a) -> want.add(describe(k, a)));
        assertEquals(want, python(DESCRIBE, p.toString()));
    }

    @Test
    void numpyLoadsOurNpy(@TempDir Path dir) {
        List<String> want = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        NpyRoundTripTest.sameAsNumpyFixtures().forEach((name, a) -> {
            Path p = dir.resolve(name);
            Npy.write(p, a);
            paths.add(p.toString());
            want.add(describe(p.toString(), a));
        });
        assertEquals(want, python(DESCRIBE, paths.toArray(String[]::new)));
    }

    @Test
    void weLoadWhatNumpyWritesNow(@TempDir Path dir) {
        Path stored = dir.resolve("s.npz");
        Path deflated = dir.resolve("d.npz");
        Path single = dir.resolve("one.npy");
        python("""
                import sys, numpy as np
                rng = np.random.default_rng(7)
                arrays = {'w/conv/kernel': rng.standard_normal((3, 3, 4, 8)).astype('<f4'),
                          'w/f8': rng.standard_normal(17),
                          'labels': rng.integers(-2**40, 2**40, 9),
                          'i4': rng.integers(-9, 9, (2, 2)).astype('<i4'),
                          'mask': rng.random((4, 1)) > 0.5,
                          'pixels': rng.integers(0, 256, (2, 3, 3), dtype=np.uint8),
                          'scalar': np.float32(1.5),
                          'none': np.zeros((2, 0), '<f8')}
                np.savez(sys.argv[1], **arrays)
                np.savez_compressed(sys.argv[2], **arrays)
                np.save(sys.argv[3], arrays['w/conv/kernel'])
                """, stored.toString(), deflated.toString(), single.toString());
        List<String> want = python(DESCRIBE, stored.toString());
        for (Path p : List.of(stored, deflated)) {
            List<String> got = new ArrayList<>();
            try (NpzReader r = NpzReader.open(p)) {
                for (String k : r.keys()) {
                    got.add(describe(k, r.read(k)));
                }
            }
            assertEquals(want, got, p.toString());
        }
        assertEquals(python(DESCRIBE, single.toString()), List.of(describe(single.toString(), Npy.read(single))));
    }

    @Test
    void headersMatchNumpyForManyShapes(@TempDir Path dir) throws Exception {
        // Shapes around the 64-byte boundaries and with long first dimensions, where the growth-axis
        // spaces and the "pad 64, not 0" rule decide the length.
        List<int[]> shapes = new ArrayList<>();
        shapes.add(new int[] {});
        shapes.add(new int[] {0});
        shapes.add(new int[] {2147483647});
        for (int n = 1; n <= 12; n++) {
            int[] s = new int[n];
            for (int i = 0; i < n; i++) {
                s[i] = (int) Math.pow(10, (n + i) % 10);
            }
            if (n > 2) {
                s[n / 2] = 0; // long digits, legal element count
            }
            shapes.add(s);
            int[] zeros = new int[n];
            shapes.add(zeros);
        }
        StringBuilder script = new StringBuilder("import io, numpy as np\n");
        for (NpyDType t : NpyDType.values()) {
            for (int[] s : shapes) {
                script.append("f = io.BytesIO(); np.lib.format.write_array_header_1_0(f, {'descr': '")
                        .append(t.descr()).append("', 'fortran_order': False, 'shape': ")
                        .append(Shapes.toString(s)).append("}); print(f.getvalue().hex())\n");
            }
        }
        List<String> numpy = python(script.toString());
        int i = 0;
        for (NpyDType t : NpyDType.values()) {
            for (int[] s : shapes) {
                assertEquals(numpy.get(i++), HexFormat.of().formatHex(Npy.headerBytes(t, s)),
                        t + " " + Shapes.toString(s));
            }
        }
        // And a full np.save of the largest of them, data included.
        Path p = dir.resolve("wide.npy");
        python("import sys, numpy as np; np.save(sys.argv[1], np.arange(2*3*4*5*6*7, dtype='<i8').reshape(2,3,4,5,6,7))",
                p.toString());
        long[] v = new long[2 * 3 * 4 * 5 * 6 * 7];
        for (int k = 0; k < v.length; k++) {
            v[k] = k;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Npy.write(out, NpyArray.ofLongs(new int[] {2, 3, 4, 5, 6, 7}, v));
        assertArrayEquals(Files.readAllBytes(p), out.toByteArray());
    }
}
