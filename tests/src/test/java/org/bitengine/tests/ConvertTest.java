package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.bitengine.io.npy.Npy;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.io.safetensors.SafeTensors;
import org.bitengine.io.torch.TorchStateDict;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert}: the torchvision EfficientNet-B0 fixture (as .pth and as .safetensors) to our .npz
 * with metadata, then {@code info} and {@code predict} on it without flags, compared with the
 * golden torchvision outputs; and one line, exit 2, nothing written for each kind of bad input.
 */
class ConvertTest {

    static final Path PTH = EfficientNetGoldenTest.STATE_DICT;
    static final Path INPUT = Golden.path("efficientnet/input_nhwc.npy");

    private static void checkConverted(Path npz, Path dir) {
        try (NpzReader r = NpzReader.open(npz)) {
            assertEquals("efficientnet-b0", new String(r.read("meta/arch").toBytes(), StandardCharsets.UTF_8));
            assertEquals("torchvision", new String(r.read("meta/convention").toBytes(), StandardCharsets.UTF_8));
            assertEquals("imagenet-mean-std", new String(r.read("meta/preprocessing").toBytes(), StandardCharsets.UTF_8));
            assertEquals(1e-5, r.read("meta/bn_eps").toDoubles()[0]);
            assertEquals(7L, r.read("meta/classes").toLongs()[0]);
            assertArrayEquals(new int[] {3, 3, 3, 32}, r.header("efficientnet/stem/conv/kernel").shape(), "HWIO stem kernel");
            assertArrayEquals(new int[] {1280, 7}, r.header("efficientnet/classifier/kernel").shape());
        }

        Run info = ok("info", npz.toString());
        assertTrue(info.out().contains("efficientnet-b0"), info.out());
        assertTrue(info.out().contains("7 classes"), info.out());
        assertTrue(info.out().contains("torchvision"), info.out());
        assertTrue(info.out().contains("imagenet-mean-std"), info.out());
        assertTrue(info.out().contains("4,058,531"), "values without the metadata: " + info.out());

        Path logits = dir.resolve("y.npy");
        Run p = ok("predict", "--weights", npz.toString(), "--input-npy", INPUT.toString(), "--output", logits.toString());
        assertEquals("", p.err(), "no warning about meta/* keys");
        NpyArray y = Npy.read(logits);
        assertEquals("(2, 7)", y.shapeString());
        double[] ref = Golden.npy("efficientnet/logits_f64ref.npy").toDoubles();
        assertClose("convert+predict logits vs f64ref", y.toDoubles(), ref, 1e-4, 1e-4);
        System.out.println("convert " + npz.getFileName() + ": max |logit - f64ref| = " + maxDiff(y.toDoubles(), ref));

        Path features = dir.resolve("f.npy");
        ok("predict", "--weights", npz.toString(), "--input-npy", INPUT.toString(), "--output", features.toString(), "--features");
        double[] fref = Golden.npy("efficientnet/features_f64ref.npy").toDoubles();
        double[] f = Npy.read(features).toDoubles();
        assertClose("convert+predict features vs f64ref", f, fref, 1e-4, 1e-4);
        System.out.println("convert " + npz.getFileName() + ": max |feature - f64ref| = " + maxDiff(f, fref));
    }

    private static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void torchCheckpointConvertsAndRunsWithoutFlags(@TempDir Path dir) {
        Path npz = dir.resolve("out.npz");
        Run r = ok("convert", PTH.toString(), npz.toString());
        assertTrue(r.out().contains("applied 311, missing 0, unused 0, shape-mismatched 0"), r.out());
        assertTrue(r.out().contains("efficientnet-b0"), r.out());
        checkConverted(npz, dir);

        // Re-converting our own file keeps it as it is (format npz, arch from its metadata).
        Path again = dir.resolve("again.npz");
        ok("convert", npz.toString(), again.toString());
        checkConverted(again, dir);
    }

    @Test
    void safetensorsConvertsAndRunsWithoutFlags(@TempDir Path dir) {
        Path st = dir.resolve("b0.safetensors");
        SafeTensors.write(st, TorchStateDict.read(PTH));
        Path npz = dir.resolve("out.npz");
        Run r = ok("convert", st.toString(), npz.toString());
        assertTrue(r.out().contains("safetensors"), r.out());
        checkConverted(npz, dir);
    }

