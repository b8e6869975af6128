package org.bitengine.models.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.io.data.Datasets;
import org.bitengine.io.data.ImageDataset;
import org.bitengine.io.data.Split;
import org.bitengine.io.image.Transforms;
import org.bitengine.models.Classifier;
import org.bitengine.models.eval.ClassMapping;
import org.bitengine.models.eval.Evaluation;
import org.bitengine.models.eval.Evaluator;
import org.bitengine.models.eval.InferenceModel;
import org.bitengine.models.eval.RunFiles;
import org.bitengine.models.report.Plots;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code evaluate --weights W.npz --data PATH}: accuracy, per-class accuracy and the confusion matrix of a checkpoint on a dataset. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluate a checkpoint on a labelled dataset: top-1/top-5 accuracy, per-class accuracy, confusion matrix.",
            "Images are resized to --crop² (BiT's evaluation transform); class names come from the classes.txt beside the weights",
            "(else the dataset's). Writes confusion.csv and confusion.png into --out."})
final class EvaluateCommand implements Runnable {

    @Option(names = "--weights", required = true, paramLabel = "W.npz", description = "Checkpoint in the official BiT naming.")
    Path weights;

    @Option(names = "--data", required = true, paramLabel = "PATH",
            description = "A dataset: a folder with one sub-folder of images per class (or with train/ and test/), "
                    + "CIFAR binaries, MNIST-style idx files, or an .npz with x and y.")
    Path data;

    @Option(names = "--split", defaultValue = "test", paramLabel = "SPLIT",
            description = "Which part of a dataset that has a train/test division: test or train (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--crop", paramLabel = "C",
            description = "Resize every image to C×C (default: the crop in the config.json beside the weights, "
                    + "else BiT-HyperRule's for the dataset: 128 for images under 96×96 pixels, else 480).")
    Integer crop;

    @Option(names = "--json", description = "Print only one JSON object (top1, top5, k, n, loss, per_class) on stdout.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write confusion.csv and confusion.png (default: the weights' folder).")
    Path out;

    @Option(names = "--threads", paramLabel = "T", description = "CPU threads (default: all cores).")
    Integer threads;

    @Spec
    CommandSpec spec;

    /** Seconds between progress lines on stderr. */
    private static final long PROGRESS_EVERY_NANOS = 10_000_000_000L;

