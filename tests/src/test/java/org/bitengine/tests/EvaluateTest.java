package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserErrorAndNoOutput;
import static org.bitengine.tests.CliRunner.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import javax.imageio.ImageIO;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.checkpoint.Checkpoints;
import org.bitengine.io.data.ImageFolderDataset;
import org.bitengine.io.image.Transforms;
import org.bitengine.io.json.Json;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.bitengine.models.registry.Models;
import org.bitengine.models.probe.LinearProbe;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code evaluate} end to end, in process, on a tiny image folder and a small random BiT. */
class EvaluateTest {

    /** Writes {@code perClass} noisy 20×20 PNGs per class into {@code root/<class>/}, each class its own hue. */
    static Path imageFolder(Path root, List<String> classes, int perClass, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] hues = {{220, 40, 40}, {40, 200, 60}, {50, 60, 230}, {230, 210, 40}, {200, 60, 200}};
        for (int c = 0; c < classes.size(); c++) {
            Path dir = Files.createDirectories(root.resolve(classes.get(c)));
            for (int i = 0; i < perClass; i++) {
                BufferedImage image = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 20; y++) {
                    for (int x = 0; x < 20; x++) {
                        int[] h = hues[c % hues.length];
                        int red = Math.clamp(h[0] + r.nextInt(-60, 61), 0, 255);
                        int green = Math.clamp(h[1] + r.nextInt(-60, 61), 0, 255);
                        int blue = Math.clamp(h[2] + r.nextInt(-60, 61), 0, 255);
                        image.setRGB(x, y, (red << 16) | (green << 8) | blue);
                    }
                }
                ImageIO.write(image, "png", dir.resolve("img" + i + ".png").toFile());
            }
        }
        return root;
    }

    static BitResNet randomModel(int classes, long seed) {
        return new BitResNet(new BitConfig(List.of(1, 1, 1, 1), 1, classes, false), ParameterStore.random(CpuBackend.get(), seed));
    }

    /** Saves {@code model} with its head replaced by {@code kernel} [features, classes] and {@code bias} [classes], if given. */
    static Path save(BitResNet model, Path file, LinearProbe.Head head) {
        Map<String, Tensor> params = new LinkedHashMap<>(model.parameters());
        if (head != null) {
            int features = model.config().featureSize();
            int classes = model.config().headSize();
            params.put(BitConfig.HEAD_KERNEL, Tensor.of(head.kernel(), 1, 1, features, classes));
            params.put("resnet/head/conv2d/bias", Tensor.of(head.bias(), classes));
        }
        Checkpoints.saveWeights(file, params);
        return file;
    }

    /** The eval transform at {@code crop} of every image of the folder, as one NHWC batch, with the labels. */
    record Inputs(float[] x, int[] labels, int n) {}

    static Inputs inputs(Path folder, int crop) {
        ImageFolderDataset data = ImageFolderDataset.open(folder, w -> {});
        int n = data.size();
        int per = crop * crop * 3;
        float[] x = new float[n * per];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(Transforms.eval(crop).apply(data.image(i), new SplittableRandom(0)), 0, x, i * per, per);
            labels[i] = data.label(i);
        }
        return new Inputs(x, labels, n);
    }

    static int argmax(float[] logits, int row, int classes) {
        int best = 0;
        for (int c = 1; c < classes; c++) if (logits[row * classes + c] > logits[row * classes + best]) best = c;
        return best;
    }

    static final List<String> CLASSES = List.of("apple", "banana", "cherry");

    /**
     * A head fitted by ridge regression on the features of the very images evaluated scores 100 %
     * (9 examples, 2048 features: the fit interpolates); the JSON's numbers match running the saved
     * checkpoint by hand, and the confusion files appear in --out.
     */
    @Test
    void jsonMatchesRunningTheModelByHand(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("data"), CLASSES, 3, 1);
        BitResNet body = randomModel(3, 7);
        Inputs in = inputs(data, 32);
        float[] features = body.features(Tensor.of(in.x(), in.n(), 32, 32, 3)).toFloatArray();
        LinearProbe.Head head = LinearProbe.fitRidge(features, in.n(), 2048, in.labels(), 3, 1e-3);
        Path weights = Files.createDirectories(dir.resolve("run")).resolve("weights.npz");
        save(body, weights, head);

        Path out = dir.resolve("report");
        Run r = cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--crop", "32", "--json",
                "--out", out.toString(), "--batch-size", "4");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.out().lines().count(), "exactly one line on stdout: " + r.out());
        Map<String, Object> json = Json.parseObject(r.out().strip(), "evaluate --json");

        BitResNet loaded = (BitResNet) Models.load(weights, CpuBackend.get()).model();
        float[] logits = loaded.forward(Tensor.of(in.x(), in.n(), 32, 32, 3)).toFloatArray();
        int right = 0;
        for (int i = 0; i < in.n(); i++) if (argmax(logits, i, 3) == in.labels()[i]) right++;
        assertEquals(9, right, "a ridge head on 9 examples of 2048 features fits them all");
        assertEquals((double) right / in.n(), (Double) json.get("top1"), 1e-12);
        assertEquals(1.0, json.get("top5"));
        assertEquals(9.0, json.get("n"));
        assertEquals(Map.of("apple", 1.0, "banana", 1.0, "cherry", 1.0), json.get("per_class"));
        assertTrue(Files.readString(out.resolve("confusion.csv")).startsWith("true\\predicted,apple,banana,cherry\napple,3,0,0\n"));
        assertTrue(ImageIO.read(out.resolve("confusion.png").toFile()).getWidth() > 100);
    }

    /** A random head: whatever the accuracy, the text report and the JSON agree with a run by hand. */
    @Test
    void textReportAndDefaults(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("data"), CLASSES, 2, 2);
        Path weights = save(randomModel(3, 11), dir.resolve("weights.npz"), null);
        Run r = cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--crop", "24");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("crop:     24 (--crop)"), r.out());
        assertTrue(r.out().contains("n:        6"), r.out());
        assertTrue(r.out().contains("top-3:    100.00%"), "k = min(5, classes): " + r.out());
        for (String c : CLASSES) assertTrue(r.out().lines().anyMatch(l -> l.startsWith(c + " ")), c + " row in: " + r.out());
        // Without --out, the files go beside the weights.
        assertTrue(Files.isRegularFile(dir.resolve("confusion.csv")));
        assertTrue(Files.isRegularFile(dir.resolve("confusion.png")));

        BitResNet model = (BitResNet) Models.load(weights, CpuBackend.get()).model();
        Inputs in = inputs(data, 24);
        float[] logits = model.forward(Tensor.of(in.x(), in.n(), 24, 24, 3)).toFloatArray();
        int right = 0;
        for (int i = 0; i < in.n(); i++) if (argmax(logits, i, 3) == in.labels()[i]) right++;
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "top-1:    %.2f%%", 100.0 * right / in.n())), r.out());

        // No --crop: the config.json of the run (its "config" object) decides...
        Files.writeString(dir.resolve("config.json"), "{\"config\": {\"crop\": 28, \"batch\": 512}, \"classes\": 3}");
        r = cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--out", dir.resolve("o1").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("crop:     28 (" + dir.resolve("config.json")), r.out());
        // ...and without one, BiT-HyperRule: 20x20 images are under 96x96, so 128.
        Files.delete(dir.resolve("config.json"));
        r = cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--json", "--out", dir.resolve("o2").toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> json = Json.parseObject(r.out().strip(), "evaluate --json");
        in = inputs(data, 128);
        logits = model.forward(Tensor.of(in.x(), in.n(), 128, 128, 3)).toFloatArray();
        right = 0;
        for (int i = 0; i < in.n(); i++) if (argmax(logits, i, 3) == in.labels()[i]) right++;
        assertEquals((double) right / in.n(), (Double) json.get("top1"), 1e-12, "evaluated at 128x128");
    }

    @Test
    void classesTxtBesideTheWeights(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("data"), CLASSES, 1, 3);
        Path weights = save(randomModel(3, 5), dir.resolve("weights.npz"), null);

        // The run's names in another order: labels are matched by name.
        Files.writeString(dir.resolve("classes.txt"), "cherry\napple\nbanana\n");
        Run r = cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--crop", "16", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> perClass = (Map<String, Object>) Json.parseObject(r.out().strip(), "json").get("per_class");
        assertEquals(List.of("cherry", "apple", "banana"), List.copyOf(perClass.keySet()));

        // Other names, same count: matched by index, with a warning.
        Files.writeString(dir.resolve("classes.txt"), "x\ny\nz\n");
        r = cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--crop", "16", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("matched by index"), r.err());
        assertEquals(1, r.out().lines().count());

        // A classes.txt that does not fit the head.
        Files.writeString(dir.resolve("classes.txt"), "x\ny\n");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", weights.toString(), "--data", data.toString(), "--crop", "16"),
                "classes.txt", "2", "3");
    }

    @Test
    void badInputGetsOneLine(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("data"), CLASSES, 1, 4);
        Path two = imageFolder(dir.resolve("two"), List.of("a", "b"), 1, 4);
        Path weights = save(randomModel(3, 5), dir.resolve("weights.npz"), null);
        String w = weights.toString();

        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", dir.resolve("nope").toString()), "nope");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", two.toString(), "--crop", "16"), "has 2 classes", "has 3");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", dir.resolve("missing.npz").toString(), "--data", data.toString()), "missing.npz");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", data.toString(), "--batch-size", "0"), "--batch-size");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", data.toString(), "--crop", "0"), "--crop");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", data.toString(), "--split", "dev"), "--split");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w), "--data");
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", data.toString(), "--out", file.toString()), "file.txt");
        Files.writeString(dir.resolve("config.json"), "{\"crop\": \"big\"}");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", data.toString()), "config.json", "crop");
        Files.writeString(dir.resolve("config.json"), "{\"crop\": 12,");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", w, "--data", data.toString()), "config.json");
        Path garbage = Files.writeString(dir.resolve("garbage.npz"), "not a zip");
        assertUserErrorAndNoOutput(cli("evaluate", "--weights", garbage.toString(), "--data", data.toString()), "garbage.npz");
    }
}
