package org.bitengine.models.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.npy.Npy;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.models.Classifier;
import org.bitengine.models.eval.ImagePredictor;
import org.bitengine.models.registry.Models;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code predict --weights W.npz --input-npy X.npy --output Y.npy [--features]}, or
 * {@code predict --weights W.npz --images PATH... [--top-k K] [--crop C] [--json]}.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Run a checkpoint on images and print the top classes, or on an NHWC float32 batch and write the logits.",
            "With --images: JPEG/PNG files and/or folders (searched recursively), resized to --crop² and scaled as the",
            "checkpoint's meta/preprocessing says (BiT: [-1, 1]; torchvision EfficientNet: ImageNet mean/std);",
            "one line per image: path<TAB>label (p=0.87), ... with softmax probabilities, class names from the classes.txt beside the weights.",
            "With --input-npy: the batch is fed to the network as it is (scale images to [-1, 1] yourself, as BiT expects;",
            "for a converted EfficientNet preprocess as its metadata says: info shows it)."})
final class PredictCommand implements Runnable {

    @Option(names = "--weights", required = true, paramLabel = "W.npz",
            description = "Checkpoint in the official BiT naming, one written by convert, or a finetune run's weights.npz.")
    Path weights;

    @Option(names = "--input-npy", paramLabel = "X.npy", description = "float32 [N,H,W,3] batch (NHWC); needs --output.")
    Path input;

    @Option(names = "--output", paramLabel = "Y.npy",
            description = "With --input-npy: where to write float32 [N,classes] logits, or [N,features] with --features.")
    Path output;

    @Option(names = "--features", description = "With --input-npy: write the pre-logit features (the head's pooled activations) instead of logits.")
    boolean features;

    @Option(names = "--images", arity = "1..*", paramLabel = "PATH",
            description = "Image files (.jpg, .jpeg, .png) and/or folders searched recursively for them.")
    List<Path> images;

    @Option(names = "--top-k", defaultValue = "5", paramLabel = "K",
            description = "With --images: classes to print per image (default: ${DEFAULT-VALUE}; at most the number of classes).")
    int topK;

    @Option(names = "--crop", paramLabel = "C",
            description = "With --images: resize every image to C×C (default: the crop in the config.json beside the weights, "
                    + "else BiT-HyperRule's: 128 for images under 96×96 pixels, else 480).")
    Integer crop;

    @Option(names = "--json", description = "With --images: print one JSON object per image instead of the text line.")
    boolean json;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "B", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--threads", paramLabel = "T", description = "CPU threads (default: all cores).")
    Integer threads;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        if (batchSize < 1) throw new BitEngineException("--batch-size must be at least 1, got " + batchSize);
        if ((input == null) == (images == null)) {
            throw new BitEngineException("give exactly one of --input-npy X.npy (an NHWC float32 batch) or --images PATH... (image files or folders)");
        }
        if (threads != null) {
            if (threads < 1) throw new BitEngineException("--threads must be at least 1, got " + threads);
            CpuParallel.setThreads(threads);
        }
        if (!Files.isRegularFile(weights)) throw new BitEngineException(weights + ": no such file; give the path of a .npz checkpoint");
        if (images != null) {
            if (output != null) throw new BitEngineException("--output goes with --input-npy; with --images the predictions are printed (add --json for JSON lines)");
            if (features) throw new BitEngineException("--features goes with --input-npy; to get features of image files, convert them to an NHWC .npy first");
            new ImagePredictor(weights, images, topK, crop, json, batchSize, spec.commandLine().getOut(), spec.commandLine().getErr()).run();
            return;
        }
        if (topK != 5 || crop != null || json) {
            throw new BitEngineException("--top-k, --crop and --json go with --images; --input-npy writes raw logits to --output");
        }
        if (output == null) throw new BitEngineException("--input-npy needs --output Y.npy, the file to write the logits to");
        if (!Files.isRegularFile(input)) throw new BitEngineException(input + ": no such file; give an NHWC float32 .npy");
        Path outDir = output.toAbsolutePath().getParent();
        if (outDir == null || !Files.isDirectory(outDir)) {
            throw new BitEngineException(output + ": directory " + outDir + " does not exist; create it or choose another --output");
        }
        NpyArray x = Npy.read(input);
        int[] shape = x.shape();
        checkInput(x.dtype(), shape);

        PrintWriter err = spec.commandLine().getErr();
        Models.Loaded loaded = Models.load(weights, CpuBackend.get());
        if (!loaded.report().unused().isEmpty()) {
            err.println("bit-engine: warning: " + weights + ": " + loaded.report().unused().size()
                    + " key(s) not used by the model: " + loaded.report().describeUnused());
        }
        Classifier model = loaded.model();
        int n = shape[0];
        int perImage = shape[1] * shape[2] * shape[3];
        int width = features ? model.featureSize() : model.numClasses();
        float[] all = x.toFloats();
        float[] result = new float[n * width];
        for (int start = 0; start < n; start += batchSize) {
            int b = Math.min(batchSize, n - start);
            Tensor batch = Tensor.of(Arrays.copyOfRange(all, start * perImage, (start + b) * perImage), b, shape[1], shape[2], shape[3]);
            Tensor y = features ? model.features(batch) : model.forward(batch);
            System.arraycopy(y.toFloatArray(), 0, result, start * width, b * width);
        }
        Npy.write(output, NpyArray.ofFloats(new int[] {n, width}, result));
        spec.commandLine().getOut().printf("wrote %s: float32 (%d, %d) %s%n", output, n, width, features ? "features" : "logits");
    }

    private void checkInput(NpyDType dtype, int[] shape) {
        String got = input + ": shape " + Arrays.toString(shape).replace('[', '(').replace(']', ')') + " " + dtype.descr();
        if (dtype != NpyDType.F4) {
            throw new BitEngineException(got + ": predict wants float32 (<f4) NHWC images scaled to [-1, 1]; convert with x.astype(np.float32)");
        }
        if (shape.length != 4) {
            throw new BitEngineException(got + ": predict wants a 4-D NHWC batch [N,H,W,3]; add a batch axis with x[None] for one image");
        }
        if (shape[3] != 3) {
            String hint = shape[1] == 3 ? " (this looks like NCHW: use x.transpose(0, 2, 3, 1))" : "";
            throw new BitEngineException(got + ": predict wants NHWC with 3 channels last" + hint);
        }
        if (shape[0] == 0 || shape[1] == 0 || shape[2] == 0) {
            throw new BitEngineException(got + ": the batch is empty");
        }
    }
}
