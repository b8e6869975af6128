package org.bitengine.models.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.json.Json;

/**
 * {@code metrics.jsonl}: one JSON object per line, appended and flushed as training goes.
 *
 * <ul>
 * <li>train lines {@code {"step", "loss", "lr", "img_per_s", "elapsed_s"}}: the loss of optimizer step
 *     {@code step} (counted from 0, measured on the weights after {@code step} updates, before the
 *     update it leads to; with {@code --batch-split} the mean of its micro-batch losses) and the
 *     learning rate that update used;</li>
 * <li>eval lines {@code {"step", "val_loss", "val_top1", "val_top5", "n"}}: the validation set
 *     evaluated on the weights after {@code step} updates ({@code val_top5} is top-min(5, classes)).</li>
 * </ul>
 *
 * In both kinds {@code step} is therefore the number of updates the measured weights had received.
 */
public final class MetricsFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;

    private MetricsFile(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /** Opens the file for appending, creating it when missing. */
    public static MetricsFile append(Path path) {
        try {
            return new MetricsFile(path, FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new BitEngineException("cannot open " + path + ": " + e.getMessage() + "; check the permissions");
        }
    }

    public void train(int step, double loss, double lr, double imagesPerSecond, double elapsedSeconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("loss", loss);
        m.put("lr", lr);
        m.put("img_per_s", round(imagesPerSecond, 3));
        m.put("elapsed_s", round(elapsedSeconds, 3));
        write(m);
    }

    public void eval(int step, double loss, double top1, double top5, long n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("val_loss", loss);
        m.put("val_top1", top1);
        m.put("val_top5", top5);
        m.put("n", n);
        write(m);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Double.isFinite(v) ? Math.round(v * f) / f : v;
    }

    private void write(Map<String, Object> m) {
        ByteBuffer b = ByteBuffer.wrap((Json.write(m) + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (b.hasRemaining()) channel.write(b);
        } catch (IOException e) {
            throw new BitEngineException("cannot write " + path + ": " + e.getMessage() + "; check free disk space");
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Every line was already written through.
        }
    }

    /**
     * Before a resume from the checkpoint after {@code step} updates: keeps the train lines of steps
     * below it and the eval lines up to it (what the run had logged when that checkpoint was written),
     * drops the rest and any line a kill cut short, and rewrites the file atomically.
     */
    public static void truncateForResume(Path path, int step) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new BitEngineException("cannot read " + path + ": " + e.getMessage());
        }
        StringBuilder kept = new StringBuilder();
        for (String line : lines) {
            Map<String, Object> o;
            try {
                o = Json.parseObject(line, path.toString());
            } catch (BitEngineException e) {
                continue; // a line cut short by the kill
            }
            if (!(o.get("step") instanceof Double s)) continue;
            boolean isEval = o.containsKey("val_top1");
            if (isEval ? s <= step : s < step) kept.append(line).append('\n');
        }
        AtomicFile.writeString(path, kept.toString());
    }
}
