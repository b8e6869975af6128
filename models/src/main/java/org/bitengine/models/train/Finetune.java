package org.bitengine.models.train;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.Devices;
import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.image.KerasAugmentation;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.io.json.Json;
import org.bitengine.models.Classifier;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.registry.Models;

/**
 * {@code finetune}: checks the flags, opens the data, fills in the BiT-HyperRule, builds the model,
 * prints and saves the effective configuration, and runs the {@link Trainer}; or continues a run from
 * its directory ({@link #resume}).
 *
 * <p>Everything that can be wrong with the flags, the data or the weights is found before the run
 * directory is created, so a refused run leaves nothing behind. See {@link RunDir} for the layout of a
 * run directory and {@link MetricsFile} for the metrics lines.
 */
public final class Finetune {

    /** Name of the architecture built from {@code --block-units} and {@code --width}. */
    public static final String CUSTOM = "custom";
    /** The architecture used when neither --weights nor --model nor --block-units is given. */
    public static final String DEFAULT_MODEL = "BiT-R50x1";

    private final PrintWriter out;
    private final Consumer<String> warnings;
    private final boolean terminal;

    /**
     * @param out      progress and the configuration (stdout)
     * @param warnings one line per warning (unreadable images and the like), printed by the caller on stderr
     * @param terminal whether {@code out} is an interactive terminal (progress redrawn in place)
     */
    public Finetune(PrintWriter out, Consumer<String> warnings, boolean terminal) {
        this.out = out;
        this.warnings = warnings;
        this.terminal = terminal;
    }

    /** What a run ended with, for the caller's summary. */
    public record Outcome(Path runDir, int steps, Double valTop1, Double valTopK, int k, long valN, boolean stoppedByRequest,
                          boolean earlyStopped, int bestStep, long skippedImages, double seconds) {}

    // ---------------------------------------------------------------------------------------------
    // A new run

    public Outcome start(FinetuneOptions o) {
        checkFlags(o);
        Identity id = identify(o);
        if (o.unfreezeTop() != null && id.nativeResolution() == 0) {
            throw new BitEngineException("--unfreeze-top counts the layers of Keras' EfficientNet; " + id.model()
                    + " is a BiT model: fine-tune all of it (the default) or only its head (--freeze-backbone)");
        }
        RunDir.checkNew(o.out(), o.overwrite());
        Devices.Selection device = device(o.device() == null ? "auto" : o.device());
        if (o.threads() != null) CpuParallel.setThreads(o.threads());
        long seed = o.seed() == null ? 0 : o.seed();

        TrainData data = TrainData.open(o.data().toString(), o.val() == null ? null : o.val().toString(), o.valSplit(),
                o.examplesPerClass(), seed, warnings, this::print);
        Resolved r = resolve(o, id, data, device.backend().name(), seed);
        TrainConfig cfg = r.config();
        if (cfg.earlyStopPatience() > 0 && data.val() == null) {
            throw new BitEngineException("--early-stop-patience needs validation data; give --val PATH or --val-split 0.1");
        }
        RunModel built = RunModel.buildNew(cfg, data.train().classes().size(), device.backend(), this::print);

        printConfig(cfg, data, built, r.sources(), o.out());
        RunDir run = new RunDir(o.out());
        run.create(o.overwrite());
        AtomicFile.writeString(run.root().resolve(RunDir.CLASSES), String.join("\n", data.train().classes()) + "\n");
        AtomicFile.writeString(run.config(), Json.pretty(configJson(cfg, data, built, r.sources())) + "\n");
        Trainer trainer = new Trainer(cfg, built, data, run, out, warnings, o.stopAfterStep(), terminal);
        return outcome(run, trainer.run(null, null));
    }

    // ---------------------------------------------------------------------------------------------
    // Resuming

