package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserErrorAndNoOutput;
import static org.bitengine.tests.CliRunner.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.image.ImageDecoder;
import org.bitengine.io.image.Transforms;
import org.bitengine.io.json.Json;
import org.bitengine.models.bit.BitResNet;
import org.bitengine.models.registry.Models;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code predict --images} end to end, in process. */
class PredictImagesTest {

    static final List<String> CLASSES = List.of("apple", "banana", "cherry");

    /** Softmax probabilities of one image at {@code crop}, computed here without the CLI. */
    static double[] probabilities(BitResNet model, Path image, int crop) {
        float[] x = Transforms.eval(crop).apply(ImageDecoder.decode(image), new SplittableRandom(0));
        float[] logits = model.forward(Tensor.of(x, 1, crop, crop, 3)).toFloatArray();
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    private static final Pattern ENTRY = Pattern.compile("(.+?) \\(p(=|<)(\\d\\.\\d\\d)\\)");

    @Test
    void foldersAndFilesGiveOneLineEach(@TempDir Path dir) throws IOException {
        Path data = EvaluateTest.imageFolder(dir.resolve("data"), CLASSES, 2, 5);
        Files.writeString(data.resolve("apple/notes.txt"), "not an image");
        Path weights = EvaluateTest.save(EvaluateTest.randomModel(3, 21), dir.resolve("weights.npz"), null);
        Files.writeString(dir.resolve("classes.txt"), String.join("\n", CLASSES) + "\n");
        Path single = data.resolve("cherry/img1.png");

        Run r = cli("predict", "--weights", weights.toString(), "--images", data.resolve("apple").toString(),
                data.resolve("banana").toString(), single.toString(), "--top-k", "2", "--crop", "32", "--batch-size", "3");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        List<Path> expected = List.of(data.resolve("apple/img0.png"), data.resolve("apple/img1.png"),
                data.resolve("banana/img0.png"), data.resolve("banana/img1.png"), single);
        assertEquals(expected.size(), lines.size(), r.out());

        BitResNet model = (BitResNet) Models.load(weights, CpuBackend.get()).model();
        for (int i = 0; i < lines.size(); i++) {
            String[] parts = lines.get(i).split("\t");
            assertEquals(2, parts.length, lines.get(i));
            assertEquals(expected.get(i).toString(), parts[0]);
            String[] entries = parts[1].split(", ");
            assertEquals(2, entries.length, "--top-k 2: " + lines.get(i));
            double[] p = probabilities(model, expected.get(i), 32);
            Matcher m = ENTRY.matcher(entries[0]);
            assertTrue(m.matches(), entries[0]);
            assertEquals(CLASSES.get(argmax(p)), m.group(1));
            assertEquals(String.format(java.util.Locale.ROOT, "%.2f", p[argmax(p)]), m.group(3));
        }
    }

    @Test
    void jsonLinesWithClassIndicesAndTheDefaultCrop(@TempDir Path dir) throws IOException {
        Path data = EvaluateTest.imageFolder(dir.resolve("data"), CLASSES, 1, 6);
        Path weights = EvaluateTest.save(EvaluateTest.randomModel(3, 22), dir.resolve("weights.npz"), null);
        // No classes.txt: class indices; no --crop and no config.json: BiT-HyperRule, 128 for 20x20 images.
        Run r = cli("predict", "--weights", weights.toString(), "--images", data.toString(), "--json", "--top-k", "10");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        BitResNet model = (BitResNet) Models.load(weights, CpuBackend.get()).model();
        for (String line : lines) {
            Map<String, Object> o = Json.parseObject(line, "predict --json");
            Path image = Path.of((String) o.get("path"));
            double[] p = probabilities(model, image, 128);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> top = (List<Map<String, Object>>) o.get("top");
            assertEquals(3, top.size(), "--top-k is capped at the number of classes");
            double sum = 0;
            double previous = 1;
            List<String> labels = new ArrayList<>();
            for (Map<String, Object> t : top) {
                int c = ((Double) t.get("class")).intValue();
                double prob = (Double) t.get("p");
                assertEquals(p[c], prob, 1e-5, "probability of class " + c + " at 128x128");
                assertTrue(prob <= previous);
                previous = prob;
                sum += prob;
                labels.add((String) t.get("label"));
                assertEquals(Integer.toString(c), t.get("label"));
            }
            assertEquals(1.0, sum, 1e-9);
            assertEquals(3, labels.stream().distinct().count());
        }

        // config.json's crop beats the HyperRule.
        Files.writeString(dir.resolve("config.json"), "{\"config\": {\"crop\": 24}}");
        Path one = data.resolve("banana/img0.png");
        r = cli("predict", "--weights", weights.toString(), "--images", one.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> top = (List<Map<String, Object>>) Json.parseObject(r.out().strip(), "json").get("top");
        double[] p = probabilities(model, one, 24);
        assertEquals(p[((Double) top.getFirst().get("class")).intValue()], (Double) top.getFirst().get("p"), 1e-5);
    }

    @Test
    void unreadableImages(@TempDir Path dir) throws IOException {
        Path data = EvaluateTest.imageFolder(dir.resolve("data"), CLASSES, 1, 7);
        Path weights = EvaluateTest.save(EvaluateTest.randomModel(3, 23), dir.resolve("weights.npz"), null);
        Path broken = Files.writeString(data.resolve("banana/broken.png"), "not a png");
        // Inside a folder: a warning, the other images are still predicted.
        Run r = cli("predict", "--weights", weights.toString(), "--images", data.toString(), "--crop", "16");
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.out().lines().count(), r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("warning") && r.err().contains("broken.png"), r.err());
        // Named on the command line: an error.
        assertUserErrorAndNoOutput(cli("predict", "--weights", weights.toString(), "--images", broken.toString(), "--crop", "16"), "broken.png");
    }

    @Test
    void badInputGetsOneLine(@TempDir Path dir) throws IOException {
        Path data = EvaluateTest.imageFolder(dir.resolve("data"), CLASSES, 1, 8);
        Path weights = EvaluateTest.save(EvaluateTest.randomModel(3, 24), dir.resolve("weights.npz"), null);
        String w = weights.toString();
        Path image = data.resolve("apple/img0.png");
        Path npy = Golden.path("bit/forward/input_nhwc.npy");

        assertUserErrorAndNoOutput(cli("predict", "--weights", w), "--input-npy", "--images");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", image.toString(), "--input-npy", npy.toString()), "exactly one");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", dir.resolve("nope.jpg").toString()), "nope.jpg");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", empty.toString()), "empty", "no .jpg");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", image.toString(), "--top-k", "0"), "--top-k");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", image.toString(), "--crop", "0"), "--crop");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", image.toString(), "--output", "y.npy"), "--output");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--input-npy", npy.toString(), "--output", dir.resolve("y.npy").toString(), "--json"), "--json");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--input-npy", npy.toString()), "--output");
        Files.writeString(dir.resolve("classes.txt"), "a\nb\nc\nd\n");
        assertUserErrorAndNoOutput(cli("predict", "--weights", w, "--images", image.toString(), "--crop", "16"), "classes.txt", "4", "3");
    }
}
