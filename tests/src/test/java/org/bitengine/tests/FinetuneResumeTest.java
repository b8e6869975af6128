package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.FinetuneTest.TINY;
import static org.bitengine.tests.FinetuneTest.args;
import static org.bitengine.tests.FinetuneTest.metrics;
import static org.bitengine.tests.FinetuneTest.syntheticData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.bitengine.io.npy.NpzReader;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune --resume}: a run interrupted after a checkpoint and resumed ends with the same
 * weights, bit for bit, as the same run uninterrupted — with augmentation, shuffling, MixUp,
 * micro-batches, a warm-up schedule and evaluations all in play. The interruption is simulated in
 * process ({@code --stop-after-step}) and done for real by killing a {@code bit-engine.jar} process.
 */
class FinetuneResumeTest {

    @TempDir
    static Path shared;

    static Path data;
    static Path reference;

    /** Everything random is on: augmentation, shuffling, MixUp, micro-batches, a seeded validation split. */
    static String[] config(Path out, int steps) {
        return args("finetune", "--data", data, "--out", out, TINY, "--resolution", "20", "--crop", "16", "--batch", "8",
                "--batch-split", "2", "--mixup", "0.2", "--steps", steps, "--lr", "0.01", "--val-split", "0.25",
                "--eval-every", "2", "--checkpoint-every", "2", "--seed", "5", "--threads", "2");
    }

    @BeforeAll
    static void uninterruptedRun() {
        data = syntheticData(shared, "data.npz", 32, 16, 4, 11);
        reference = shared.resolve("uninterrupted");
        ok(config(reference, 8));
    }

    @Test
    void resumeAfterAStopEndsBitIdentical(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        Run stopped = ok(args(config(run, 8), "--stop-after-step", "3"));
        assertTrue(stopped.out().contains("stopped after step 3"), stopped.out());
        assertFalse(Files.exists(run.resolve("weights.npz")));
        // Step 3 was trained and logged, but the latest checkpoint is the one after step 2.
        assertEquals("step-000002", Files.readString(run.resolve("checkpoints/latest")).strip());
        assertEquals(3, FinetuneTest.trainLines(run).size());

        Run resumed = ok("finetune", "--resume", run.toString());
        assertTrue(resumed.out().contains("from step-000002"), resumed.out());
        assertSameRun(reference, run, 8);
    }

    @Test
    void resumeAfterAKilledProcessEndsBitIdentical(@TempDir Path dir) throws Exception {
        Path jar = Path.of("..", "models", "target", "bit-engine.jar");
        Assumptions.assumeTrue(Files.isRegularFile(jar), "bit-engine.jar not built (run mvn package first): " + jar.toAbsolutePath());
        Path run = dir.resolve("run");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(List.of(config(run, 8)));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("stdout.txt").toFile())
                .redirectError(dir.resolve("stderr.txt").toFile()).start();
        Path latest = run.resolve("checkpoints").resolve("latest");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(latest) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
        p.waitFor();
        assertTrue(Files.exists(latest), "the run wrote a checkpoint before the kill; stderr: " + Files.readString(dir.resolve("stderr.txt")));
        assertFalse(Files.exists(run.resolve("weights.npz")), "the process was killed before it finished: "
                + Files.readString(dir.resolve("stdout.txt")));

        Run resumed = ok("finetune", "--resume", run.toString());
        assertTrue(resumed.out().contains("resuming"), resumed.out());
        assertSameRun(reference, run, 8);
        for (File f : run.resolve("checkpoints").toFile().listFiles()) {
            assertFalse(f.getName().contains(".tmp-"), "no temporary leftovers: " + f);
        }
    }

    @Test
    void resumeTakesNoOtherTrainingFlags(@TempDir Path dir) {
        Run r = cli("finetune", "--resume", reference.toString(), "--lr", "0.1");
        assertUserError(r, "--lr", "--resume");
        assertUserError(cli("finetune", "--resume", dir.resolve("nothing").toString()), "nothing", "no such directory");
    }

    /**
     * Same final weights and, in the checkpoint of {@code lastStep}, momentum (bit for bit); same logged
     * losses, learning rates and evaluations.
     */
    static void assertSameRun(Path a, Path b, int lastStep) throws IOException {
        assertArrayEquals(Files.readAllBytes(a.resolve("weights.npz")), Files.readAllBytes(b.resolve("weights.npz")),
                "final weights bit-identical");
        String state = String.format("checkpoints/step-%06d/train_state.npz", lastStep);
        try (NpzReader sa = NpzReader.open(a.resolve(state)); NpzReader sb = NpzReader.open(b.resolve(state))) {
            assertEquals(sa.keys(), sb.keys());
            for (String k : sa.keys()) {
                if (k.equals("elapsed_s")) continue;
                assertArrayEquals(sa.read(k).toRawBytes(), sb.read(k).toRawBytes(), "train state " + k);
            }
        }
        assertEquals(withoutTimes(metrics(a)), withoutTimes(metrics(b)), "metrics.jsonl (timings aside)");
    }

    private static List<Map<String, Object>> withoutTimes(List<Map<String, Object>> lines) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> m : lines) {
            Map<String, Object> c = new LinkedHashMap<>(m);
            c.remove("img_per_s");
            c.remove("elapsed_s");
            out.add(c);
        }
        return out;
    }
}
