package org.bitengine.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.io.json.Json;
import org.bitengine.io.npy.NpzReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run directory's files: checkpoints written atomically and pruned, train state, metrics, config. */
class RunFilesTest {

    private static Map<String, Tensor> params(float v) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("resnet/a/kernel", Tensor.of(new float[] {v, v + 1, v + 2, v + 3}, 1, 1, 2, 2));
        m.put("resnet/a/bias", Tensor.of(new float[] {-v}, 1));
        return m;
    }

    private static TrainState state(int step) {
        Map<String, float[]> mom = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        mom.put("momentum/resnet/a/kernel", new float[] {0.5f, -0.25f, 1e-30f, 3});
        shapes.put("momentum/resnet/a/kernel", new int[] {1, 1, 2, 2});
        return new TrainState(step, 99, 12.5, mom, shapes, 3, 0.75, 1, 2, false);
    }

    @Test
    void checkpointsAreCompleteAndOnlyTheLastTwoKept(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        run.create(false);
        assertTrue(run.latest().isEmpty());
        for (int step : new int[] {10, 20, 30}) run.saveCheckpoint(step, params(step), Map.of(), state(step).toArrays());
        RunDir.Checkpoint latest = run.latest().orElseThrow();
        assertEquals(30, latest.step());
        assertEquals("step-000030\n", Files.readString(run.checkpoints().resolve("latest")));
        try (Stream<Path> s = Files.list(run.checkpoints())) {
            assertEquals(List.of("latest", "step-000020", "step-000030"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (NpzReader r = NpzReader.open(latest.weights())) {
            assertEquals(List.of("resnet/a/kernel", "resnet/a/bias"), r.keys());
            assertArrayEquals(new float[] {30, 31, 32, 33}, r.read("resnet/a/kernel").toFloats());
        }
        TrainState back = TrainState.read(latest.state());
        assertEquals(30, back.step());
        assertEquals(99, back.seed());
        assertEquals(12.5, back.elapsedSeconds());
        assertArrayEquals(new float[] {0.5f, -0.25f, 1e-30f, 3}, back.optimizer().get("momentum/resnet/a/kernel"));
        assertArrayEquals(new int[] {1, 1, 2, 2}, back.optimizerShapes().get("momentum/resnet/a/kernel"));
        assertEquals(java.util.Set.of("momentum/resnet/a/kernel"), back.optimizer().keySet());
        assertEquals(3, back.bestStep());
        assertEquals(0.75, back.bestTop1());
        assertEquals(1, back.evalsSinceBest());
        assertEquals(2, back.lastEvalStep());
        assertFalse(back.earlyStopped());
    }

    @Test
    void leftoversOfAKilledRunAreRemovedAndReplaced(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        run.create(false);
        run.saveCheckpoint(10, params(1), Map.of(), state(10).toArrays());
        // A kill while writing step 20 leaves a temporary directory; a kill between the rename and
        // the update of latest leaves a complete step-000020 that latest does not name.
        Files.createDirectories(run.checkpoints().resolve("step-000020.tmp-0123456789abcdef"));
        Files.createDirectories(run.checkpoints().resolve("step-000020"));
        Files.writeString(run.checkpoints().resolve("step-000020/weights.npz"), "half");
        Files.writeString(run.root().resolve("metrics.jsonl.tmp-00ff"), "x");
        assertEquals(10, run.latest().orElseThrow().step());
        run.removeLeftovers();
        assertFalse(Files.exists(run.checkpoints().resolve("step-000020.tmp-0123456789abcdef")));
        assertFalse(Files.exists(run.root().resolve("metrics.jsonl.tmp-00ff")));
        run.saveCheckpoint(20, params(2), Map.of(), state(20).toArrays());
        try (NpzReader r = NpzReader.open(run.latest().orElseThrow().weights())) {
            assertArrayEquals(new float[] {-2}, r.read("resnet/a/bias").toFloats());
        }
    }

    @Test
    void aLatestPointingNowhereIsReported(@TempDir Path dir) throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        run.create(false);
        Files.writeString(run.checkpoints().resolve("latest"), "step-000005\n");
        BitEngineException e = assertThrows(BitEngineException.class, run::latest);
        assertTrue(e.getMessage().contains("step-000005"), e.getMessage());
    }

    @Test
    void existingDirectoriesAreRefusedUnlessOverwritten(@TempDir Path dir) throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        RunDir.checkNew(empty, false); // an empty directory is fine
        RunDir.checkNew(dir.resolve("new"), false);
        Path used = Files.createDirectories(dir.resolve("used"));
        Files.writeString(used.resolve("notes.txt"), "mine");
        BitEngineException e = assertThrows(BitEngineException.class, () -> RunDir.checkNew(used, false));
        assertTrue(e.getMessage().contains("--resume") && e.getMessage().contains("--overwrite"), e.getMessage());
        e = assertThrows(BitEngineException.class, () -> RunDir.checkNew(used, true));
        assertTrue(e.getMessage().contains("not a bit-engine run directory"), e.getMessage());
        Files.writeString(used.resolve("config.json"), "{}");
        RunDir.checkNew(used, true);
        new RunDir(used).create(true);
        assertFalse(Files.exists(used.resolve("notes.txt")));
        assertTrue(Files.isDirectory(used.resolve("checkpoints")));
    }

    @Test
    void metricsAreCutBackToTheCheckpointOnResume(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsFile m = MetricsFile.append(file)) {
            for (int s = 0; s < 6; s++) {
                m.train(s, 1.0 / (s + 1), 0.003, 10, s);
                if ((s + 1) % 2 == 0) m.eval(s + 1, 0.5, 0.25, 0.75, 100);
            }
        }
        Files.writeString(file, Files.readString(file) + "{\"step\":6,\"lo", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        MetricsFile.truncateForResume(file, 4);
        List<String> lines = Files.readAllLines(file);
        assertEquals(6, lines.size(), lines.toString()); // train 0..3, eval 2 and 4
        Map<String, Object> last = Json.parseObject(lines.getLast(), "line");
        assertEquals(4.0, last.get("step"));
        assertEquals(0.25, last.get("val_top1"));
        Map<String, Object> first = Json.parseObject(lines.getFirst(), "line");
        assertEquals(List.of("step", "loss", "lr", "img_per_s", "elapsed_s"), List.copyOf(first.keySet()));
        assertEquals(1.0, first.get("loss"));
    }

    @Test
    void configRoundTripsThroughJson() {
        TrainConfig c = new TrainConfig("/d", null, 0.15, 5, null, "custom", List.of(1, 1, 1, 1), 2, "bit", Preprocessing.MINUS1_1, null,
                false, true, 0, 0, 0, false,
                64, 4, 16, Schedule.bit(new int[] {10, 20, 30, 40, 50}, 0.003 * 64 / 512), 0.1, 32, 28, true,
                TrainConfig.Mode.FROZEN_BACKBONE, 0, 1.0, "sgd", 10, 5, 3, 123456789L, 2, "cpu");
        @SuppressWarnings("unchecked")
        Map<String, Object> parsed = (Map<String, Object>) Json.parse(Json.pretty(c.toMap()));
        assertEquals(c, TrainConfig.fromMap(parsed, "config.json"));
        TrainConfig e0 = new TrainConfig("/d", "/v", null, null, "/w.npz", "efficientnet-b0", List.of(), 0, "torchvision",
                Preprocessing.keras(new double[] {0.4, 0.5, 0.6}, new double[] {0.05, 0.06, 0.07}, true), 1e-5, false, true, 0.15, 0.1, 0.1, true, 8, 1, 8, Schedule.constant(30, 1e-4), 0, 64, 64,
                false, TrainConfig.Mode.UNFREEZE_TOP, 20, 1.0, "adam", 10, 10, 0, 7, 2, "cpu");
        @SuppressWarnings("unchecked")
        Map<String, Object> parsedE = (Map<String, Object>) Json.parse(Json.pretty(e0.toMap()));
        assertEquals(e0, TrainConfig.fromMap(parsedE, "config.json"));
        // A config.json written before these keys existed reads with the values such runs had.
        for (String k : List.of("convention", "preprocessing", "input_mean", "input_std", "bn_eps", "random_rotation", "random_translation",
                "random_contrast", "unfreeze_top", "optimizer")) {
            parsed.remove(k);
        }
        assertEquals(c, TrainConfig.fromMap(parsed, "config.json"));
        parsed.put("batch", "many");
        BitEngineException e = assertThrows(BitEngineException.class, () -> TrainConfig.fromMap(parsed, "config.json"));
        assertTrue(e.getMessage().startsWith("config.json: key \"config\".batch"), e.getMessage());
    }
}