    /**
     * Continues the run in {@code dir} from its latest checkpoint (or from the start when it has none)
     * with the configuration saved in its config.json.
     *
     * @param threads CPU threads; null keeps the run's (a different count changes the summation order,
     *                so the result is no longer bit-identical to an uninterrupted run)
     */
    public Outcome resume(Path dir, Integer threads, Integer stopAfterStep) {
        RunDir run = new RunDir(dir);
        if (!Files.isDirectory(dir)) throw new BitEngineException("--resume " + dir + ": no such directory; give the --out of an earlier run");
        if (!Files.isRegularFile(run.config())) {
            throw new BitEngineException("--resume " + dir + ": no " + RunDir.CONFIG + " there, so it is not a finetune run directory");
        }
        Map<String, Object> json = Json.readObject(run.config());
        if (!(json.get("config") instanceof Map<?, ?> m)) {
            throw new BitEngineException(run.config() + ": no \"config\" object; the file was not written by bit-engine finetune");
        }
        @SuppressWarnings("unchecked")
        TrainConfig cfg = TrainConfig.fromMap((Map<String, Object>) m, run.config().toString());
        if (threads != null && threads != cfg.threads()) {
            warnings.accept("--threads " + threads + " differs from the run's " + cfg.threads()
                    + " threads: the result will not be bit-identical to an uninterrupted run");
        }
        CpuParallel.setThreads(threads != null ? threads : cfg.threads());
        Backend backend = device(cfg.device()).backend();

        TrainData data = TrainData.open(cfg.data(), cfg.val(), cfg.valSplit(), cfg.examplesPerClass(), cfg.seed(), warnings, s -> {});
        checkSameData(json, data, run.config());
        int classes = data.train().classes().size();

        run.removeLeftovers();
        RunDir.Checkpoint latest = run.latest().orElse(null);
        RunModel built;
        TrainState state = null;
        if (latest == null) {
            print("resuming " + dir + ": no checkpoint yet, starting again from step 0");
            built = RunModel.buildNew(cfg, classes, backend, this::print);
            MetricsFile.truncateForResume(run.metrics(), 0);
        } else {
            state = TrainState.read(latest.state());
            if (state.step() != latest.step() || state.seed() != cfg.seed()) {
                throw new BitEngineException(latest.state() + ": holds step " + state.step() + " and seed " + state.seed()
                        + ", expected step " + latest.step() + " and seed " + cfg.seed() + "; the run directory was modified");
            }
            built = RunModel.fromCheckpoint(cfg, classes, latest.weights(), backend);
            MetricsFile.truncateForResume(run.metrics(), latest.step());
            print("resuming " + dir + " from " + latest.dir().getFileName() + " (step " + latest.step() + " of "
                    + cfg.schedule().totalSteps() + ")");
        }
        Trainer trainer = new Trainer(cfg, built, data, run, out, warnings, stopAfterStep, terminal);
        return outcome(run, trainer.run(state, latest));
    }

    private static void checkSameData(Map<String, Object> json, TrainData data, Path file) {
        if (!(json.get("data") instanceof Map<?, ?> d)) return;
        Object n = d.get("train_size");
        Object classes = d.get("classes");
        if (n instanceof Double size && size.intValue() != data.train().size()) {
            throw new BitEngineException("the training data changed since the run started: " + file + " records "
                    + size.intValue() + " examples, now there are " + data.train().size() + "; resume with the same data");
        }
        if (classes instanceof List<?> list && !list.equals(data.train().classes())) {
            throw new BitEngineException("the classes of the training data changed since the run started (" + file
                    + " records " + TrainData.abbreviate(list.stream().map(String::valueOf).toList()) + "); resume with the same data");
        }
        Object v = d.get("val_size");
        int valSize = data.val() == null ? 0 : data.val().size();
        if (v instanceof Double size && size.intValue() != valSize) {
            throw new BitEngineException("the validation data changed since the run started: " + file + " records "
                    + size.intValue() + " examples, now there are " + valSize + "; resume with the same data");
        }
    }

    private Outcome outcome(RunDir run, Trainer.Result r) {
        var e = r.finalEval();
        return new Outcome(run.root(), r.steps(), e == null ? null : e.top1(), e == null ? null : e.topK(), e == null ? 0 : e.k(),
                e == null ? 0 : e.n(), r.stoppedEarlyByRequest(), r.earlyStopped(), r.bestStep(), r.skippedImages(), r.seconds());
    }

    // ---------------------------------------------------------------------------------------------
    // Flags

