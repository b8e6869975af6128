package org.bitengine.models.eval;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.data.Image;
import org.bitengine.io.image.ImageDecoder;
import org.bitengine.io.image.Transform;
import org.bitengine.io.image.Transforms;
import org.bitengine.io.json.Json;
import org.bitengine.models.Classifier;

/**
 * {@code predict --images}: runs a checkpoint on image files and prints each one's most probable
 * classes. Images are resized to crop² without keeping the aspect ratio and scaled to [-1, 1], BiT's
 * evaluation transform ({@link Transforms#eval(int)}).
 *
 * <p>A file named on the command line that cannot be decoded is an error; one found inside a folder
 * is skipped with a warning, so one broken file does not stop a folder of thousands.
 */
public final class ImagePredictor {

    /** One image's result: class indices by decreasing probability (ties: lower index first) and their probabilities. */
    public record Prediction(Path path, int[] classes, double[] probabilities) {}

    private final Path weights;
    private final List<Path> inputs;
    private final int topK;
    private final Integer crop;
    private final boolean json;
    private final int batchSize;
    private final PrintWriter out;
    private final PrintWriter err;

    public ImagePredictor(Path weights, List<Path> inputs, int topK, Integer crop, boolean json, int batchSize, PrintWriter out, PrintWriter err) {
        this.weights = weights;
        this.inputs = List.copyOf(inputs);
        this.topK = topK;
        this.crop = crop;
        this.json = json;
        this.batchSize = batchSize;
        this.out = out;
        this.err = err;
    }

    /** An image to run and whether the user named it (an error if unreadable) or a folder held it (a warning). */
    record Source(Path path, boolean named) {}

    public void run() {
        if (topK < 1) throw new BitEngineException("--top-k must be at least 1, got " + topK);
        if (crop != null && crop < 1) throw new BitEngineException("--crop must be a positive number of pixels, got " + crop);
        List<Source> sources = collect(inputs);
        InferenceModel loaded = InferenceModel.load(weights, w -> err.println("bit-engine: warning: " + w));
        Classifier model = loaded.model();
        int classes = model.numClasses();
        List<String> names = classNames(weights, classes);
        int size = RunFiles.resolveCrop(crop, weights, loaded.nativeResolution(), () -> nominalSize(sources)).size();
        Transform transform = Transforms.eval(size, loaded.scaling());
        int k = Math.min(topK, classes);

        for (int start = 0; start < sources.size(); start += batchSize) {
            List<Source> chunk = sources.subList(start, Math.min(sources.size(), start + batchSize));
            float[][] pixels = new float[chunk.size()][];
            String[] failures = new String[chunk.size()];
            // Decoding is independent per file; the network call below uses every core anyway.
            IntStream.range(0, chunk.size()).parallel().forEach(i -> {
                try {
                    Image image = ImageDecoder.decode(chunk.get(i).path());
                    pixels[i] = transform.apply(image, new SplittableRandom(0));
                } catch (BitEngineException e) {
                    failures[i] = e.getMessage();
                }
            });
            List<Source> ok = new ArrayList<>();
            List<float[]> okPixels = new ArrayList<>();
            for (int i = 0; i < chunk.size(); i++) {
                if (failures[i] == null) {
                    ok.add(chunk.get(i));
                    okPixels.add(pixels[i]);
                } else if (chunk.get(i).named()) {
                    throw new BitEngineException(failures[i]);
                } else {
                    err.println("bit-engine: warning: " + failures[i] + " (skipped)");
                }
            }
            if (ok.isEmpty()) continue;
            int per = size * size * 3;
            float[] x = new float[ok.size() * per];
            for (int i = 0; i < ok.size(); i++) System.arraycopy(okPixels.get(i), 0, x, i * per, per);
            float[] logits = model.forward(Tensor.of(x, ok.size(), size, size, 3)).toFloatArray();
            for (int i = 0; i < ok.size(); i++) {
                Prediction p = top(ok.get(i).path(), Arrays.copyOfRange(logits, i * classes, (i + 1) * classes), k);
                out.println(json ? jsonLine(p, names) : textLine(p, names));
            }
            out.flush();
        }
    }

