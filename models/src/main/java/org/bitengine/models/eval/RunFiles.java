package org.bitengine.models.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.json.Json;
import org.bitengine.models.train.HyperRule;

/**
 * The files a fine-tuning run leaves beside its weights, as {@code evaluate} and {@code predict} use
 * them: {@code classes.txt} (class names, one per line, in label order) and {@code config.json}
 * (whose {@code crop}, top-level or inside its {@code "config"} object, is the resolution the model
 * was trained at).
 *
 * <p>They are looked for in the weights' directory and, for weights inside a run's
 * {@code checkpoints/} tree ({@code RUN/checkpoints/step-000200/weights.npz},
 * {@code RUN/checkpoints/best-step-000150.npz}), in the run directory above it.
 */
public final class RunFiles {

    public static final String CLASSES = "classes.txt";
    public static final String CONFIG = "config.json";

    private RunFiles() {}

    /** The first existing {@code name} beside {@code weights} or in its run directory. */
    public static Optional<Path> beside(Path weights, String name) {
        for (Path dir : searchDirs(weights)) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    private static List<Path> searchDirs(Path weights) {
        List<Path> dirs = new ArrayList<>();
        Path dir = weights.toAbsolutePath().normalize().getParent();
        if (dir == null) return dirs;
        dirs.add(dir);
        // RUN/checkpoints/x.npz or RUN/checkpoints/step-N/weights.npz → RUN
        Path up = dir;
        for (int i = 0; i < 2 && up != null; i++, up = up.getParent()) {
            if (up.getFileName() != null && up.getFileName().toString().equals("checkpoints") && up.getParent() != null) {
                dirs.add(up.getParent());
                break;
            }
        }
        return dirs;
    }

    /**
     * Class names from the {@code classes.txt} beside {@code weights}, if there is one. Blank lines at
     * the end are ignored; a blank line elsewhere or a duplicate name is an error naming the file.
     */
    public static Optional<List<String>> classNames(Path weights) {
        Optional<Path> file = beside(weights, CLASSES);
        if (file.isEmpty()) return Optional.empty();
        List<String> lines;
        try {
            lines = new ArrayList<>(Files.readAllLines(file.get(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BitEngineException(file.get() + ": cannot read: " + e.getMessage() + "; fix its permissions or remove it");
        }
        while (!lines.isEmpty() && lines.getLast().isBlank()) lines.removeLast();
        for (int i = 0; i < lines.size(); i++) {
            String name = lines.get(i).strip();
            if (name.isEmpty()) {
                throw new BitEngineException(file.get() + ": line " + (i + 1) + " is blank; it should name class " + i + " (one name per line)");
            }
            int first = lines.subList(0, i).stream().map(String::strip).toList().indexOf(name);
            if (first >= 0) {
                throw new BitEngineException(file.get() + ": class name '" + name + "' is on lines " + (first + 1) + " and " + (i + 1)
                        + "; names must be unique");
            }
            lines.set(i, name);
        }
        if (lines.isEmpty()) throw new BitEngineException(file.get() + ": is empty; it should hold one class name per line, or remove it");
        return Optional.of(List.copyOf(lines));
    }

    /** The {@code crop} recorded in the {@code config.json} beside {@code weights}, if any. */
    public static Optional<Integer> crop(Path weights) {
        Optional<Path> file = beside(weights, CONFIG);
        if (file.isEmpty()) return Optional.empty();
        Map<String, Object> config = Json.readObject(file.get());
        Object crop = config.get("crop");
        if (crop == null && config.get("config") instanceof Map<?, ?> inner) crop = inner.get("crop");
        if (crop == null) return Optional.empty();
        if (!(crop instanceof Double d) || d != Math.rint(d) || d < 1 || d > 16384) {
            throw new BitEngineException(file.get() + ": \"crop\" is " + Json.write(crop) + ", expected a positive whole number of pixels; fix it or pass --crop");
        }
        return Optional.of(d.intValue());
    }

    /** BiT-HyperRule's crop for images of {@code height}×{@code width}: 128 below 96·96 pixels, else 480. */
    public static int hyperRuleCrop(int height, int width) {
        return HyperRule.resolution(height, width)[1];
    }

    /** Where the crop came from, for the report line. */
    public record Crop(int size, String source) {}

    /**
     * The resolution to run at: {@code --crop} if given, else the {@code crop} in the config.json
     * beside the weights, else the BiT-HyperRule crop for images of {@code nominal} = {height, width}
     * (asked for only in that last case).
     */
    public static Crop resolveCrop(Integer flag, Path weights, Integer nativeResolution, Supplier<int[]> nominal) {
        if (flag != null) {
            if (flag < 1) throw new BitEngineException("--crop must be a positive number of pixels, got " + flag);
            return new Crop(flag, "--crop");
        }
        Optional<Integer> fromConfig = crop(weights);
        if (fromConfig.isPresent()) {
            return new Crop(fromConfig.get(), beside(weights, CONFIG).map(Path::toString).orElse(CONFIG));
        }
        if (nativeResolution != null) return new Crop(nativeResolution, "the model's input size");
        int[] hw = nominal.get();
        return new Crop(hyperRuleCrop(hw[0], hw[1]), "BiT-HyperRule for " + hw[0] + "x" + hw[1] + " images");
    }
}