    private static void checkFlags(FinetuneOptions o) {
        if (o.data() == null) throw new BitEngineException("finetune needs --data PATH (or --resume RUN_DIR)");
        if (o.out() == null) throw new BitEngineException("finetune needs --out RUN_DIR, the directory the run writes to");
        if (o.val() != null && o.valSplit() != null) {
            throw new BitEngineException("give either --val PATH or --val-split FRACTION, not both");
        }
        if (o.valSplit() != null && !(o.valSplit() > 0 && o.valSplit() < 1)) {
            throw new BitEngineException("--val-split must be a fraction between 0 and 1 (e.g. 0.15), got " + o.valSplit());
        }
        boolean custom = o.blockUnits() != null || o.width() != null;
        if (o.weights() != null && (o.model() != null || custom)) {
            throw new BitEngineException("--weights gives the architecture; drop --model/--block-units/--width"
                    + " (they choose the architecture of a randomly initialised model)");
        }
        if (o.model() != null && custom) {
            throw new BitEngineException("give either --model NAME or a custom ResNet-v2 with --block-units/--width, not both");
        }
        if (o.width() != null && o.blockUnits() == null) {
            throw new BitEngineException("--width needs --block-units (e.g. --block-units 1,1,1,1 --width 1); for a published"
                    + " architecture use --model, e.g. --model BiT-R50x3");
        }
        if (o.blockUnits() != null && (o.blockUnits().size() != 4 || o.blockUnits().stream().anyMatch(u -> u < 1))) {
            throw new BitEngineException("--block-units must be 4 positive numbers, one per block (e.g. 3,4,6,3), got "
                    + o.blockUnits().toString().replaceAll("[\\[\\] ]", ""));
        }
        if (o.width() != null && o.width() < 1) throw new BitEngineException("--width must be at least 1, got " + o.width());
        if (o.keepHead() && o.weights() == null) {
            throw new BitEngineException("--keep-head keeps the head of the --weights checkpoint, but no --weights was given");
        }
        boolean efficientNet = o.model() != null && o.model().toLowerCase(Locale.ROOT).startsWith("efficientnet");
        if (efficientNet && custom) {
            throw new BitEngineException("--block-units/--width describe a custom BiT ResNet-v2; drop them for " + o.model());
        }
        if (o.unfreezeTop() != null) {
            if (o.unfreezeTop() < 1) throw new BitEngineException("--unfreeze-top must be at least 1, got " + o.unfreezeTop());
            if (o.freezeBackbone() || o.linearProbe()) {
                throw new BitEngineException("--unfreeze-top trains the top layers, --freeze-backbone/--linear-probe the head alone; give one of them");
            }
        }
        if (o.freezeBackbone() && o.linearProbe()) {
            throw new BitEngineException("--linear-probe fits the head in closed form, --freeze-backbone trains it by SGD; give one of them");
        }
        if (o.optimizer() != null) {
            optimizerName(o.optimizer());
            if (o.linearProbe()) throw new BitEngineException("--linear-probe fits the head in closed form and uses no --optimizer; drop it");
        }
        boolean extraAugment = o.kerasAugment() || o.rotation() != null || o.translation() != null || o.contrast() != null;
        factor("--random-rotation", o.rotation());
        factor("--random-translation", o.translation());
        factor("--random-contrast", o.contrast());
        if (extraAugment && o.noAugment()) {
            throw new BitEngineException("--no-augment turns augmentation off; drop it or the --keras-augment/--random-* flags");
        }
        if (extraAugment && (o.freezeBackbone() || o.linearProbe())) {
            throw new BitEngineException("--freeze-backbone/--linear-probe compute each image's features once, without augmentation;"
                    + " drop the --keras-augment/--random-* flags (or use --unfreeze-top to train on augmented images)");
        }
        if (o.keepHead() && o.linearProbe()) {
            throw new BitEngineException("--linear-probe fits a new head, so it cannot be combined with --keep-head");
        }
        positive("--steps", o.steps());
        positive("--batch", o.batch());
        positive("--batch-split", o.batchSplit());
        positive("--resolution", o.resolution());
        positive("--crop", o.crop());
        positive("--examples-per-class", o.examplesPerClass());
        positive("--eval-batch", o.evalBatch());
        positive("--threads", o.threads());
        positive("--early-stop-patience", o.earlyStopPatience());
        notNegative("--eval-every", o.evalEvery());
        notNegative("--checkpoint-every", o.checkpointEvery());
        notNegative("--stop-after-step", o.stopAfterStep());
        if (o.lr() != null && !(o.lr() > 0 && Double.isFinite(o.lr()))) {
            throw new BitEngineException("--lr must be a positive number (BiT-HyperRule: 0.003), got " + o.lr());
        }
        if (o.mixup() != null && !(o.mixup() >= 0 && Double.isFinite(o.mixup()))) {
            throw new BitEngineException("--mixup is MixUp's alpha and must be 0 (off) or positive (BiT-HyperRule: 0.1 from 20k examples), got " + o.mixup());
        }
        if (o.ridgeLambda() != null && !(o.ridgeLambda() >= 0 && Double.isFinite(o.ridgeLambda()))) {
            throw new BitEngineException("--ridge-lambda must be 0 or positive, got " + o.ridgeLambda());
        }
        if (o.ridgeLambda() != null && !o.linearProbe()) {
            throw new BitEngineException("--ridge-lambda is the penalty of --linear-probe; add --linear-probe or drop it");
        }
        int batch = o.batch() == null ? HyperRule.BASE_BATCH : o.batch();
        if (o.batchSplit() != null && batch % o.batchSplit() != 0) {
            throw new BitEngineException("--batch-split " + o.batchSplit() + " must divide the batch of " + batch
                    + " (micro-batches are batch / batch-split examples)");
        }
        if (o.resolution() != null && o.crop() != null && o.crop() > o.resolution()) {
            throw new BitEngineException("--crop " + o.crop() + " is larger than --resolution " + o.resolution()
                    + "; the crop is cut out of the image resized to the resolution, so it must be at most that");
        }
        if (o.seed() != null && (o.seed() < 0 || o.seed() >= (1L << 53))) {
            throw new BitEngineException("--seed must be between 0 and 2^53 - 1, got " + o.seed());
        }
    }

