package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.FinetuneTest.TINY;
import static org.bitengine.tests.FinetuneTest.args;
import static org.bitengine.tests.FinetuneTest.syntheticData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.bitengine.io.npy.NpzReader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training process killed with SIGKILL again and again, at random moments within steps and in the
 * middle of checkpoint writes, then resumed each time: after every kill each checkpoint on disk is complete
 * (every entry reads back with its CRC) and {@code latest} names one, and the run finally ends with
 * the weights, optimizer state and metrics of an uninterrupted run, bit for bit.
 */
class CrashSafetyTest {

    /**
     * Kills before the run is allowed to finish: alternately the moment a checkpoint write starts and
     * at a random moment after a step was logged; each kill of the second kind lets the run advance
     * a step or two, so sixteen steps outlast them.
     */
    private static final int KILLS = 12;

    static String[] config(Path data, Path out) {
        return config(data, out, 16, 4, 1);
    }

    /** A tiny BiT run that exercises micro-batches, MixUp, evaluation and checkpoints on every step kind. */
    static String[] config(Path data, Path out, int steps, int evalEvery, int checkpointEvery) {
        return args("finetune", "--data", data, "--out", out, TINY, "--resolution", "20", "--crop", "16", "--batch", "8",
                "--batch-split", "2", "--mixup", "0.2", "--steps", steps, "--lr", "0.01", "--val-split", "0.25",
                "--eval-every", evalEvery, "--checkpoint-every", checkpointEvery, "--seed", "5", "--threads", "2");
    }

    @Test
    void killedAtRandomManyTimesThenResumedEndsBitIdentical(@TempDir Path dir) throws Exception {
        Path jar = Path.of("..", "models", "target", "bit-engine.jar").toAbsolutePath();
        Assumptions.assumeTrue(Files.isRegularFile(jar), "bit-engine.jar not built (run mvn package first): " + jar);
        Path data = syntheticData(dir, "data.npz", 32, 16, 4, 11);
        Path reference = dir.resolve("reference");
        ok(config(data, reference));

        Path run = dir.resolve("run");
        SplittableRandom rng = new SplittableRandom(8);
        int kills = 0;
        int duringCheckpointWrites = 0;
        boolean finished = false;
        for (int attempt = 0; !finished; attempt++) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-jar", jar.toString()));
            cmd.addAll(List.of(attempt == 0 ? config(data, run) : new String[] {"finetune", "--resume", run.toString()}));
            int stepsBefore = trainLines(run);
            Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("stdout-" + attempt + ".txt").toFile())
                    .redirectError(dir.resolve("stderr-" + attempt + ".txt").toFile()).start();
            if (kills < KILLS) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                if (attempt % 2 == 0) {
                    // A temporary file or directory in checkpoints/ means a checkpoint is being written.
                    while (p.isAlive() && System.nanoTime() < deadline && !writingCheckpoint(run)) Thread.sleep(1);
                } else {
                    // Once this process has logged a step: somewhere in the next step, its checkpoint or an evaluation.
                    while (p.isAlive() && System.nanoTime() < deadline && trainLines(run) <= stepsBefore) Thread.sleep(1);
                    Thread.sleep(rng.nextInt(0, 300));
                }
                if (p.isAlive()) {
                    duringCheckpointWrites += attempt % 2 == 0 && writingCheckpoint(run) ? 1 : 0;
                    p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
                    kills++;
                }
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "attempt " + attempt + " ended");
            finished = p.exitValue() == 0;
            if (!finished) {
                assertEquals(137, p.exitValue(), "attempt " + attempt + " was killed, it did not fail: "
                        + Files.readString(dir.resolve("stderr-" + attempt + ".txt")));
            }
            assertCheckpointsComplete(run);
        }
        System.out.printf("%d SIGKILLs (%d during checkpoint writes), then a run to the end%n", kills, duringCheckpointWrites);
        assertEquals(KILLS, kills);
        assertTrue(duringCheckpointWrites >= KILLS / 4, "kills during checkpoint writes: " + duringCheckpointWrites);
        FinetuneResumeTest.assertSameRun(reference, run, 16);
    }

    /** Complete train lines in metrics.jsonl (a line a kill cut short does not count). */
    private static int trainLines(Path run) throws IOException {
        Path metrics = run.resolve("metrics.jsonl");
        if (!Files.exists(metrics)) return 0;
        return (int) Files.readAllLines(metrics).stream().filter(l -> l.startsWith("{\"step\"") && l.contains("\"loss\"") && l.endsWith("}")).count();
    }

    private static boolean writingCheckpoint(Path run) throws IOException {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(f -> f.getFileName().toString().contains(".tmp-"));
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    /** Every step directory holds both files, complete; latest (if written yet) names one of them. */
    private static void assertCheckpointsComplete(Path run) throws IOException {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) return;
        List<Path> steps;
        try (Stream<Path> s = Files.list(dir)) {
            steps = s.filter(f -> f.getFileName().toString().matches("step-\\d{6}")).toList();
        }
        for (Path step : steps) {
            for (String f : List.of("weights.npz", "train_state.npz")) {
                try (NpzReader r = NpzReader.open(step.resolve(f))) {
                    assertFalse(r.keys().isEmpty(), step + "/" + f);
                    r.keys().forEach(r::read); // every entry's CRC-32 checks out
                }
            }
        }
        Path latest = dir.resolve("latest");
        if (Files.exists(latest)) {
            String name = Files.readString(latest).strip();
            assertTrue(steps.contains(dir.resolve(name)), "latest names the complete checkpoint " + name);
        }
    }
}
