package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.FinetuneTest.TINY;
import static org.bitengine.tests.FinetuneTest.WEIGHTS;
import static org.bitengine.tests.FinetuneTest.args;
import static org.bitengine.tests.FinetuneTest.goldenData;
import static org.bitengine.tests.FinetuneTest.syntheticData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input to {@code finetune}: one line on stderr, exit code 2, no stack trace, nothing half-written. */
class FinetuneErrorsTest {

    static String[] tinyRun(Path data, Path out, String... more) {
        return args("finetune", "--data", data, "--out", out, TINY, "--resolution", "8", "--crop", "8", "--batch", "4", more);
    }

    @Test
    void existingRunDirectoryIsRefusedUnlessResumedOrOverwritten(@TempDir Path dir) throws IOException {
        Path data = goldenData(dir);
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("mine.txt"), "do not delete");
        String[] golden = args(FinetuneTest.goldenRun(data, run), "--schedule", "constant", "--steps", "1");
        assertUserError(cli(golden), run.toString(), "already exists", "--resume", "--overwrite");
        assertUserError(cli(args(golden, "--overwrite")), "not a bit-engine run directory");
        assertTrue(Files.exists(run.resolve("mine.txt")), "nothing of the user's was deleted");
        Files.delete(run.resolve("mine.txt"));
        ok(golden);
        assertUserError(cli(golden), "already exists");
        ok(args(golden, "--overwrite"));
        assertTrue(Files.exists(run.resolve("weights.npz")));
    }

    @Test
    void keepHeadThatDoesNotFitTheClasses(@TempDir Path dir) {
        Path data = dir.resolve("four.npz");
        try (NpzWriter w = NpzWriter.create(data)) {
            w.write("x", Golden.npy("bit/forward/input_nhwc.npy"));
            w.write("y", NpyArray.ofLongs(new int[] {3}, new long[] {0, 1, 3}));
            w.commit();
        }
        Path run = dir.resolve("run");
        assertUserError(cli(args(FinetuneTest.goldenRun(data, run), "--steps", "1")),
                "--keep-head", "7 classes", "4", "without --keep-head a new zero-initialised head");
        assertFalse(Files.exists(run), "a refused run creates nothing");
    }

    @Test
    void divergingLossStopsAtItsStepAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws IOException {
        Path data = syntheticData(dir, "d.npz", 8, 8, 2, 1);
        Path run = dir.resolve("run");
        Run r = cli(tinyRun(data, run, "--lr", "1e30", "--schedule", "constant", "--steps", "20", "--checkpoint-every", "1"));
        assertUserError(r, "diverged", "step", "the last good checkpoint is", "lower --lr");
        String line = r.err().strip();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("checkpoints/(step-(\\d{6}))").matcher(line);
        assertTrue(m.find(), line);
        int good = Integer.parseInt(m.group(2));
        assertTrue(good >= 1 && good < 20, line);
        assertEquals(m.group(1), Files.readString(run.resolve("checkpoints/latest")).strip(), "latest names the good checkpoint");
        try (org.bitengine.io.npy.NpzReader w = org.bitengine.io.npy.NpzReader.open(run.resolve("checkpoints/" + m.group(1) + "/weights.npz"))) {
            for (String k : w.keys()) {
                for (double v : w.read(k).toDoubles()) assertTrue(Double.isFinite(v), "the kept checkpoint is finite: " + k);
            }
        }
        assertFalse(Files.exists(run.resolve("weights.npz")), "no final weights after a divergence");
        assertTrue(FinetuneTest.trainLines(run).size() >= good, "metrics up to the divergence");
        assertTrue(r.out().contains("fine-tuning wants pretrained weights"), "a random init says so: " + r.out());
        assertTrue(r.out().contains("device (--device auto): no usable GPU, running on the CPU: "), r.out());
    }

    private static byte[] png(int size, int shade) throws IOException {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) img.setRGB(x, y, (shade << 16) | ((x * 20) << 8) | (y * 20));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static Path imageFolder(Path dir, Map<String, Integer> counts) throws IOException {
        Path root = Files.createDirectories(dir.resolve("images"));
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            Path c = Files.createDirectories(root.resolve(e.getKey()));
            for (int i = 0; i < e.getValue(); i++) Files.write(c.resolve(i + ".png"), png(8, e.getKey().hashCode() & 0xFF));
        }
        return root;
    }

    @Test
    void emptyClassFolder(@TempDir Path dir) throws IOException {
        Path root = imageFolder(dir, Map.of("cat", 3, "dog", 0));
        Path run = dir.resolve("run");
        assertUserError(cli(tinyRun(root, run, "--steps", "1")), "dog");
        assertFalse(Files.exists(run));
    }

    @Test
    void unreadableImagesAreSkippedWithAWarningAndCounted(@TempDir Path dir) throws IOException {
        Path root = imageFolder(dir, Map.of("cat", 4, "dog", 4));
        Files.writeString(root.resolve("cat/broken.png"), "this is not a PNG");
        byte[] good = png(8, 7);
        Files.write(root.resolve("dog/truncated.png"), Arrays.copyOf(good, good.length / 2));
        Path run = dir.resolve("run");
        Run r = ok(tinyRun(root, run, "--steps", "3", "--no-shuffle", "--schedule", "constant", "--lr", "0.01"));
        assertTrue(r.err().contains("broken.png"), r.err());
        assertTrue(r.err().contains("truncated.png"), r.err());
        assertTrue(r.err().lines().allMatch(l -> l.startsWith("bit-engine: warning: ")), r.err());
        assertTrue(r.out().contains("2 unreadable images skipped"), r.out());
        assertTrue(Files.exists(run.resolve("weights.npz")));
    }

    @Test
    void noGpuOnThisMachine(@TempDir Path dir) {
        org.junit.jupiter.api.Assumptions.assumeFalse(org.bitengine.engine.backend.Devices.select("auto").backend().name().startsWith("cuda"),
                "this machine has a usable GPU");
        Path run = dir.resolve("run");
        assertUserError(cli(args(FinetuneTest.goldenRun(goldenData(dir), run), "--device", "cuda")), "--device cuda: ");
        assertUserError(cli(args(FinetuneTest.goldenRun(goldenData(dir), run), "--device", "tpu")), "--device", "tpu");
        assertFalse(Files.exists(run));
    }

    @Test
    void badFlagValues(@TempDir Path dir) {
        Path data = goldenData(dir);
        Path run = dir.resolve("run");
        String[] base = args("finetune", "--data", data, "--out", run, "--weights", WEIGHTS);
        assertUserError(cli(args(base, "--batch", "0")), "--batch", "at least 1");
        assertUserError(cli(args(base, "--batch", "3", "--batch-split", "2")), "--batch-split 2", "divide");
        assertUserError(cli(args(base, "--val-split", "1.5")), "--val-split");
        assertUserError(cli(args(base, "--val-split", "0.5", "--val", data)), "--val", "--val-split");
        assertUserError(cli(args(base, "--lr", "-1")), "--lr");
        assertUserError(cli(args(base, "--lr", "NaN")), "--lr");
        assertUserError(cli(args(base, "--mixup", "-0.1")), "--mixup");
        assertUserError(cli(args(base, "--steps", "0")), "--steps");
        assertUserError(cli(args(base, "--steps", "many")), "many");
        assertUserError(cli(args(base, "--schedule", "cosine")), "--schedule", "cosine");
        assertUserError(cli(args(base, "--resolution", "48", "--crop", "64")), "--crop 64", "--resolution 48");
        assertUserError(cli(args(base, "--model", "BiT-R50x1")), "--weights", "--model");
        assertUserError(cli(args(base, "--ridge-lambda", "1")), "--ridge-lambda", "--linear-probe");
        assertUserError(cli(args(base, "--early-stop-patience", "2")), "--early-stop-patience", "validation");
        assertUserError(cli(args(base, "--examples-per-class", "2")), "2");
        assertUserError(cli(args(base, "--seed", "-3")), "--seed");
        assertUserError(cli("finetune", "--data", data.toString(), "--out", run.toString(), "--keep-head"), "--keep-head", "--weights");
        assertUserError(cli("finetune", "--data", data.toString(), "--out", run.toString(), "--width", "2"), "--width", "--block-units");
        assertUserError(cli("finetune", "--data", data.toString(), "--out", run.toString(), "--block-units", "1,1,1"), "--block-units");
        assertUserError(cli("finetune", "--data", data.toString(), "--out", run.toString(), "--model", "ResNet-9000"), "ResNet-9000");
        assertUserError(cli("finetune", "--out", run.toString()), "--data");
        assertUserError(cli("finetune", "--data", data.toString()), "--out");
        assertUserError(cli("finetune", "--data", dir.resolve("missing").toString(), "--out", run.toString()), "missing");
        assertUserError(cli("finetune", "--data", data.toString(), "--out", run.toString(), "--weights", dir.resolve("nope.npz").toString()),
                "nope.npz");
        assertFalse(Files.exists(run), "no run directory after a refused run");
    }

    @Test
    void earlyStoppingRestoresTheBestWeights(@TempDir Path dir) throws IOException {
        // With a learning rate of 1e-12 the validation accuracy never improves on its first value.
        Path data = syntheticData(dir, "d.npz", 16, 8, 2, 3);
        Path run = dir.resolve("run");
        Run r = ok(tinyRun(data, run, "--lr", "1e-12", "--schedule", "constant", "--steps", "20", "--val-split", "0.25",
                "--eval-every", "1", "--early-stop-patience", "2"));
        assertTrue(r.out().contains("early stopping"), r.out());
        List<Map<String, Object>> evals = FinetuneTest.metrics(run).stream().filter(m -> m.containsKey("val_top1")).toList();
        assertEquals(List.of(1.0, 2.0, 3.0), evals.stream().map(m -> m.get("step")).toList());
        assertEquals(3, FinetuneTest.trainLines(run).size());
        assertTrue(Files.exists(run.resolve("checkpoints/best-step-000001.npz")));
        assertEquals(-1, java.util.Arrays.mismatch(Files.readAllBytes(run.resolve("weights.npz")),
                Files.readAllBytes(run.resolve("checkpoints/best-step-000001.npz"))), "final weights are the best ones");
        // A resume of the finished run changes nothing.
        byte[] before = Files.readAllBytes(run.resolve("weights.npz"));
        ok("finetune", "--resume", run.toString());
        assertEquals(-1, java.util.Arrays.mismatch(before, Files.readAllBytes(run.resolve("weights.npz"))));
        assertEquals(3, FinetuneTest.trainLines(run).size());
    }
}