    private static void factor(String flag, Double v) {
        if (v != null && !(v >= 0 && v <= 1)) {
            throw new BitEngineException(flag + " is a fraction between 0 and 1 as in Keras (e.g. 0.1), got " + v);
        }
    }

    /** The canonical optimizer name of an {@code --optimizer} value. */
    static String optimizerName(String flag) {
        String n = flag.toLowerCase(Locale.ROOT);
        if (!Optimizers.NAMES.contains(n)) {
            throw new BitEngineException("--optimizer must be one of " + String.join(", ", Optimizers.NAMES) + ", got '" + flag + "'");
        }
        return n;
    }

    private static void positive(String flag, Integer v) {
        if (v != null && v < 1) throw new BitEngineException(flag + " must be at least 1, got " + v);
    }

    private static void notNegative(String flag, Integer v) {
        if (v != null && v < 0) throw new BitEngineException(flag + " must be 0 or more, got " + v);
    }

    /** The backend {@code --device} names; with {@code auto} on a machine without a usable GPU, one line says why. */
    private Devices.Selection device(String spec) {
        Devices.Selection s;
        try {
            s = Devices.select(spec);
        } catch (BitEngineException e) {
            throw new BitEngineException("--device " + spec + ": " + e.getMessage());
        }
        if (s.fellBack()) print("device (--device auto): " + s.reason());
        return s;
    }

    // ---------------------------------------------------------------------------------------------
    // The BiT-HyperRule and the defaults

    private record Resolved(TrainConfig config, Map<String, String> sources) {}