    @Test
    void bitCheckpointIsRewrittenWithMetadata(@TempDir Path dir) {
        Path npz = dir.resolve("bit.npz");
        ok("convert", Golden.path("bit/forward/weights_bit.npz").toString(), npz.toString());
        Run info = ok("info", npz.toString());
        assertTrue(info.out().contains("ResNet-v2 blocks [1, 1, 1, 1] width x1"), info.out());
        assertTrue(info.out().contains("minus1-1"), info.out());
        assertTrue(info.out().contains("8,022,599"), info.out());
        Path logits = dir.resolve("y.npy");
        Run p = ok("predict", "--weights", npz.toString(), "--input-npy", Golden.path("bit/forward/input_nhwc.npy").toString(),
                "--output", logits.toString());
        assertEquals("", p.err());
        assertClose("converted BiT logits", Npy.read(logits).toDoubles(), Golden.npy("bit/forward/logits.npy").toDoubles(), 1e-4, 1e-4);
    }

    private static void assertNothingWritten(Path dir, Path out) throws IOException {
        assertFalse(Files.exists(out), out + " written");
        try (var files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("out")).toList();
            assertEquals(List.of(), names, "no temporary files left");
        }
    }

    @Test
    void badInputsAreOneLineAndWriteNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.npz");

        Path h5 = dir.resolve("model.h5");
        byte[] sig = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
        Files.write(h5, sig);
        assertUserError(cli("convert", h5.toString(), out.toString()), "model.h5", "HDF5", "truncated or damaged");
        assertNothingWritten(dir, out);

        byte[] pth = Files.readAllBytes(PTH);
        Path truncated = dir.resolve("truncated.pth");
        Files.write(truncated, Arrays.copyOf(pth, pth.length / 2));
        assertUserError(cli("convert", truncated.toString(), out.toString()), "truncated.pth");
        assertNothingWritten(dir, out);
        assertUserError(cli("convert", truncated.toString(), out.toString(), "--from", "torch"), "truncated.pth");
        assertNothingWritten(dir, out);

        // A damaged storage is found only when its array is copied, after others were written: the
        // temporary file is dropped all the same.
        byte[] flipped = pth.clone();
        flipped[flipped.length / 2] ^= (byte) 0xFF;
        Path damaged = dir.resolve("damaged.pth");
        Files.write(damaged, flipped);
        Run damagedRun = cli("convert", damaged.toString(), out.toString());
        assertUserError(damagedRun, "damaged.pth", "fails its CRC-32 check");
        assertTrue(damagedRun.out().contains("applied 311"), "the check from the headers passed: " + damagedRun.out());
        assertNothingWritten(dir, out);

        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "this is not a checkpoint\n");
        assertUserError(cli("convert", text.toString(), out.toString()), "notes.txt", "not a checkpoint");
        assertNothingWritten(dir, out);

        Run wrongArch = cli("convert", PTH.toString(), out.toString(), "--arch", "efficientnet-b3");
        assertUserError(wrongArch, "b0_tv.pth", "efficientnet-b3", "--allow-partial");
        assertTrue(wrongArch.out().contains("shape-mismatched"), wrongArch.out());
        assertNothingWritten(dir, out);

        Path small = PTH.resolveSibling("small.pth");
        assertUserError(cli("convert", small.toString(), out.toString()), "small.pth", "unknown architecture");
        assertNothingWritten(dir, out);

        assertUserError(cli("convert", PTH.toString(), out.toString(), "--arch", "resnet9000"), "resnet9000");
        assertNothingWritten(dir, out);
        assertUserError(cli("convert", dir.resolve("nope.pth").toString(), out.toString()), "nope.pth", "no such file");
        assertNothingWritten(dir, out);
    }

    @Test
    void allowPartialWritesTheArraysThatFit(@TempDir Path dir) {
        Path out = dir.resolve("partial.npz");
        Run r = ok("convert", PTH.toString(), out.toString(), "--arch", "efficientnet-b3", "--allow-partial");
        assertTrue(r.out().contains("partial"), r.out());
        assertTrue(Files.isRegularFile(out));
        try (NpzReader reader = NpzReader.open(out)) {
            assertEquals("efficientnet-b3", new String(reader.read("meta/arch").toBytes(), StandardCharsets.UTF_8));
        }
        // It does not load for inference: predict names a missing or mismatched key.
        assertUserError(cli("predict", "--weights", out.toString(), "--input-npy", INPUT.toString(), "--output",
                dir.resolve("y.npy").toString()), "partial.npz");
    }
}
