package org.bitengine.models.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.bitengine.engine.BitEngineException;
import org.bitengine.models.train.Finetune;
import org.bitengine.models.train.FinetuneOptions;
import org.bitengine.models.train.RunDir;
import org.bitengine.models.train.Schedule;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code finetune --data PATH --out RUN_DIR [--weights W.npz] ...}: BiT fine-tuning with the
 * BiT-HyperRule; {@code finetune --resume RUN_DIR} continues a run. The run directory's layout is
 * described in {@link RunDir}.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune a BiT model on a labelled image dataset with the BiT-HyperRule,",
            "the official recipe: resolution by image size, steps and MixUp by dataset size,",
            "linear warm-up, lr 0.003, SGD momentum 0.9, a new zero-initialised head.",
            "Every rule can be overridden by a flag. EfficientNet B0-B7 (--model efficientnet-b0,",
            "or --weights from convert) fine-tunes the Keras way: --freeze-backbone, then",
            "--unfreeze-top N with BatchNorm frozen, --optimizer adam|rmsprop, --keras-augment.",
            "Writes config.json, metrics.jsonl, checkpoints/, weights.npz and curves.png into",
            "--out; --resume RUN_DIR continues a killed run and ends with the same weights."})
final class FinetuneCommand implements Runnable {

    @Option(names = "--data", paramLabel = "PATH",
            description = "Training data: a folder with one sub-folder of images per class (or with train/ and test/), "
                    + "an .npz with x (N,H,W,C) and y (N,), MNIST/Fashion-MNIST idx files, or CIFAR binaries.")
    Path data;

    @Option(names = "--val", paramLabel = "PATH", description = "Validation data (default: the data's test split when it has one).")
    Path val;

    @Option(names = "--val-split", paramLabel = "F", description = "Hold out this fraction of the training data for validation (stratified, seeded).")
    Double valSplit;

    @Option(names = "--out", paramLabel = "RUN_DIR", description = "Run directory to create.")
    Path out;

    @Option(names = "--weights", paramLabel = "W.npz",
            description = "Checkpoint to start from: the official BiT naming (e.g. BiT-M-R50x1.npz) or an EfficientNet written by convert.")
    Path weights;

    @Option(names = "--model", paramLabel = "NAME",
            description = "Architecture when no --weights is given: BiT-R50x1, BiT-R50x3, BiT-R101x1, BiT-R101x3, BiT-R152x2, BiT-R152x4, "
                    + "efficientnet-b0 ... efficientnet-b7 (default: " + Finetune.DEFAULT_MODEL + ").")
    String model;

    @Option(names = "--block-units", split = ",", paramLabel = "U1,U2,U3,U4", hideParamSyntax = true,
            description = "A custom ResNet-v2 instead of --model: units per block, e.g. 1,1,1,1 for small experiments.")
    List<Integer> blockUnits;

    @Option(names = "--width", paramLabel = "W", description = "Width factor of the custom ResNet-v2 (default: 1).")
    Integer width;

    @Option(names = "--device", paramLabel = "DEV", description = "auto, cpu, cuda or cuda:N (default: auto: the first GPU when CUDA, cuDNN and cuBLAS load, else the CPU).")
    String device;

    @Option(names = "--keep-head", description = "Keep the checkpoint's head when it fits the classes (default: a new zero head).")
    boolean keepHead;

    @Option(names = "--no-augment", description = "No random crop and flip: resize to the crop size (exact research runs).")
    boolean noAugment;

    @Option(names = "--no-shuffle", description = "Visit the training data in order every epoch.")
    boolean noShuffle;

    @Option(names = "--examples-per-class", paramLabel = "K", description = "Few-shot: train on K examples per class (seeded).")
    Integer examplesPerClass;

    @Option(names = "--steps", paramLabel = "S",
            description = "Optimizer steps (default: BiT-HyperRule, 500 / 10k / 20k by dataset size); with --schedule bit the "
                    + "warm-up and decay points are scaled in proportion.")
    Integer steps;

