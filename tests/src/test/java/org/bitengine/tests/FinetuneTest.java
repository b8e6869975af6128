package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.bitengine.io.json.Json;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.io.npy.NpzWriter;
import org.bitengine.models.probe.LinearProbe;
import org.bitengine.models.train.HyperRule;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune} through the CLI, in process: the BiT-HyperRule against the official functions, two
 * SGD steps against the official training code (whole batch, micro-batches, warm-up), the transfer
 * modes, and one clear line with exit code 2 for every kind of bad input.
 */
class FinetuneTest {

    static final Path WEIGHTS = Golden.path("bit/forward/weights_bit.npz");
    static final int[] LABELS = {6, 1, 3};

    /** The golden input batch (float32, used as it is) with labels [6, 1, 3], as an .npz dataset. */
    static Path goldenData(Path dir) {
        Path file = dir.resolve("golden.npz");
        NpyArray x = Golden.npy("bit/forward/input_nhwc.npy");
        try (NpzWriter w = NpzWriter.create(file)) {
            w.write("x", x);
            w.write("y", NpyArray.ofLongs(new int[] {3}, new long[] {6, 1, 3}));
            w.commit();
        }
        return file;
    }

    /**
     * A small learnable uint8 dataset: {@code n} images {@code size}×{@code size}, class c is a bright
     * horizontal band at a class-specific height over noise (seeded).
     */
    static Path syntheticData(Path dir, String name, int n, int size, int classes, long seed) {
        Path file = dir.resolve(name);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        byte[] x = new byte[n * size * size * 3];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = i % classes;
            y[i] = c;
            int band = c * size / classes;
            for (int h = 0; h < size; h++) {
                for (int w = 0; w < size; w++) {
                    for (int ch = 0; ch < 3; ch++) {
                        int v = rng.nextInt(80) + (h >= band && h < band + Math.max(1, size / classes) ? 160 : 0);
                        x[((i * size + h) * size + w) * 3 + ch] = (byte) Math.min(255, v);
                    }
                }
            }
        }
        try (NpzWriter w = NpzWriter.create(file)) {
            w.write("x", NpyArray.ofBytes(new int[] {n, size, size, 3}, x));
            w.write("y", NpyArray.ofLongs(new int[] {n}, y));
            w.commit();
        }
        return file;
    }

    /** Flags of a tiny random-init BiT (one unit per block, width 1) for fast runs on small images. */
    static final String[] TINY = {"--block-units", "1,1,1,1", "--width", "1"};

    static String[] args(Object... parts) {
        List<String> out = new ArrayList<>();
        for (Object p : parts) {
            if (p instanceof Object[] a) out.addAll(Arrays.asList(args(a)));
            else out.add(p.toString());
        }
        return out.toArray(String[]::new);
    }

    /** The flags of the golden SGD run: the official loop without augmentation, shuffling or MixUp. */
    static String[] goldenRun(Path data, Path out) {
        return new String[] {"finetune", "--data", data.toString(), "--weights", WEIGHTS.toString(), "--keep-head",
            "--no-augment", "--no-shuffle", "--mixup", "0", "--batch", "3", "--resolution", "48", "--crop", "48",
            "--out", out.toString()};
    }

    static List<Map<String, Object>> metrics(Path runDir) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"))) out.add(Json.parseObject(line, "metrics"));
        return out;
    }

    static List<Map<String, Object>> trainLines(Path runDir) throws IOException {
        return metrics(runDir).stream().filter(m -> m.containsKey("loss")).toList();
    }

    /** Every parameter of {@code weights} against the after-step fixtures: 32 full tensors and 13 output-channel slices. */
    static void compareWithGolden(Path weights, String prefix, double tol) {
        try (NpzReader ours = NpzReader.open(weights);
             NpzReader full = Golden.npz(prefix + "_full_bit.npz");
             NpzReader slices = Golden.npz(prefix + "_outslices_bit.npz");
             NpzReader channels = Golden.npz("bit/sgd/outslice_channels.npz")) {
            assertEquals(45, ours.keys().size(), "weights.npz holds every parameter: " + ours.keys());
            for (String k : full.keys()) {
                assertClose(prefix + " " + k, ours.read(k).toDoubles(), full.read(k).toDoubles(), tol, 0);
            }
            for (String k : slices.keys()) {
                assertClose(prefix + " slice " + k, outSlice(ours.read(k), channels.read(k).toLongs()), slices.read(k).toDoubles(), tol, 0);
            }
        }
    }

    /** p[:, :, :, idx] of an HWIO kernel. */
    static double[] outSlice(NpyArray kernel, long[] idx) {
        int[] s = kernel.shape();
        double[] v = kernel.toDoubles();
        int out = s[3];
        int rows = v.length / out;
        double[] r = new double[rows * idx.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < idx.length; j++) r[i * idx.length + j] = v[i * out + (int) idx[j]];
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------
    // The BiT-HyperRule

    @Test
    void hyperRuleMatchesTheOfficialFunctionsExactly() {
        Map<String, Object> golden = Json.readObject(Golden.path("bit/hyperrule/hyperrule.json"));
        int checked = 0;
        for (Object o : (List<?>) golden.get("get_resolution")) {
            Map<?, ?> e = (Map<?, ?>) o;
            List<?> hw = (List<?>) e.get("hw");
            int[] got = HyperRule.resolution(((Double) hw.get(0)).intValue(), ((Double) hw.get(1)).intValue());
            assertEquals(e.get("output"), List.of((double) got[0], (double) got[1]), "get_resolution" + hw);
            checked++;
        }
        for (Object o : (List<?>) golden.get("get_schedule")) {
            Map<?, ?> e = (Map<?, ?>) o;
            long n = ((Double) e.get("dataset_size")).longValue();
            List<Double> got = Arrays.stream(HyperRule.schedule(n)).mapToObj(i -> (double) i).toList();
            assertEquals(e.get("output"), got, "get_schedule(" + n + ")");
            checked++;
        }
        for (Object o : (List<?>) golden.get("get_mixup")) {
            Map<?, ?> e = (Map<?, ?>) o;
            long n = ((Double) e.get("dataset_size")).longValue();
            assertEquals(Double.doubleToRawLongBits((Double) e.get("output")), Double.doubleToRawLongBits(HyperRule.mixup(n)),
                    "get_mixup(" + n + ")");
            checked++;
        }
        for (Object o : (List<?>) golden.get("get_lr")) {
            Map<?, ?> e = (Map<?, ?>) o;
            int step = ((Double) e.get("step")).intValue();
            long n = ((Double) e.get("dataset_size")).longValue();
            Double got = HyperRule.lr(step, n, (Double) e.get("base_lr"));
            if (e.get("output") == null) {
                assertNull(got, "get_lr(" + step + ") is None");
            } else {
                assertEquals(Double.doubleToRawLongBits((Double) e.get("output")), Double.doubleToRawLongBits(got),
                        "get_lr(" + step + "): expected " + e.get("output") + ", got " + got);
            }
            checked++;
        }
        assertEquals(8 + 6 + 6 + 15, checked);
    }

    /** The "config" object a run saved, after a run stopped before its first step. */
    static Map<?, ?> configOf(Path dir, String name, Object... flags) {
        Path run = dir.resolve(name);
        ok(args("finetune", "--out", run, TINY, "--stop-after-step", "0", flags));
        return (Map<?, ?>) Json.readObject(run.resolve("config.json")).get("config");
    }

    @Test
    void effectiveConfigurationFollowsTheHyperRuleUnlessOverridden(@TempDir Path dir) {
        Path data = syntheticData(dir, "d.npz", 40, 8, 4, 2);
        Map<?, ?> c = configOf(dir, "rule", "--data", data);
        // 8x8 images (area < 96²) → 160/128; 40 examples (< 20k) → [100..500], no MixUp; lr 0.003, batch 512.
        assertEquals(160.0, c.get("resolution"));
        assertEquals(128.0, c.get("crop"));
        assertEquals(List.of(100.0, 200.0, 300.0, 400.0, 500.0), c.get("schedule_supports"));
        assertEquals(500.0, c.get("steps"));
        assertEquals("bit", c.get("schedule"));
        assertEquals(0.003, c.get("lr"));
        assertEquals(0.0, c.get("mixup"));
        assertEquals(512.0, c.get("batch"));
        assertEquals(1.0, c.get("batch_split"));
        assertEquals(true, c.get("augment"));
        assertEquals(true, c.get("shuffle"));
        assertEquals("full", c.get("mode"));
        assertEquals("cpu", c.get("device"));
        assertEquals(100.0, c.get("eval_every"));

        c = configOf(dir, "scaled", "--data", data, "--batch", "64", "--lr-scale-by-batch");
        assertEquals(0.003 * 64 / 512, c.get("lr"), "lr·B/512");
        assertEquals(List.of(800.0, 1600.0, 2400.0, 3200.0, 4000.0), c.get("schedule_supports"), "steps·512/B");

        c = configOf(dir, "steps", "--data", data, "--steps", "1000", "--mixup", "0.1", "--crop", "16", "--batch", "8",
                "--batch-split", "2", "--no-augment", "--no-shuffle");
        assertEquals(List.of(200.0, 400.0, 600.0, 800.0, 1000.0), c.get("schedule_supports"), "boundaries scaled to --steps");
        assertEquals(0.1, c.get("mixup"));
        assertEquals(160.0, c.get("resolution"));
        assertEquals(16.0, c.get("crop"));
        assertEquals(false, c.get("augment"));
        assertEquals(false, c.get("shuffle"));

        c = configOf(dir, "constant", "--data", data, "--schedule", "constant", "--steps", "7", "--resolution", "20");
        assertEquals(List.of(7.0), c.get("schedule_supports"));
        assertEquals(20.0, c.get("crop"), "a crop no larger than the resolution");

        Path run = dir.resolve("fewshot");
        ok(args("finetune", "--data", data, "--out", run, TINY, "--stop-after-step", "0", "--examples-per-class", "3",
                "--val-split", "0.25", "--freeze-backbone", "--resolution", "8", "--crop", "8"));
        Map<?, ?> d = (Map<?, ?>) Json.readObject(run.resolve("config.json")).get("data");
        assertEquals(12.0, d.get("train_size"), "3 per class of 4 classes");
        assertEquals(10.0, d.get("val_size"), "a quarter of 40, stratified");
        assertEquals("freeze-backbone", ((Map<?, ?>) Json.readObject(run.resolve("config.json")).get("config")).get("mode"));
    }

    // ---------------------------------------------------------------------------------------------
    // Golden SGD through the CLI

    @Test
    void twoStepsMatchTheOfficialTrainingLoop(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Run r = ok(args(goldenRun(goldenData(dir), run), "--schedule", "constant", "--lr", "0.003", "--steps", "2"));
        assertTrue(r.out().contains("done: 2 steps"), r.out());
        compareWithGolden(run.resolve("weights.npz"), "bit/sgd/after_step2", 1e-6);
        double[] ref = Golden.npy("bit/sgd/losses_before_each_step.npy").toDoubles();
        List<Map<String, Object>> train = trainLines(run);
        assertEquals(2, train.size());
        for (int i = 0; i < 2; i++) {
            assertEquals((double) i, train.get(i).get("step"));
            assertEquals(0.003, train.get(i).get("lr"));
            assertClose("finetune loss of step " + i, new double[] {(Double) train.get(i).get("loss")}, new double[] {ref[i]}, 1e-5, 0);
        }
        // The run directory: config, classes, checkpoints in the official naming, curves.
        Map<String, Object> config = Json.readObject(run.resolve("config.json"));
        Map<?, ?> c = (Map<?, ?>) config.get("config");
        assertEquals(2.0, c.get("steps"));
        assertEquals("constant", c.get("schedule"));
        assertEquals(3.0, ((Map<?, ?>) config.get("data")).get("train_size"));
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6"), Files.readAllLines(run.resolve("classes.txt")));
        assertEquals("step-000002", Files.readString(run.resolve("checkpoints/latest")).strip());
        assertTrue(Files.size(run.resolve("curves.png")) > 1000);
        assertArrayEquals(Files.readAllBytes(run.resolve("weights.npz")), Files.readAllBytes(run.resolve("checkpoints/step-000002/weights.npz")));
        try (NpzReader state = NpzReader.open(run.resolve("checkpoints/step-000002/train_state.npz"))) {
            assertEquals(2, state.read("step").toLongs()[0]);
            assertEquals(45, state.keys().stream().filter(k -> k.startsWith("momentum/resnet/")).count());
        }
        // predict and info read the weights the run wrote.
        Run info = ok("info", run.resolve("weights.npz").toString());
        assertTrue(info.out().contains("8,022,599"), info.out());
    }

    @Test
    void microBatchesAccumulateToTheSameSteps(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        ok(args(goldenRun(goldenData(dir), run), "--schedule", "constant", "--lr", "0.003", "--steps", "2", "--batch-split", "3"));
        compareWithGolden(run.resolve("weights.npz"), "bit/sgd/after_step2", 1e-5);
        double[] ref = Golden.npy("bit/sgd/losses_before_each_step.npy").toDoubles();
        List<Map<String, Object>> train = trainLines(run);
        for (int i = 0; i < 2; i++) {
            assertClose("finetune loss of step " + i + " (3 micro-batches)", new double[] {(Double) train.get(i).get("loss")},
                    new double[] {ref[i]}, 1e-5, 0);
        }
    }

    @Test
    void officialWarmUpStartsAtLrZero(@TempDir Path dir) throws IOException {
        // Dataset size 3 → the rule's [100, 200, 300, 400, 500]; the run stops (as if killed) after step 2,
        // with a checkpoint after each step.
        Path run = dir.resolve("run");
        Run r = ok(args(goldenRun(goldenData(dir), run), "--checkpoint-every", "1", "--stop-after-step", "2"));
        assertTrue(r.out().contains("bit [100, 200, 300, 400, 500]"), r.out());
        assertTrue(r.out().contains("stopped after step 2"), r.out());
        assertFalse(Files.exists(run.resolve("weights.npz")), "a stopped run writes no final weights");
        List<Map<String, Object>> train = trainLines(run);
        assertEquals(2, train.size());
        assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits((Double) train.get(0).get("lr")));
        assertEquals(Double.doubleToRawLongBits(3.0e-5), Double.doubleToRawLongBits((Double) train.get(1).get("lr")));

        // Step 1 ran with lr 0: the weights are untouched, bit for bit.
        try (NpzReader w0 = NpzReader.open(WEIGHTS); NpzReader w1 = NpzReader.open(run.resolve("checkpoints/step-000001/weights.npz"))) {
            for (String k : w0.keys()) assertArrayEquals(w0.read(k).toFloats(), w1.read(k).toFloats(), k);
        }
        // Step 2: buf = 0.9·g + g at unchanged weights, so p = w0 − 3e-5·1.9·g.
        try (NpzReader w0 = NpzReader.open(WEIGHTS); NpzReader w2 = NpzReader.open(run.resolve("checkpoints/step-000002/weights.npz"));
             NpzReader grads = Golden.npz("bit/grads/grads_full_bit.npz");
             NpzReader gradSlices = Golden.npz("bit/grads/grads_outslices_bit.npz");
             NpzReader channels = Golden.npz("bit/grads/outslice_channels.npz")) {
            for (String k : grads.keys()) {
                double[] p0 = w0.read(k).toDoubles();
                double[] g = grads.read(k).toDoubles();
                double[] expected = new double[p0.length];
                for (int i = 0; i < p0.length; i++) expected[i] = p0[i] - 3e-5 * 1.9 * g[i];
                assertClose("warm-up step 2 " + k, w2.read(k).toDoubles(), expected, 1e-6, 0);
            }
            for (String k : gradSlices.keys()) {
                long[] idx = channels.read(k).toLongs();
                double[] p0 = outSlice(w0.read(k), idx);
                double[] g = gradSlices.read(k).toDoubles();
                double[] expected = new double[p0.length];
                for (int i = 0; i < p0.length; i++) expected[i] = p0[i] - 3e-5 * 1.9 * g[i];
                assertClose("warm-up step 2 slice " + k, outSlice(w2.read(k), idx), expected, 1e-6, 0);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Transfer modes

    @Test
    void frozenBackboneTrainsOnlyTheNewHead(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Run r = ok("finetune", "--data", goldenData(dir).toString(), "--weights", WEIGHTS.toString(), "--freeze-backbone",
                "--no-augment", "--resolution", "48", "--crop", "48", "--batch", "3", "--steps", "4", "--lr", "0.1",
                "--schedule", "constant", "--out", run.toString());
        assertTrue(r.out().contains("computing the training features once"), r.out());
        try (NpzReader w0 = NpzReader.open(WEIGHTS); NpzReader w = NpzReader.open(run.resolve("weights.npz"));
             NpzReader state = NpzReader.open(run.resolve("checkpoints/step-000004/train_state.npz"))) {
            for (String k : w0.keys()) {
                if (k.startsWith("resnet/head/")) continue;
                assertArrayEquals(w0.read(k).toFloats(), w.read(k).toFloats(), "backbone unchanged: " + k);
            }
            float[] kernel = w.read("resnet/head/conv2d/kernel").toFloats();
            assertTrue(Arrays.stream(box(kernel)).anyMatch(v -> v != 0), "the new zero head was trained");
            assertEquals(List.of("momentum/resnet/head/conv2d/kernel", "momentum/resnet/head/conv2d/bias"),
                    state.keys().stream().filter(k -> k.startsWith("momentum/")).toList());
        }
        List<Map<String, Object>> train = trainLines(run);
        assertEquals(4, train.size());
        assertClose("zero head: first loss is log(7)", new double[] {(Double) train.getFirst().get("loss")}, new double[] {Math.log(7)}, 1e-6, 0);
        assertTrue((Double) train.getLast().get("loss") < Math.log(7), "the head learns: " + train);
    }

    @Test
    void linearProbeFitsTheHeadInClosedForm(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Path data = goldenData(dir);
        ok("finetune", "--data", data.toString(), "--val", data.toString(), "--weights", WEIGHTS.toString(), "--linear-probe",
                "--ridge-lambda", "0.5", "--resolution", "48", "--crop", "48", "--batch", "3", "--out", run.toString());
        float[] prelogits = Golden.npy("bit/forward/prelogits.npy").toFloats();
        LinearProbe.Head expected = LinearProbe.fitRidge(prelogits, 3, 2048, LABELS, 7, 0.5);
        try (NpzReader w = NpzReader.open(run.resolve("weights.npz"))) {
            assertClose("probe head kernel", toDoubles(w.read("resnet/head/conv2d/kernel").toFloats()), toDoubles(expected.kernel()), 1e-4, 1e-3);
            assertClose("probe head bias", toDoubles(w.read("resnet/head/conv2d/bias").toFloats()), toDoubles(expected.bias()), 1e-4, 1e-3);
        }
        List<Map<String, Object>> evals = metrics(run).stream().filter(m -> m.containsKey("val_top1")).toList();
        assertEquals(1, evals.size());
        assertEquals(1.0, evals.getFirst().get("val_top1"), "the probe fits its 3 training examples");
        assertEquals(3.0, evals.getFirst().get("n"));
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static Float[] box(float[] f) {
        Float[] b = new Float[f.length];
        for (int i = 0; i < f.length; i++) b[i] = f[i];
        return b;
    }
}
