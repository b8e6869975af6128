package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on the bundled sample (samples/fashion-mnist-small: 10 classes × 300 training and 100 test
 * 28×28 PNGs): a small BiT from a random init, trained on the CPU with the BiT-HyperRule schedule scaled
 * to 200 steps, must classify the test images well above chance (10%).
 */
class FinetuneSampleTest {

    private static final Path SAMPLE = Path.of("..", "samples", "fashion-mnist-small");

    @Test
    void smallBitLearnsFashionMnist(@TempDir Path dir) throws Exception {
        assertTrue(Files.isDirectory(SAMPLE.resolve("train")), "the bundled sample is missing: " + SAMPLE.toAbsolutePath());
        Path run = dir.resolve("run");
        long t0 = System.nanoTime();
        Run r = ok("finetune", "--data", SAMPLE.toString(), "--out", run.toString(), "--block-units", "1,1,1,1",
                "--width", "1", "--resolution", "32", "--crop", "28", "--steps", "200", "--batch", "32", "--lr", "0.01",
                "--eval-every", "0", "--seed", "0");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.out().contains("validation   the test split of"), r.out());
        List<Map<String, Object>> evals = FinetuneTest.metrics(run).stream().filter(m -> m.containsKey("val_top1")).toList();
        assertEquals(1, evals.size(), "one evaluation, at the end");
        Map<String, Object> last = evals.getLast();
        assertEquals(200.0, last.get("step"));
        assertEquals(1000.0, last.get("n"), "the whole test split");
        double top1 = (Double) last.get("val_top1");
        System.out.printf(Locale.ROOT, "fashion-mnist-small: test top-1 %.4f, top-5 %.4f after 200 steps (batch 32) in %.0f s%n",
                top1, (Double) last.get("val_top5"), seconds);
        assertTrue(top1 >= 0.6, "test accuracy " + top1 + " (chance is 0.1)");
        assertEquals(200, FinetuneTest.trainLines(run).size());
        assertTrue(Files.size(run.resolve("curves.png")) > 1000);
        assertEquals(10, Files.readAllLines(run.resolve("classes.txt")).size());
    }
}