    @Option(names = "--lr", paramLabel = "LR", description = "Base learning rate (default: 0.003).")
    Double lr;

    @Option(names = "--batch", paramLabel = "B", description = "Examples per optimizer step (default: 512).")
    Integer batch;

    @Option(names = "--batch-split", paramLabel = "N", description = "Split each batch into N micro-batches whose gradients accumulate (default: 1).")
    Integer batchSplit;

    @Option(names = "--schedule", paramLabel = "KIND", description = "bit (warm-up, then lr/10 at the decay points) or constant (default: bit).")
    String schedule;

    @Option(names = "--mixup", paramLabel = "ALPHA", description = "MixUp alpha, 0 = off (default: BiT-HyperRule, 0.1 from 20k examples).")
    Double mixup;

    @Option(names = "--resolution", paramLabel = "R", description = "Resize training images to R×R before the random crop (default: 160 or 512 by image size).")
    Integer resolution;

    @Option(names = "--crop", paramLabel = "C", description = "Network input size C×C; evaluation resizes to it (default: 128 or 480 by image size).")
    Integer crop;

    @Option(names = "--lr-scale-by-batch", description = "Scale lr by B/512 and the steps by 512/B (unless --steps is given), as the BiT Keras tutorial does.")
    boolean lrScaleByBatch;

    @Option(names = "--freeze-backbone", description = "Train the head only, on pre-logit features computed once.")
    boolean freezeBackbone;

    @Option(names = "--unfreeze-top", paramLabel = "N",
            description = "EfficientNet: train only the last N layers as Keras counts them (model.layers[-N:]); BatchNorm layers stay frozen.")
    Integer unfreezeTop;

    @Option(names = "--optimizer", paramLabel = "OPT",
            description = "sgd (momentum 0.9, BiT), adam (torch defaults: betas 0.9, 0.999, eps 1e-8) or rmsprop (rho 0.9, eps 1e-8) "
                    + "(default: sgd). Give --lr with adam/rmsprop: 0.003 is SGD's rate.")
    String optimizer;

    @Option(names = "--keras-augment",
            description = "The Keras EfficientNet tutorial's augmentation: random rotation 0.15, translation 0.1, contrast 0.1 (with the flip).")
    boolean kerasAugment;

    @Option(names = "--random-rotation", paramLabel = "F", description = "Rotate by up to F x 360 degrees (Keras RandomRotation), reflect fill.")
    Double rotation;

    @Option(names = "--random-translation", paramLabel = "F", description = "Shift by up to F x height/width (Keras RandomTranslation), reflect fill.")
    Double translation;

    @Option(names = "--random-contrast", paramLabel = "F", description = "Scale contrast by a factor in [1-F, 1+F] (Keras RandomContrast).")
    Double contrast;

    @Option(names = "--linear-probe", description = "Fit the new head in closed form (ridge regression) on the pre-logit features.")
    boolean linearProbe;

    @Option(names = "--ridge-lambda", paramLabel = "L", description = "L2 penalty of --linear-probe (default: 1).")
    Double ridgeLambda;

    @Option(names = "--early-stop-patience", paramLabel = "N",
            description = "Stop after N evaluations without a better validation top-1 and keep the best weights (default: off).")
    Integer earlyStopPatience;

    @Option(names = "--eval-every", paramLabel = "N", description = "Evaluate every N steps, 0 = only at the end (default: a fifth of the steps).")
    Integer evalEvery;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Checkpoint every N steps, 0 = only at the end (default: --eval-every).")
    Integer checkpointEvery;

    @Option(names = "--eval-batch", paramLabel = "B", description = "Images per forward pass when evaluating or computing features (default: the micro-batch, at most 64).")
    Integer evalBatch;

    @Option(names = "--seed", paramLabel = "SEED", description = "Seed of the data order, augmentation, MixUp, splits and a random init (default: 0).")
    Long seed;