    private static Resolved resolve(FinetuneOptions o, Identity id, TrainData data, String device, long seed) {
        Map<String, String> src = new LinkedHashMap<>();
        int n = data.train().size();
        int[] hw = data.train().nominalSize();
        String sizeRule = "BiT-HyperRule: " + n + " training examples " + (n < 20_000 ? "< 20k" : n < 500_000 ? "< 500k" : ">= 500k");

        int[] rule = HyperRule.resolution(hw[0], hw[1]);
        String resRule = "BiT-HyperRule: images " + hw[0] + "x" + hw[1] + (rule[0] == 160 ? " smaller than" : " at least") + " 96x96 in area";
        if (id.nativeResolution() > 0) {
            // EfficientNet keeps its own input size, resized straight to it as the Keras tutorial does.
            rule = new int[] {id.nativeResolution(), id.nativeResolution()};
            resRule = id.model() + "'s input size (resize, no crop margin)";
        }
        int resolution;
        int crop;
        if (o.resolution() != null && o.crop() != null) {
            resolution = o.resolution();
            crop = o.crop();
            src.put("resolution", "flags");
        } else if (o.resolution() != null) {
            resolution = o.resolution();
            crop = Math.min(rule[1], resolution);
            src.put("resolution", "--resolution; crop " + (crop == rule[1] ? "from the " + (id.nativeResolution() > 0 ? "model" : "BiT-HyperRule")
                    : "= resolution (no larger than it)"));
        } else if (o.crop() != null) {
            crop = o.crop();
            resolution = id.nativeResolution() > 0 ? crop : Math.max(rule[0], crop);
            src.put("resolution", "--crop; resolution " + (resolution == rule[0] ? "from the BiT-HyperRule" : "= crop"));
        } else {
            resolution = rule[0];
            crop = rule[1];
            src.put("resolution", resRule);
        }

        int batch = o.batch() == null ? HyperRule.BASE_BATCH : o.batch();
        int split = o.batchSplit() == null ? 1 : o.batchSplit();
        double lr = o.lr() == null ? HyperRule.BASE_LR : o.lr();
        src.put("lr", o.lr() == null ? "BiT-HyperRule" : "--lr");
        int[] supports = HyperRule.schedule(n);
        String stepsSource = sizeRule;
        if (o.lrScaleByBatch()) {
            lr = lr * batch / HyperRule.BASE_BATCH;
            src.put("lr", src.get("lr") + ", x batch/512 (--lr-scale-by-batch)");
            if (o.steps() == null) {
                supports = Schedule.scaleTo(supports, (int) Math.max(1, Math.round((double) supports[4] * HyperRule.BASE_BATCH / batch)));
                stepsSource += ", x 512/batch (--lr-scale-by-batch)";
            }
        }
        Schedule.Kind kind = o.schedule() == null ? Schedule.Kind.BIT : o.schedule();
        Schedule schedule;
        if (kind == Schedule.Kind.BIT) {
            if (o.steps() != null) {
                supports = Schedule.scaleTo(supports, o.steps());
                stepsSource = "--steps " + o.steps() + ", the BiT-HyperRule boundaries scaled to it";
            }
            schedule = Schedule.bit(supports, lr);
        } else {
            int steps = o.steps() != null ? o.steps() : supports[supports.length - 1];
            if (o.steps() != null) stepsSource = "--steps";
            schedule = Schedule.constant(steps, lr);
        }
        src.put("schedule", stepsSource);
        double mixup = o.mixup() != null ? o.mixup() : HyperRule.mixup(n);
        src.put("mixup", o.mixup() != null ? "--mixup" : sizeRule);

        TrainConfig.Mode mode = o.linearProbe() ? TrainConfig.Mode.LINEAR_PROBE
                : o.freezeBackbone() ? TrainConfig.Mode.FROZEN_BACKBONE
                : o.unfreezeTop() != null ? TrainConfig.Mode.UNFREEZE_TOP : TrainConfig.Mode.FULL;
        boolean keras = o.kerasAugment();
        double rotation = o.rotation() != null ? o.rotation() : keras ? 0.15 : 0;
        double translation = o.translation() != null ? o.translation() : keras ? 0.1 : 0;
        double contrast = o.contrast() != null ? o.contrast() : keras ? 0.1 : 0;
        String optimizer = o.optimizer() == null ? "sgd" : optimizerName(o.optimizer());
        int total = schedule.totalSteps();
        int defaultEvery = Math.max(1, (total + 4) / 5);
        int evalEvery = o.evalEvery() != null ? o.evalEvery() : defaultEvery;
        int checkpointEvery = o.checkpointEvery() != null ? o.checkpointEvery() : evalEvery;
        int micro = batch / split;
        int evalBatch = o.evalBatch() != null ? o.evalBatch() : Math.min(micro, 64);

        int threads = o.threads() != null ? o.threads() : CpuParallel.threads();
        TrainConfig cfg = new TrainConfig(absolute(o.data()), o.val() == null ? null : absolute(o.val()), o.valSplit(),
                o.examplesPerClass(), o.weights() == null ? null : absolute(o.weights()), id.model(), id.units(), id.width(),
                id.convention(), id.input(), id.bnEps(), o.keepHead(),
                !o.noAugment(), rotation, translation, contrast, !o.noShuffle(), batch, split, evalBatch, schedule, mixup,
                resolution, crop, o.lrScaleByBatch(), mode, o.unfreezeTop() == null ? 0 : o.unfreezeTop(),
                o.ridgeLambda() == null ? 1.0 : o.ridgeLambda(), optimizer, evalEvery, checkpointEvery,
                o.earlyStopPatience() == null ? 0 : o.earlyStopPatience(), seed, threads, device);
        return new Resolved(cfg, src);
    }

