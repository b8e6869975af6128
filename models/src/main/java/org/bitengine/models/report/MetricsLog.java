package org.bitengine.models.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.json.Json;
import org.bitengine.models.report.Plots.Point;

/**
 * The series of a run's {@code metrics.jsonl}: one JSON object per line, train lines
 * {@code {"step","loss","lr","img_per_s","elapsed_s"}} and eval lines
 * {@code {"step","val_loss","val_top1","val_top5","n"}}. A line is a train point when it has
 * {@code loss}, an eval point when it has {@code val_loss} or {@code val_top1}; other lines are
 * ignored. A line that does not parse (the last one of a run killed mid-write) is skipped and counted,
 * so a log can be plotted while its run is still going. Non-finite values are dropped.
 */
public record MetricsLog(List<Point> trainLoss, List<Point> learningRate, List<Point> valLoss, List<Point> valTop1,
                         List<Point> valTop5, int skippedLines) {

    public MetricsLog {
        trainLoss = List.copyOf(trainLoss);
        learningRate = List.copyOf(learningRate);
        valLoss = List.copyOf(valLoss);
        valTop1 = List.copyOf(valTop1);
        valTop5 = List.copyOf(valTop5);
    }

    /** Reads {@code metrics.jsonl}. */
    public static MetricsLog read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BitEngineException(file + ": no such file; give a run directory that holds the metrics.jsonl of a finetune run");
        } catch (IOException e) {
            throw new BitEngineException(file + ": cannot read: " + e.getMessage());
        }
        return parse(lines);
    }

    /** Parses the lines of a metrics log. */
    public static MetricsLog parse(List<String> lines) {
        List<Point> train = new ArrayList<>();
        List<Point> lr = new ArrayList<>();
        List<Point> valLoss = new ArrayList<>();
        List<Point> top1 = new ArrayList<>();
        List<Point> top5 = new ArrayList<>();
        int skipped = 0;
        for (String line : lines) {
            if (line.isBlank()) continue;
            Map<String, Object> o;
            try {
                o = Json.parseObject(line, "metrics line");
            } catch (BitEngineException e) {
                skipped++;
                continue;
            }
            Double step = number(o, "step");
            if (step == null) {
                skipped++;
                continue;
            }
            add(train, step, number(o, "loss"));
            add(lr, step, number(o, "lr"));
            add(valLoss, step, number(o, "val_loss"));
            add(top1, step, number(o, "val_top1"));
            add(top5, step, number(o, "val_top5"));
        }
        return new MetricsLog(train, lr, valLoss, top1, top5, skipped);
    }

    private static void add(List<Point> series, double step, Double value) {
        if (value != null && Double.isFinite(value)) series.add(new Point(step, value));
    }

    private static Double number(Map<String, Object> o, String key) {
        return o.get(key) instanceof Number n ? n.doubleValue() : null;
    }
}
