package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.bitengine.io.npy.Npy;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.io.npy.NpzWriter;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in process: results of info and predict, and one clear line with exit code 2 for each kind of bad input. */
class CliTest {

    private static final Path WEIGHTS = Golden.path("bit/forward/weights_bit.npz");
    private static final Path INPUT = Golden.path("bit/forward/input_nhwc.npy");

    @Test
    void infoDescribesTheCheckpoint() {
        Run r = cli("info", WEIGHTS.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ResNet-v2 blocks [1, 1, 1, 1] width x1"), r.out());
        assertTrue(r.out().contains("8,022,599"), r.out());
        assertTrue(r.out().contains("7 classes"), r.out());
        assertTrue(r.out().contains("resnet/block4"), r.out());
    }

    @Test
    void predictWritesTheLogitsAndFeatures(@TempDir Path dir) {
        Path logits = dir.resolve("logits.npy");
        Run r = cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", INPUT.toString(), "--output", logits.toString(), "--batch-size", "2");
        assertEquals(0, r.code(), r.err());
        NpyArray y = Npy.read(logits);
        assertEquals("(3, 7)", y.shapeString());
        assertClose("cli predict logits", y.toDoubles(), Golden.npy("bit/forward/logits.npy").toDoubles(), 1e-4, 1e-4);

        Path features = dir.resolve("features.npy");
        r = cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", INPUT.toString(), "--output", features.toString(), "--features");
        assertEquals(0, r.code(), r.err());
        assertClose("cli predict features", Npy.read(features).toDoubles(), Golden.npy("bit/forward/prelogits.npy").toDoubles(), 1e-4, 1e-4);
    }

    @Test
    void predictTakesOddImageSizes(@TempDir Path dir) {
        for (int[] hw : new int[][] {{67, 67}, {97, 113}, {1, 1}}) {
            Path x = dir.resolve("x.npy");
            float[] data = new float[2 * hw[0] * hw[1] * 3];
            for (int i = 0; i < data.length; i++) data[i] = (float) Math.sin(i * 0.37);
            Npy.write(x, NpyArray.ofFloats(new int[] {2, hw[0], hw[1], 3}, data));
            Path y = dir.resolve("y.npy");
            Run r = cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", x.toString(), "--output", y.toString());
            assertEquals(0, r.code(), r.err());
            NpyArray out = Npy.read(y);
            assertEquals("(2, 7)", out.shapeString(), Arrays.toString(hw));
            for (double v : out.toDoubles()) assertTrue(Double.isFinite(v));
        }
    }

    @Test
    void missingAndCorruptCheckpoints(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("y.npy");
        assertUserError(cli("info", dir.resolve("nope.npz").toString()), "nope.npz", "no such file");

        Path truncated = dir.resolve("truncated.npz");
        byte[] bytes = Files.readAllBytes(WEIGHTS);
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        assertUserError(cli("info", truncated.toString()), "truncated.npz");
        assertUserError(cli("predict", "--weights", truncated.toString(), "--input-npy", INPUT.toString(), "--output", out.toString()), "truncated.npz");

        Path garbage = dir.resolve("garbage.npz");
        Files.writeString(garbage, "this is not a zip archive at all, just text");
        assertUserError(cli("info", garbage.toString()), "garbage.npz");
        assertFalse(Files.exists(out), "nothing written after a failure");
    }

    @Test
    void missingKeyAndWrongShapeAreNamed(@TempDir Path dir) {
        Path missing = dir.resolve("missing.npz");
        Path reshaped = dir.resolve("reshaped.npz");
        String dropped = "resnet/block3/unit01/b/group_norm/gamma";
        try (NpzReader src = NpzReader.open(WEIGHTS); NpzWriter a = NpzWriter.create(missing); NpzWriter b = NpzWriter.create(reshaped)) {
            for (String k : src.keys()) {
                NpyArray v = src.read(k);
                if (!k.equals(dropped)) a.write(k, v);
                b.write(k, k.equals(dropped) ? NpyArray.ofFloats(new int[] {2, v.size() / 2}, v.toFloats()) : v);
            }
            a.commit();
            b.commit();
        }
        Path out = dir.resolve("y.npy");
        assertUserError(cli("predict", "--weights", missing.toString(), "--input-npy", INPUT.toString(), "--output", out.toString()),
                "missing.npz", "missing key '" + dropped + "'");
        assertUserError(cli("predict", "--weights", reshaped.toString(), "--input-npy", INPUT.toString(), "--output", out.toString()),
                "reshaped.npz", dropped, "(2, 128)", "(256,)");
        assertFalse(Files.exists(out));
    }

    @Test
    void inputsThatAreNotNhwcFloat32(@TempDir Path dir) {
        Path out = dir.resolve("y.npy");
        Path nchw = Golden.path("bit/forward/input_nchw.npy");
        assertUserError(cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", nchw.toString(), "--output", out.toString()),
                "input_nchw.npy", "(3, 3, 48, 48)", "NCHW");

        Path f64 = dir.resolve("f64.npy");
        Npy.write(f64, NpyArray.ofDoubles(new int[] {1, 4, 4, 3}, new double[48]));
        assertUserError(cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", f64.toString(), "--output", out.toString()),
                "f64.npy", "<f8", "float32");

        Path rank3 = dir.resolve("rank3.npy");
        Npy.write(rank3, NpyArray.ofFloats(new int[] {4, 4, 3}, new float[48]));
        assertUserError(cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", rank3.toString(), "--output", out.toString()),
                "rank3.npy", "(4, 4, 3)", "[N,H,W,3]");
        assertFalse(Files.exists(out));

        assertUserError(cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", INPUT.toString(),
                "--output", dir.resolve("no/such/dir/y.npy").toString()), "y.npy");
    }

    @Test
    void badOptionsGetOneLine() {
        assertUserError(cli("predict", "--weights", WEIGHTS.toString()), "--input-npy");
        assertUserError(cli("info", WEIGHTS.toString(), "--bogus"), "--bogus");
        assertUserError(cli("predict", "--weights", WEIGHTS.toString(), "--input-npy", INPUT.toString(), "--output", "y.npy", "--batch-size", "0"), "--batch-size");
    }
}