    /**
     * What the run trains, before anything is built: BiT (units, width) or EfficientNet (variant,
     * convention, BatchNorm epsilon), with the pixel scaling the model expects; {@code nativeResolution}
     * is EfficientNet's input size, 0 for BiT (whose resolution the BiT-HyperRule picks).
     */
    private record Identity(String model, List<Integer> units, int width, String convention, Preprocessing input, Double bnEps,
                            int nativeResolution) {}

    private static Identity identify(FinetuneOptions o) {
        if (o.weights() != null) {
            // The architecture is the checkpoint's; read it now so config.json is complete.
            Models.Spec spec = Models.inspect(o.weights());
            if (spec.config() instanceof EfficientNetConfig c) {
                return new Identity(spec.arch(), List.of(), 0, spec.convention(), spec.input(), spec.bnEps(), c.resolution());
            }
            BitConfig c = (BitConfig) spec.config();
            String d = c.describe();
            int at = d.indexOf("(BiT-");
            String model = at >= 0 ? d.substring(at + 1, d.length() - 1) : CUSTOM;
            return new Identity(model, c.blockUnits(), c.widthFactor(), "bit", spec.input(), null, 0);
        }
        if (o.blockUnits() != null) {
            return new Identity(CUSTOM, o.blockUnits(), o.width() == null ? 1 : o.width(), "bit", Preprocessing.MINUS1_1, null, 0);
        }
        String name = o.model() == null ? DEFAULT_MODEL : o.model();
        if (name.toLowerCase(Locale.ROOT).startsWith("efficientnet")) {
            EfficientNetConfig c;
            try {
                c = EfficientNetConfig.preset(name, 1);
            } catch (IllegalArgumentException e) {
                throw new BitEngineException("--model " + name + ": unknown EfficientNet; use efficientnet-b0 ... efficientnet-b7");
            }
            return new Identity("efficientnet-" + c.variant(), List.of(), 0, "torchvision", Preprocessing.IMAGENET,
                    c.bnEps(), c.resolution());
        }
        BitConfig c = BitConfig.named(name, 1, true);
        return new Identity(canonicalName(name), c.blockUnits(), c.widthFactor(), "bit", Preprocessing.MINUS1_1, null, 0);
    }

