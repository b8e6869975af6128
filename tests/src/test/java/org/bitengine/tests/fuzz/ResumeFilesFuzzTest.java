package org.bitengine.tests.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.fuzz.FuzzSupport;
import org.bitengine.io.json.Json;
import org.bitengine.models.train.MetricsFile;
import org.bitengine.models.train.RunDir;
import org.bitengine.models.train.TrainConfig;
import org.bitengine.models.train.TrainState;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code finetune --resume} reads from a run directory, each given the fuzzer's bytes:
 * config.json (its "config" object), metrics.jsonl (cut back to the checkpoint), checkpoints/latest
 * and the checkpoint's train_state.npz. Seeds are the files of a real run.
 */
class ResumeFilesFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void resume(byte[] input) throws IOException {
        RunDir run = new RunDir(dir);
        Files.createDirectories(run.checkpoints().resolve("step-000001"));

        Path config = FuzzSupport.write(dir, RunDir.CONFIG, input);
        FuzzSupport.expectOwnErrors(input.length, 256, () -> {
            Map<String, Object> json = Json.readObject(config);
            if (!(json.get("config") instanceof Map<?, ?> m)) throw new BitEngineException("no config object");
            @SuppressWarnings("unchecked")
            TrainConfig c = TrainConfig.fromMap((Map<String, Object>) m, config.toString());
            // What resume accepted, written the way a run writes it, reads back to the same configuration.
            String written = Json.write(c.toMap());
            assertEquals(written, Json.write(TrainConfig.fromMap(Json.parseObject(written, "written"), "written").toMap()));
        });

        Path metrics = FuzzSupport.write(dir, RunDir.METRICS, input);
        FuzzSupport.expectOwnErrors(input.length, 256, () -> {
            MetricsFile.truncateForResume(metrics, 1);
            assertTrue(Files.size(metrics) <= input.length + 1, "truncating only removes lines (and ends the last one)");
        });

        FuzzSupport.write(run.checkpoints(), RunDir.LATEST, input);
        FuzzSupport.write(run.checkpoints().resolve("step-000001"), RunDir.WEIGHTS, new byte[0]);
        FuzzSupport.write(run.checkpoints().resolve("step-000001"), RunDir.TRAIN_STATE, input);
        FuzzSupport.expectOwnErrors(input.length, 256, () -> run.latest().ifPresent(ck -> assertEquals(1, ck.step())));

        Path state = run.checkpoints().resolve("step-000001").resolve(RunDir.TRAIN_STATE);
        FuzzSupport.expectOwnErrors(input.length, 2 * 1032, () -> {
            TrainState s = TrainState.read(state);
            assertEquals(s.optimizer().keySet(), s.optimizerShapes().keySet());
        });
    }
}
