package org.bitengine.models.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;

import org.bitengine.engine.BitEngineException;
import org.bitengine.models.report.Plots.Point;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    static final List<String> LINES = List.of(
            "{\"step\":1,\"loss\":2.5,\"lr\":3.0e-5,\"img_per_s\":12.5,\"elapsed_s\":1.0}",
            "{\"step\":2,\"loss\":2.25,\"lr\":6.0e-5,\"img_per_s\":12.5,\"elapsed_s\":2.0}",
            "",
            "{\"step\":2,\"val_loss\":2.0,\"val_top1\":0.25,\"val_top5\":0.75,\"n\":40}",
            "{\"step\":3,\"loss\":null,\"lr\":9.0e-5}",
            "{\"event\":\"started\"}",
            "{\"step\":4,\"loss\":1.5,\"lr\":1.2e-4,\"img_p");

    @Test
    void parsesTrainAndEvalLines() {
        MetricsLog log = MetricsLog.parse(LINES);
        assertEquals(List.of(new Point(1, 2.5), new Point(2, 2.25)), log.trainLoss());
        assertEquals(List.of(new Point(2, 2.0)), log.valLoss());
        assertEquals(List.of(new Point(2, 0.25)), log.valTop1());
        assertEquals(List.of(new Point(2, 0.75)), log.valTop5());
        assertEquals(3, log.learningRate().size());
        assertEquals(2, log.skippedLines(), "the line without a step and the torn last line");
    }

    @Test
    void curvesFromARunDirectory(@TempDir Path run) throws IOException {
        Files.write(run.resolve("metrics.jsonl"), LINES);
        Path png = Plots.curvesFromRun(run);
        assertEquals(run.resolve("curves.png"), png);
        assertEquals(1200, ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void aMissingLogIsOneLine(@TempDir Path run) {
        BitEngineException e = assertThrows(BitEngineException.class, () -> Plots.curvesFromRun(run));
        assertTrue(e.getMessage().contains("metrics.jsonl"), e.getMessage());
        assertTrue(e.getMessage().lines().count() == 1);
    }
}