    /** Paths are saved absolute, so that --resume works from any working directory. */
    private static String absolute(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    private static String canonicalName(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceFirst("^bit-([sml]-)?", "");
        return "BiT-R" + s.substring(1).toLowerCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------------------------------------
    // The effective configuration

    private void printConfig(TrainConfig c, TrainData data, RunModel built, Map<String, String> src, Path runDir) {
        Classifier m = built.model();
        long params = m.parameters().values().stream().mapToLong(Tensor::size).sum();
        int[] hw = data.train().nominalSize();
        print("bit-engine finetune → " + runDir);
        row("data", c.data() + ": " + data.train().size() + " training examples, " + data.train().classes().size()
                + " classes, images " + hw[0] + "x" + hw[1] + (c.examplesPerClass() != null ? " (" + c.examplesPerClass()
                + " per class, seed " + c.seed() + ")" : ""));
        row("validation", data.val() == null ? "none" : data.valSource() + ": " + data.val().size() + " examples");
        row("model", m.describe() + ", " + String.format(Locale.ROOT, "%,d", params) + " parameters; " + built.init());
        row("device", c.device() + ", " + c.threads() + " thread" + (c.threads() == 1 ? "" : "s"));
        row("mode", switch (c.mode()) {
            case FULL -> "fine-tune every parameter";
            case FROZEN_BACKBONE -> "train the head only, on pre-logit features computed once (--freeze-backbone)";
            case LINEAR_PROBE -> "fit the head in closed form on pre-logit features (--linear-probe, ridge lambda "
                    + Json.number(c.ridgeLambda()) + ")";
            case UNFREEZE_TOP -> "train the last " + c.unfreezeTop() + " Keras layers, BatchNorm frozen (--unfreeze-top): "
                    + Trainer.trainableKeys(c, m).size() + " parameter tensors";
        });
        if (c.mode() == TrainConfig.Mode.FULL || c.mode() == TrainConfig.Mode.UNFREEZE_TOP) {
            KerasAugmentation extra = new KerasAugmentation(c.rotation(), c.translation(), c.contrast());
            row("resolution", "resize " + c.resolution() + "x" + c.resolution() + ", crop " + c.crop() + "x" + c.crop()
                    + (c.augment() ? " (random crop + flip" + (extra.isNone() ? "" : ", " + extra) + ")"
                    : " (no augmentation: resize to " + c.crop() + ")")
                    + "; pixels " + c.input().name() + "  [" + src.get("resolution") + "]");
        } else {
            row("resolution", "resize " + c.crop() + "x" + c.crop() + " (features are computed once, without augmentation)  ["
                    + src.get("resolution") + "]");
        }
        if (c.mode() != TrainConfig.Mode.LINEAR_PROBE) {
            row("steps", c.schedule().describe() + "  [" + src.get("schedule") + "; lr: " + src.get("lr") + "]");
            row("batch", c.batch() + (c.batchSplit() > 1 ? " in " + c.batchSplit() + " micro-batches of " + c.microBatch() : "")
                    + (c.shuffle() ? ", shuffled" : ", in order (--no-shuffle)"));
            row("optimizer", Optimizers.describe(c.optimizer()));
            row("mixup", (c.mixup() > 0 ? "alpha " + Json.number(c.mixup()) : "off (alpha 0)") + "  [" + src.get("mixup") + "]");
            row("eval", (data.val() == null ? "no validation data" : every(c.evalEvery())
                    + "at the end, " + c.evalBatch() + " images per pass")
                    + (c.earlyStopPatience() > 0 ? "; early stopping after " + c.earlyStopPatience() + " evaluations without a better top-1" : ""));
            row("checkpoints", every(c.checkpointEvery()) + "at the end, last " + RunDir.KEEP_CHECKPOINTS + " kept");
        }
        row("seed", Long.toString(c.seed()));
        out.flush();
    }

    private static String every(int steps) {
        return steps <= 0 ? "" : steps == 1 ? "every step and " : "every " + steps + " steps and ";
    }

    private void row(String key, String value) {
        out.printf(Locale.ROOT, "  %-12s %s%n", key, value);
    }

    private void print(String line) {
        out.println(line);
        out.flush();
    }

    private static Map<String, Object> configJson(TrainConfig c, TrainData data, RunModel built, Map<String, String> src) {
        Map<String, Object> root = new LinkedHashMap<>();
        String v = Finetune.class.getPackage().getImplementationVersion();
        root.put("version", "bit-engine " + (v == null ? "(development build)" : v));
        root.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        root.put("config", c.toMap());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("train_size", data.train().size());
        d.put("val_size", data.val() == null ? 0 : data.val().size());
        d.put("val_source", data.valSource());
        d.put("nominal_size", Arrays.stream(data.train().nominalSize()).boxed().toList());
        d.put("classes", data.train().classes());
        root.put("data", d);
        Map<String, Object> m = new LinkedHashMap<>();
        Classifier model = built.model();
        m.put("architecture", model.describe());
        if (model.config() instanceof BitConfig b) {
            m.put("block_units", b.blockUnits());
            m.put("width", b.widthFactor());
        }
        m.put("classes", model.numClasses());
        m.put("parameters", model.parameters().values().stream().mapToLong(Tensor::size).sum());
        m.put("init", built.init());
        root.put("model", m);
        root.put("sources", src);
        return root;
    }
}