    @Option(names = "--threads", paramLabel = "T", description = "CPU threads (default: all cores; a resume uses the run's).")
    Integer threads;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its latest checkpoint, with its saved configuration.")
    Path resume;

    @Option(names = "--overwrite", description = "Replace an existing run directory.")
    boolean overwrite;

    /** Test hook: end the run right after this step, as if it had been killed there (no final files). */
    @Option(names = "--stop-after-step", hidden = true, paramLabel = "N")
    Integer stopAfterStep;

    @Spec
    CommandSpec spec;

    /** Flags that make sense together with --resume (the rest come from the run's config.json). */
    private static final Set<String> RESUME_FLAGS = Set.of("--resume", "--threads", "--stop-after-step", "--verbose");

    @Override
    public void run() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean terminal = System.console() != null && System.console().isTerminal();
        Finetune finetune = new Finetune(stdout, w -> {
            err.println("bit-engine: warning: " + w);
            err.flush();
        }, terminal);
        Finetune.Outcome outcome;
        try {
            if (resume != null) {
                for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
                    if (!RESUME_FLAGS.contains(o.longestName())) {
                        throw new BitEngineException(o.longestName() + " cannot be combined with --resume: a resumed run keeps the"
                                + " configuration in " + resume.resolve(RunDir.CONFIG) + "; drop " + o.longestName());
                    }
                }
                if (threads != null && threads < 1) throw new BitEngineException("--threads must be at least 1, got " + threads);
                outcome = finetune.resume(resume, threads, stopAfterStep);
            } else {
                if (data == null) throw new BitEngineException("finetune needs --data PATH (or --resume RUN_DIR to continue a run)");
                if (out == null) throw new BitEngineException("finetune needs --out RUN_DIR, the directory the run writes to");
                outcome = finetune.start(new FinetuneOptions(data, val, valSplit, out, weights, model, blockUnits, width, device,
                        keepHead, noAugment, noShuffle, examplesPerClass, steps, lr, batch, batchSplit, schedule(), mixup,
                        resolution, crop, lrScaleByBatch, freezeBackbone, unfreezeTop, linearProbe, ridgeLambda, optimizer,
                        kerasAugment, rotation, translation, contrast, earlyStopPatience, evalEvery,
                        checkpointEvery, evalBatch, seed, threads, overwrite, stopAfterStep));
            }
        } catch (OutOfMemoryError e) {
            throw new BitEngineException("out of memory (Java heap " + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MB): use --batch-split to train on smaller micro-batches, a smaller --crop, or give Java more memory with java -Xmx...");
        }
        summary(stdout, outcome);
    }

    private Schedule.Kind schedule() {
        if (schedule == null) return null;
        return switch (schedule.toLowerCase(Locale.ROOT)) {
            case "bit" -> Schedule.Kind.BIT;
            case "constant" -> Schedule.Kind.CONSTANT;
            default -> throw new BitEngineException("--schedule must be bit or constant, got '" + schedule + "'");
        };
    }

    private static void summary(PrintWriter out, Finetune.Outcome o) {
        if (o.stoppedByRequest()) {
            out.flush();
            return;
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "done: %d steps in %s", o.steps(), duration(o.seconds())));
        if (o.valTop1() != null) {
            s.append(String.format(Locale.ROOT, "; validation top-1 %.4f, top-%d %.4f (%d images)", o.valTop1(), o.k(), o.valTopK(), o.valN()));
        }
        if (o.earlyStopped()) s.append("; early stopping, best step ").append(o.bestStep());
        if (o.skippedImages() > 0) {
            s.append("; ").append(o.skippedImages()).append(o.skippedImages() == 1 ? " unreadable image" : " unreadable images")
                    .append(" skipped (see the warnings)");
        }
        out.println(s);
        out.println("weights: " + o.runDir().resolve(RunDir.WEIGHTS) + "  curves: " + o.runDir().resolve(RunDir.CURVES));
        out.flush();
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return String.format(Locale.ROOT, "%.1fs", seconds);
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