    @Override
    public void run() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (batchSize < 1) throw new BitEngineException("--batch-size must be at least 1, got " + batchSize);
        if (crop != null && crop < 1) throw new BitEngineException("--crop must be a positive number of pixels, got " + crop);
        if (threads != null) {
            if (threads < 1) throw new BitEngineException("--threads must be at least 1, got " + threads);
            CpuParallel.setThreads(threads);
        }
        Split which = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> Split.TEST;
            case "train" -> Split.TRAIN;
            default -> throw new BitEngineException("--split must be test or train, got '" + split + "'");
        };
        if (!Files.isRegularFile(weights)) throw new BitEngineException(weights + ": no such file; give the path of a .npz checkpoint");
        Path outDir = out != null ? out : weights.toAbsolutePath().getParent();
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new BitEngineException(outDir + ": is a file; --out needs a folder to write confusion.csv and confusion.png into");
        }

        ImageDataset dataset = Datasets.open(data, which, w -> warn(err, w));
        InferenceModel loaded = InferenceModel.load(weights, w -> warn(err, w));
        Classifier model = loaded.model();
        int headSize = model.numClasses();
        Optional<List<String>> fileNames = RunFiles.classNames(weights);
        Path classesFile = RunFiles.beside(weights, RunFiles.CLASSES).orElse(null);
        ClassMapping mapping = ClassMapping.resolve(dataset.classes(), fileNames, classesFile, headSize, data, weights);
        if (mapping.warning() != null) warn(err, mapping.warning());
        RunFiles.Crop resolution = RunFiles.resolveCrop(crop, weights, loaded.nativeResolution(), dataset::nominalSize);

        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new BitEngineException(outDir + ": cannot create the output folder: " + e.getMessage() + "; choose another --out");
        }

        int decodeThreads = Math.max(1, Math.min(4, threads != null ? threads : CpuParallel.threads()));
        long started = System.nanoTime();
        long[] lastReport = {started};
        Evaluation result = Evaluator.run(model, dataset, Transforms.eval(resolution.size(), loaded.scaling()), batchSize, decodeThreads,
                mapping.names(), mapping.datasetToHead(), w -> warn(err, w), (done, total) -> {
                    long now = System.nanoTime();
                    if (now - lastReport[0] >= PROGRESS_EVERY_NANOS && done < total) {
                        lastReport[0] = now;
                        double perSecond = done / ((now - started) / 1e9);
                        err.printf(Locale.ROOT, "bit-engine: evaluated %d/%d images, %.1f img/s, about %d s left%n",
                                done, total, perSecond, Math.round((total - done) / perSecond));
                        err.flush();
                    }
                });
        double seconds = (System.nanoTime() - started) / 1e9;

        // The numbers first: should writing the files fail, a long evaluation is not lost.
        if (json) {
            stdout.println(result.toJson());
        } else {
            stdout.printf(Locale.ROOT, "weights:  %s (%s)%n", weights, model.describe());
            stdout.printf(Locale.ROOT, "data:     %s: %d images, %d classes%n", data, result.n(), dataset.classes().size());
            stdout.printf(Locale.ROOT, "crop:     %d (%s)%n", resolution.size(), resolution.source());
            stdout.printf(Locale.ROOT, "time:     %.1f s (%.1f img/s)%n", seconds, result.n() / Math.max(seconds, 1e-9));
            stdout.println();
            stdout.printf(Locale.ROOT, "top-1:    %s%n", percent(result.top1()));
            stdout.printf(Locale.ROOT, "top-%d:    %s%n", result.k(), percent(result.topK()));
            stdout.printf(Locale.ROOT, "loss:     %.4f%n", result.meanLoss());
            stdout.printf(Locale.ROOT, "n:        %d%n", result.n());
            stdout.println();
            printPerClass(stdout, result);
            stdout.println();
        }
        stdout.flush();

        Path csv = outDir.resolve("confusion.csv");
        Path png = outDir.resolve("confusion.png");
        result.writeCsv(csv);
        boolean drawn = true;
        try {
            Plots.confusionMatrix(png, result.confusion(), result.classNames());
        } catch (BitEngineException e) {
            // The numbers are what matters; a machine without fonts still gets them.
            warn(err, e.getMessage());
            drawn = false;
        }
        if (!json) stdout.printf("wrote %s%s%n", csv, drawn ? " and " + png : "");
    }

    private static void printPerClass(PrintWriter out, Evaluation e) {
        List<String> names = e.classNames();
        int width = Math.max(5, Math.min(40, names.stream().mapToInt(String::length).max().orElse(5)));
        double[] acc = e.perClassAccuracy();
        long[] count = e.perClassCount();
        int[][] confusion = e.confusion();
        out.printf(Locale.ROOT, "%-" + width + "s  %8s  %8s  %s%n", "class", "n", "top-1", "most often mistaken for");
        for (int c = 0; c < names.size(); c++) {
            int worst = -1;
            for (int p = 0; p < names.size(); p++) {
                if (p != c && confusion[c][p] > 0 && (worst < 0 || confusion[c][p] > confusion[c][worst])) worst = p;
            }
            String name = names.get(c).length() > width ? names.get(c).substring(0, width - 1) + "…" : names.get(c);
            String mistaken = worst < 0 ? "" : names.get(worst) + " (" + confusion[c][worst] + ")";
            out.printf(Locale.ROOT, "%-" + width + "s  %8d  %8s  %s%n", name, count[c], percent(acc[c]), mistaken);
        }
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    private static void warn(PrintWriter err, String message) {
        err.println("bit-engine: warning: " + message);
        err.flush();
    }
}
