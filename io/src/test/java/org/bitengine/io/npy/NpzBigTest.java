package org.bitengine.io.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A > 4.3 GB archive (Zip64 offsets): written, read back entry by entry, and, where numpy exists,
 * loaded by numpy. Needs ~5 GB of disk and ~2 GB of heap, so it runs only with
 * {@code -Dbitengine.bigtests=true}.
 */
@EnabledIfSystemProperty(named = "bitengine.bigtests", matches = "true")
class NpzBigTest {

    private static final int ENTRY_FLOATS = 256 << 20; // 1 GiB per entry

    @Test
    void archiveOverFourGigabytes(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("huge.npz");
        float[] data = new float[ENTRY_FLOATS];
        data[0] = 1;
        data[ENTRY_FLOATS - 1] = -1;
        NpyArray a = NpyArray.ofFloats(new int[] {ENTRY_FLOATS / 1024, 1024}, data);
        data = null;
        try (NpzWriter w = NpzWriter.create(p)) {
            for (int i = 0; i < 5; i++) {
                w.write("part" + i, a);
            }
            w.commit();
        }
        assertTrue(Files.size(p) > 4L * 1024 * 1024 * 1024 + 300L * 1024 * 1024, "size " + Files.size(p));
        assertTrue(hasZip64EndRecord(p), "no Zip64 end of central directory record");
        try (NpzReader r = NpzReader.open(p)) {
            assertEquals(List.of("part0", "part1", "part2", "part3", "part4"), r.keys());
            for (String k : r.keys()) {
                assertEquals(4L * ENTRY_FLOATS, r.header(k).dataLength());
            }
            // The last entry starts beyond 4 GiB: only a correct Zip64 offset finds it.
            assertEquals(a, r.read("part4"));
        }
        if (pythonAvailable()) {
            List<String> out = NpyTestSupport.python("""
                    import sys, numpy as np
                    with np.load(sys.argv[1]) as z:
                        a = z['part4']
                        print(z.files, a.shape, a[0, 0], a[-1, -1])
                    """, p.toString());
            assertEquals(List.of("['part0', 'part1', 'part2', 'part3', 'part4'] (262144, 1024) 1.0 -1.0"), out);
        }
    }

    @Test
    void numpyWrittenArchiveOverFourGigabytes(@TempDir Path dir) {
        // numpy's own Zip64 layout (Zip64 extras in local and central headers) past 4 GiB, as a
        // large BiT-M checkpoint converted with np.savez would have.
        NpyTestSupport.assumeNumpy();
        Path p = dir.resolve("numpy_huge.npz");
        NpyTestSupport.python("""
                import sys, numpy as np
                a = np.zeros((262144, 1024), dtype='<f4')
                a[0, 0], a[-1, -1] = 1, -1
                np.savez(sys.argv[1], **{f'part{i}': a for i in range(5)})
                """, p.toString());
        try (NpzReader r = NpzReader.open(p)) {
            assertEquals(List.of("part0", "part1", "part2", "part3", "part4"), r.keys());
            long t0 = System.nanoTime();
            float[] last = r.read("part4").toFloats();
            System.out.printf("read 1 GiB STORED entry beyond 4 GiB in %.2f s%n", (System.nanoTime() - t0) / 1e9);
            assertEquals(1f, last[0], 0f);
            assertEquals(-1f, last[last.length - 1], 0f);
        }
    }

    private static boolean pythonAvailable() {
        try {
            NpyTestSupport.assumeNumpy();
            return true;
        } catch (org.opentest4j.TestAbortedException e) {
            return false;
        }
    }

    /** Looks for the Zip64 end-of-central-directory signature PK\6\6 near the end of the file. */
    private static boolean hasZip64EndRecord(Path p) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            int n = (int) Math.min(f.length(), 1 << 16);
            byte[] tail = new byte[n];
            f.seek(f.length() - n);
            f.readFully(tail);
            for (int i = n - 4; i >= 0; i--) {
                if (tail[i] == 'P' && tail[i + 1] == 'K' && tail[i + 2] == 6 && tail[i + 3] == 6) {
                    return true;
                }
            }
            return false;
        }
    }
}