    /** The k most probable classes of one row of logits, by softmax in double precision. */
    public static Prediction top(Path path, float[] logits, int k) {
        int classes = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[classes];
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            p[c] = Math.exp(logits[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < classes; c++) p[c] /= sum;
        Integer[] order = new Integer[classes];
        for (int c = 0; c < classes; c++) order[c] = c;
        // Stable sort on the logits: equal ones keep the lower index first, as torch.topk does.
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int[] idx = new int[k];
        double[] prob = new double[k];
        for (int i = 0; i < k; i++) {
            idx[i] = order[i];
            prob[i] = p[order[i]];
        }
        return new Prediction(path, idx, prob);
    }

    /** {@code path<TAB>label (p=0.87), label (p=0.05), …}; probabilities under 0.01 are written {@code p<0.01}. */
    public static String textLine(Prediction p, List<String> names) {
        StringBuilder sb = new StringBuilder(p.path().toString()).append('\t');
        for (int i = 0; i < p.classes().length; i++) {
            if (i > 0) sb.append(", ");
            double prob = p.probabilities()[i];
            sb.append(names.get(p.classes()[i]))
                    .append(prob < 0.005 ? " (p<0.01)" : String.format(Locale.ROOT, " (p=%.2f)", prob));
        }
        return sb.toString();
    }

    /** {@code {"path": …, "top": [{"label": …, "class": index, "p": probability}, …]}} on one line. */
    public static String jsonLine(Prediction p, List<String> names) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", p.path().toString());
        List<Object> top = new ArrayList<>();
        for (int i = 0; i < p.classes().length; i++) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("label", names.get(p.classes()[i]));
            t.put("class", p.classes()[i]);
            t.put("p", p.probabilities()[i]);
            top.add(t);
        }
        o.put("top", top);
        return Json.write(o);
    }

    /** Names from the classes.txt beside the weights, else the class indices. */
    static List<String> classNames(Path weights, int classes) {
        var fromFile = RunFiles.classNames(weights);
        if (fromFile.isPresent()) {
            List<String> names = fromFile.get();
            if (names.size() != classes) {
                throw new BitEngineException(RunFiles.beside(weights, RunFiles.CLASSES).orElseThrow() + ": has " + names.size()
                        + " class names but the checkpoint's head has " + classes + " classes; fix the file or remove it to print class indices");
            }
            return names;
        }
        return IntStream.range(0, classes).mapToObj(Integer::toString).toList();
    }

    /** Files named on the command line as they are; folders searched recursively for .jpg/.jpeg/.png, sorted. */
    static List<Source> collect(List<Path> inputs) {
        List<Source> sources = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isDirectory(in)) {
                List<Path> found;
                try (Stream<Path> walk = Files.walk(in)) {
                    found = walk.filter(Files::isRegularFile)
                            .filter(ImageDecoder::hasImageExtension)
                            .filter(p -> !hidden(in.relativize(p)))
                            .sorted()
                            .toList();
                } catch (IOException | UncheckedIOException e) {
                    throw new BitEngineException(in + ": cannot list the folder: " + e.getMessage() + "; check its permissions");
                }
                if (found.isEmpty()) {
                    throw new BitEngineException(in + ": no .jpg, .jpeg or .png images in this folder or below it; give image files or a folder of them");
                }
                for (Path p : found) sources.add(new Source(p, false));
            } else if (Files.isRegularFile(in)) {
                sources.add(new Source(in, true));
            } else {
                throw new BitEngineException(in + ": no such file or folder; give image files (.jpg, .jpeg, .png) or folders of them");
            }
        }
        return sources;
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith(".")) return true;
        return false;
    }

    /** The median height and width of (up to 101 of) the images, from their headers; unreadable ones are left out. */
    static int[] nominalSize(List<Source> sources) {
        List<int[]> sizes = new ArrayList<>();
        int stride = Math.max(1, sources.size() / 101);
        for (int i = 0; i < sources.size(); i += stride) {
            try {
                ImageDecoder.Header h = ImageDecoder.readHeader(sources.get(i).path());
                sizes.add(new int[] {h.height(), h.width()});
            } catch (BitEngineException e) {
                // Reported when the image itself is decoded.
            }
        }
        if (sizes.isEmpty()) return new int[] {512, 512}; // nothing readable: the decode step reports it
        int[] hs = sizes.stream().mapToInt(s -> s[0]).sorted().toArray();
        int[] ws = sizes.stream().mapToInt(s -> s[1]).sorted().toArray();
        return new int[] {hs[hs.length / 2], ws[ws.length / 2]};
    }
}
