package org.bitengine.models.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.autograd.Tape;
import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.optim.Optimizer;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.data.Batch;
import org.bitengine.io.data.BatchLoader;
import org.bitengine.io.data.ImageDataset;
import org.bitengine.io.image.KerasAugmentation;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.io.image.Transform;
import org.bitengine.io.image.Transforms;
import org.bitengine.models.Classifier;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.efficientnet.KerasLayerList;
import org.bitengine.models.eval.Evaluation;
import org.bitengine.models.probe.LinearProbe;

/**
 * The fine-tuning loop of the official {@code bit_pytorch/train.py}, step for step:
 *
 * <pre>
 * step = 0
 * loop: lr = schedule.lr(step); stop when null
 *       λ = Beta(α, α) drawn for this step (1 without MixUp)
 *       for each of the batch_split micro-batches (batch / batch_split examples, batch number step·split + j):
 *           x, y ← MixUp(x, y, λ, a fresh permutation)
 *           loss = mean cross-entropy; (loss / batch_split).backward()       — gradients accumulate
 *       optimizer step with lr (BiT: SGD momentum 0.9, no weight decay), zero the gradients, step += 1
 *       every eval_every steps: evaluate (early stopping); every checkpoint_every steps: checkpoint
 * at the end: evaluate, final checkpoint, weights.npz, curves.png
 * </pre>
 *
 * With warm-up the first step runs with lr 0: it only fills the momentum buffers, as in the official
 * code. The data order is the batch loader's pure function of (seed, batch number) and MixUp's draws a
 * pure function of (seed, step), so a run resumed from a checkpoint continues exactly where the
 * uninterrupted run would be.
 *
 * <p>Models with dropout, stochastic depth or BatchNorm (EfficientNet) are switched to training
 * behaviour for each micro-batch, drawing from a generator seeded by (seed, step, micro-batch), and to
 * inference behaviour for every evaluation. With {@code --unfreeze-top N} only the last N Keras
 * layers' parameters require a gradient (so the frozen bottom records nothing on the tape) and every
 * BatchNorm keeps its running statistics and affine parameters.
 *
 * <p>With the backbone frozen the pre-logit features of every training and validation example are
 * computed once (resized to the crop, no augmentation) and only the head is trained on them; MixUp
 * then mixes the features. The linear probe fits the head to those features in closed form.
 */
final class Trainer {

    /** The generator stream of dropout and stochastic depth (see {@link MixUp#rng}). */
    private static final long DROPOUT_STREAM = 0x44524F504F55544CL;

    private final TrainConfig cfg;
    private final Classifier model;
    private final Backend backend;
    private final Map<String, NpyArray> meta;
    private final TrainData data;
    private final RunDir run;
    private final PrintWriter out;
    private final Consumer<String> warnings;
    private final Integer stopAfterStep;
    private final boolean terminal;
    private final List<String> classes;
    private int loaderWarnings;

    private Progress progress;
    private int step;
    private double elapsedBefore;
    private long startNanos;
    private int bestStep = -1;
    private double bestTop1 = Double.NEGATIVE_INFINITY;
    private int evalsSinceBest;
    private int lastEvalStep = -1;
    private boolean earlyStopped;
    private RunDir.Checkpoint lastCheckpoint;
    /** The parameters the optimizer updates; their gradients are checked before every update. */
    private Map<String, Tensor> trainable;
    private Evaluation lastEval;

    Trainer(TrainConfig cfg, RunModel built, TrainData data, RunDir run, PrintWriter out, Consumer<String> warnings,
            Integer stopAfterStep, boolean terminal) {
        this.cfg = cfg;
        this.model = built.model();
        this.backend = model.backend();
        this.meta = built.meta();
        this.data = data;
        this.run = run;
        this.out = out;
        this.warnings = w -> {
            loaderWarnings++;
            warnings.accept(w);
        };
        this.stopAfterStep = stopAfterStep;
        this.terminal = terminal;
        this.classes = data.train().classes();
    }

    /** What the run ended with. */
    record Result(int steps, Evaluation finalEval, int bestStep, boolean earlyStopped, boolean stoppedEarlyByRequest,
                  long skippedImages, double seconds) {}

    /** Runs (or, with {@code resumeFrom}, continues) the training and writes the final files. */
    Result run(TrainState resumeFrom, RunDir.Checkpoint resumeCheckpoint) {
        if (resumeFrom != null) {
            step = resumeFrom.step();
            elapsedBefore = resumeFrom.elapsedSeconds();
            bestStep = resumeFrom.bestStep();
            bestTop1 = resumeFrom.bestTop1();
            evalsSinceBest = resumeFrom.evalsSinceBest();
            lastEvalStep = resumeFrom.lastEvalStep();
            earlyStopped = resumeFrom.earlyStopped();
            lastCheckpoint = resumeCheckpoint;
        }
        startNanos = System.nanoTime();
        int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
        trainable = trainableParameters();
        Optimizer sgd = Optimizers.create(cfg.optimizer(), trainable);
        if (resumeFrom != null) restoreOptimizer(sgd, resumeFrom);
        Preprocessing scaling = cfg.input();

        boolean stoppedByRequest = false;
        try (MetricsFile metrics = MetricsFile.append(run.metrics())) {
            if (cfg.mode() == TrainConfig.Mode.FULL || cfg.mode() == TrainConfig.Mode.UNFREEZE_TOP) {
                Transform transform = cfg.augment()
                        ? Transforms.train(cfg.resolution(), cfg.crop(), scaling, new KerasAugmentation(cfg.rotation(), cfg.translation(), cfg.contrast()))
                        : Transforms.eval(cfg.crop(), scaling);
                try (BatchLoader loader = new BatchLoader(data.train(), transform, cfg.microBatch(), cfg.shuffle(), false,
                        cfg.seed(), threads, 2, warnings);
                     Validation val = Validation.ofImages(data.val(), model, cfg, scaling, threads, warnings)) {
                    stoppedByRequest = loop(sgd, metrics, val, (number, micro) -> {
                        Batch b = loader.batch(number);
                        return new Micro(slice(b), b.labels(), b.n(), new int[] {b.height(), b.width(), 3});
                    }, model::forward);
                }
            } else {
                FeatureSet train = FeatureSet.extract("training", data.train(), model, cfg, scaling, threads, warnings, this::note);
                FeatureSet valFeatures = data.val() == null ? null
                        : FeatureSet.extract("validation", data.val(), model, cfg, scaling, threads, warnings, this::note);
                try (Validation val = Validation.ofFeatures(valFeatures, model, cfg)) {
                    if (cfg.mode() == TrainConfig.Mode.LINEAR_PROBE) {
                        linearProbe(train, metrics, val);
                    } else {
                        int dim = model.featureSize();
                        stoppedByRequest = loop(sgd, metrics, val, (number, micro) -> train.batch(number, cfg.microBatch(),
                                cfg.shuffle(), cfg.seed(), dim), model::head);
                    }
                }
            }
        }
        // Loaders warn once per unreadable image (and count it again each epoch), so the warnings count images.
        long skipped = data.skippedAtOpen() + loaderWarnings;
        double seconds = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
        if (stoppedByRequest) {
            return new Result(step, lastEval, bestStep, earlyStopped, true, skipped, seconds);
        }
        finish(sgd);
        return new Result(step, lastEval, bestStep, earlyStopped, false, skipped, seconds);
    }

    /**
     * The parameters the optimizer updates. With {@code --unfreeze-top} the others stop requiring a
     * gradient, so the tape records nothing below the lowest trainable layer.
     */
    private Map<String, Tensor> trainableParameters() {
        Map<String, Tensor> all = model.parameters();
        Map<String, Tensor> trainable = new LinkedHashMap<>();
        switch (cfg.mode()) {
            case FULL -> all.forEach((k, p) -> {
                if (p.requiresGrad()) trainable.put(k, p);
            });
            case FROZEN_BACKBONE, LINEAR_PROBE -> {
                for (String k : model.headParameterKeys()) trainable.put(k, all.get(k));
            }
            case UNFREEZE_TOP -> {
                for (String k : trainableKeys(cfg, model)) trainable.put(k, all.get(k));
                all.forEach((k, p) -> {
                    if (!trainable.containsKey(k)) p.requiresGrad(false);
                });
            }
        }
        return trainable;
    }

    /** The parameter keys {@code --unfreeze-top} trains in this run's model. */
    static java.util.List<String> trainableKeys(TrainConfig cfg, Classifier model) {
        return KerasLayerList.trainableKeys((EfficientNetConfig) model.config(), cfg.unfreezeTop());
    }

    private static void restoreOptimizer(Optimizer optimizer, TrainState state) {
        try {
            optimizer.restore(state.optimizer(), state.step());
        } catch (IllegalArgumentException e) {
            throw new BitEngineException("the checkpoint's train state does not fit this run: " + e.getMessage()
                    + "; the run directory does not match its config.json");
        }
    }

    /** One micro-batch's input (images [n,H,W,3] or features [n,dim]) and labels. */
    record Micro(float[] x, int[] labels, int n, int[] exampleShape) {
        int perExample() {
            int s = 1;
            for (int d : exampleShape) s *= d;
            return s;
        }

        Tensor tensor(float[] values, Backend backend) {
            int[] dims = new int[exampleShape.length + 1];
            dims[0] = n;
            System.arraycopy(exampleShape, 0, dims, 1, exampleShape.length);
            return backend.fromHost(values, Shape.of(dims));
        }
    }

    @FunctionalInterface
    interface MicroSource {
        Micro get(long batchNumber, int micro);
    }

    @FunctionalInterface
    interface Net {
        Tensor apply(Tensor x);
    }

    /** The optimisation loop; true when it ended at {@code --stop-after-step}. */
    private boolean loop(Optimizer sgd, MetricsFile metrics, Validation val, MicroSource source, Net net) {
        int total = cfg.schedule().totalSteps();
        int split = cfg.batchSplit();
        int classesCount = model.numClasses();
        progress = new Progress(out, total, step, terminal);
        if (step > 0) note("resuming at step " + step + "/" + total);
        while (!earlyStopped) {
            Double lr = cfg.schedule().lr(step);
            if (lr == null) break;
            if (stopAfterStep != null && step >= stopAfterStep) {
                progress.message("stopped after step " + step + " (--stop-after-step); continue with: finetune --resume " + run.root());
                return true;
            }
            long t0 = System.nanoTime();
            double lambda = MixUp.lambda(cfg.mixup(), cfg.seed(), step);
            double lossSum = 0;
            int images = 0;
            try {
                for (int j = 0; j < split; j++) {
                    Micro m = source.get((long) step * split + j, j);
                    if (m.n() == 0) continue; // every image of this micro-batch failed to decode
                    float[] x = m.x();
                    double[] soft;
                    if (cfg.mixup() > 0) {
                        int[] perm = MixUp.permutation(cfg.seed(), step, j, m.n());
                        MixUp.Mixed mixed = MixUp.mix(x, m.labels(), m.n(), m.perExample(), classesCount, lambda, perm);
                        x = mixed.x();
                        soft = mixed.softLabels();
                    } else {
                        soft = null;
                    }
                    Tensor target = soft == null ? backend.fromHost(m.labels(), Shape.of(m.n()))
                            : backend.fromHost(toFloats(soft), Shape.of(m.n(), classesCount));
                    model.trainMode(MixUp.rng(cfg.seed(), DROPOUT_STREAM, step, j), cfg.mode() == TrainConfig.Mode.UNFREEZE_TOP);
                    try (Tape tape = Tape.record()) {
                        Tensor loss = Ops.mean(Ops.softmaxCrossEntropy(net.apply(m.tensor(x, backend)), target));
                        double value = loss.item();
                        if (!Double.isFinite(value)) throw diverged(value, lr, j);
                        lossSum += value;
                        tape.backward(split == 1 ? loss : Ops.scale(loss, 1.0 / split));
                    }
                    images += m.n();
                }
            } catch (OutOfMemoryError e) {
                throw outOfMemory();
            }
            // A finite loss can still back-propagate an overflow; the update would spread it to the weights.
            String badGradient = nonFiniteGradient(trainable);
            if (badGradient != null) throw gradientDiverged(badGradient, lr);
            sgd.step(lr);
            sgd.zeroGrad();
            step++;
            double dt = (System.nanoTime() - t0) / 1e9;
            double loss = lossSum / split;
            metrics.train(step - 1, loss, lr, images / dt, elapsed());
            progress.step(step, loss, lr, images / dt);
            boolean last = cfg.schedule().lr(step) == null;
            if (!last && val.present() && cfg.evalEvery() > 0 && step % cfg.evalEvery() == 0) {
                evaluate(val, metrics);
            }
            boolean stopping = stopAfterStep != null && step >= stopAfterStep;
            if (!last && !earlyStopped && cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0) {
                checkpoint(sgd);
            }
            if (stopping && !last && !earlyStopped) {
                progress.message("stopped after step " + step + " (--stop-after-step); continue with: finetune --resume " + run.root());
                return true;
            }
        }
        progress.endLine();
        if (val.present() && lastEvalStep != step) evaluate(val, metrics);
        return false;
    }

    private BitEngineException diverged(double value, double lr, int micro) {
        String where = cfg.batchSplit() > 1 ? " (micro-batch " + (micro + 1) + "/" + cfg.batchSplit() + ")" : "";
        String kept = lastCheckpoint != null
                ? "the last good checkpoint is " + lastCheckpoint.dir() + " (step " + lastCheckpoint.step() + ")"
                : "no checkpoint had been written yet";
        if (progress != null) progress.endLine();
        return new BitEngineException("training diverged: the loss is " + (Double.isNaN(value) ? "NaN" : value > 0 ? "+inf" : "-inf")
                + " at step " + step + where + " (lr " + org.bitengine.io.json.Json.number(lr) + "); stopped there, " + kept
                + "; lower --lr (or check the data) and start a new run");
    }

    private BitEngineException gradientDiverged(String parameter, double lr) {
        String kept = lastCheckpoint != null
                ? "the last good checkpoint is " + lastCheckpoint.dir() + " (step " + lastCheckpoint.step() + ")"
                : "no checkpoint had been written yet";
        if (progress != null) progress.endLine();
        return new BitEngineException("training diverged: the gradient of parameter '" + parameter + "' holds NaN or infinity at step "
                + step + " (lr " + org.bitengine.io.json.Json.number(lr) + "); stopped there before the update, " + kept
                + "; lower --lr (or check the data) and start a new run");
    }

    /** The first parameter whose gradient holds a NaN or an infinity, or null when all are finite. */
    static String nonFiniteGradient(Map<String, Tensor> trainable) {
        for (Map.Entry<String, Tensor> e : trainable.entrySet()) {
            Tensor g = e.getValue().grad();
            if (g == null) continue;
            for (float v : g.toFloatArray()) {
                if (!Float.isFinite(v)) return e.getKey();
            }
        }
        return null;
    }

    /** A parameter with a NaN or infinite value, or null: a checkpoint is only written from finite weights. */
    private String nonFinite() {
        for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
            for (float v : e.getValue().toFloatArray()) {
                if (!Float.isFinite(v)) return e.getKey();
            }
        }
        return null;
    }

    private BitEngineException outOfMemory() {
        String kept = lastCheckpoint != null ? "; the last good checkpoint is " + lastCheckpoint.dir() : "";
        return new BitEngineException("out of memory at step " + step + " with micro-batches of " + cfg.microBatch() + " images of "
                + cfg.crop() + "x" + cfg.crop() + " (Java heap " + Runtime.getRuntime().maxMemory() / (1 << 20)
                + " MB): raise --batch-split (e.g. --batch-split " + cfg.batchSplit() * 2 + "), lower --crop, or give Java more memory"
                + " with java -Xmx..." + kept);
    }

    private double elapsed() {
        return elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
    }

    private void evaluate(Validation val, MetricsFile metrics) {
        Evaluation e;
        model.evalMode();
        try {
            e = val.run(classes);
        } catch (OutOfMemoryError oom) {
            throw outOfMemory();
        }
        lastEval = e;
        lastEvalStep = step;
        metrics.eval(step, e.meanLoss(), e.top1(), e.topK(), e.n());
        String line = String.format(Locale.ROOT, "eval at step %d: val loss %.4f, top-1 %.4f, top-%d %.4f (%d images)",
                step, e.meanLoss(), e.top1(), e.k(), e.topK(), e.n());
        if (cfg.earlyStopPatience() > 0) {
            if (e.top1() > bestTop1) {
                int previous = bestStep;
                bestTop1 = e.top1();
                bestStep = step;
                evalsSinceBest = 0;
                // The latest checkpoint (where a resume would start) may still name the previous best file.
                run.saveBest(step, model.parameters(), meta, previous);
                line += " — best so far";
            } else {
                evalsSinceBest++;
                line += String.format(Locale.ROOT, " — no better than %.4f at step %d (%d/%d)", bestTop1, bestStep,
                        evalsSinceBest, cfg.earlyStopPatience());
                if (evalsSinceBest >= cfg.earlyStopPatience()) earlyStopped = true;
            }
        }
        progress.message(line);
        if (earlyStopped) {
            progress.message("early stopping: no better validation top-1 in " + cfg.earlyStopPatience() + " evaluations");
        }
    }

    private void checkpoint(Optimizer sgd) {
        String bad = nonFinite();
        if (bad != null) {
            String kept = lastCheckpoint != null
                    ? "the last good checkpoint is " + lastCheckpoint.dir() + " (step " + lastCheckpoint.step() + ")"
                    : "no checkpoint had been written yet";
            if (progress != null) progress.endLine();
            throw new BitEngineException("training diverged: parameter '" + bad + "' is no longer finite after step " + step
                    + " (lr " + org.bitengine.io.json.Json.number(cfg.schedule().baseLr()) + "); stopped there without writing a checkpoint, "
                    + kept + "; lower --lr (or check the data) and start a new run");
        }
        Map<String, float[]> buffers = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : sgd.state().entrySet()) {
            buffers.put(e.getKey(), e.getValue().toFloatArray());
            shapes.put(e.getKey(), e.getValue().shape().dims());
        }
        TrainState state = new TrainState(step, cfg.seed(), elapsed(), buffers, shapes, bestStep,
                bestTop1, evalsSinceBest, lastEvalStep, earlyStopped);
        lastCheckpoint = run.saveCheckpoint(step, model.parameters(), meta, state.toArrays());
        if (bestStep >= 0) run.pruneBest(bestStep);
    }

    /** Final checkpoint, final weights (the best ones with early stopping), curves. */
    private void finish(Optimizer sgd) {
        if (lastCheckpoint == null || lastCheckpoint.step() != step || earlyStopped) checkpoint(sgd);
        Path finalWeights = run.finalWeights();
        if (cfg.earlyStopPatience() > 0 && bestStep >= 0) {
            copyAtomically(run.bestWeights(bestStep), finalWeights);
            note(String.format(Locale.ROOT, "restored the best weights: step %d, val top-1 %.4f", bestStep, bestTop1));
        } else {
            org.bitengine.io.checkpoint.Checkpoints.saveWeights(finalWeights, model.parameters(), meta);
        }
        Curves.write(run, this::note);
    }

    private static void copyAtomically(Path from, Path to) {
        AtomicFile.write(to, out -> {
            try {
                Files.copy(from, out);
            } catch (IOException e) {
                throw new BitEngineException("cannot write " + to + " from " + from + ": " + e.getMessage() + "; check free disk space", e);
            }
        });
    }

    private void note(String line) {
        if (progress != null) {
            progress.message(line);
        } else {
            out.println(line);
            out.flush();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Linear probe

    private void linearProbe(FeatureSet train, MetricsFile metrics, Validation val) {
        note(String.format(Locale.ROOT, "fitting the head in closed form (ridge regression, lambda %s) on %d x %d features",
                org.bitengine.io.json.Json.number(cfg.ridgeLambda()), train.n(), model.featureSize()));
        LinearProbe.Head head = LinearProbe.fitRidge(train.features(), train.n(), model.featureSize(), train.labels(),
                model.numClasses(), cfg.ridgeLambda());
        List<String> keys = model.headParameterKeys();
        assign(model.parameters().get(keys.get(0)), head.kernel());
        assign(model.parameters().get(keys.get(1)), head.bias());
        progress = new Progress(out, 0, 0, terminal);
        if (val.present()) evaluate(val, metrics);
    }

    private static void assign(Tensor p, float[] values) {
        p.backend().copyInPlace(p, p.backend().fromHost(values, p.shape()));
    }

    // ---------------------------------------------------------------------------------------------
    // Cached features (frozen backbone, linear probe)

    /** Pre-logit features of a dataset, computed once without augmentation. */
    record FeatureSet(float[] features, int[] labels, int n, int dim, long skipped) {

        static FeatureSet extract(String what, ImageDataset d, Classifier model, TrainConfig cfg, Preprocessing scaling, int threads,
                                  Consumer<String> warnings, Consumer<String> note) {
            int dim = model.featureSize();
            long t0 = System.nanoTime();
            note.accept("computing the " + what + " features once: " + d.size() + " images at " + cfg.crop() + "x" + cfg.crop());
            float[] feats = new float[d.size() * dim];
            int[] labels = new int[d.size()];
            int[] count = {0};
            long skipped;
            model.evalMode();
            try (BatchLoader loader = new BatchLoader(d, Transforms.eval(cfg.crop(), scaling), cfg.evalBatch(), false, false,
                    cfg.seed(), threads, 2, warnings)) {
                loader.forEachBatchOfOneEpoch(b -> {
                    float[] f = model.features(model.backend().fromHost(slice(b), Shape.of(b.n(), b.height(), b.width(), 3))).toFloatArray();
                    System.arraycopy(f, 0, feats, count[0] * dim, b.n() * dim);
                    System.arraycopy(b.labels(), 0, labels, count[0], b.n());
                    count[0] += b.n();
                });
                skipped = loader.skippedExamples();
            } catch (OutOfMemoryError e) {
                throw new BitEngineException("out of memory computing features in batches of " + cfg.evalBatch() + " images of "
                        + cfg.crop() + "x" + cfg.crop() + ": lower --eval-batch or give Java more memory with java -Xmx...");
            }
            int n = count[0];
            if (n == 0) throw new BitEngineException("no " + what + " image could be read; check the data");
            note.accept(String.format(Locale.ROOT, "  %d x %d features in %.1f s", n, dim, (System.nanoTime() - t0) / 1e9));
            return new FeatureSet(n == d.size() ? feats : java.util.Arrays.copyOf(feats, n * dim),
                    n == d.size() ? labels : java.util.Arrays.copyOf(labels, n), n, dim, skipped);
        }

        /**
         * Micro-batch {@code number}: epochs of ⌈n / size⌉ batches over a seeded permutation of the
         * cached rows (index order without shuffling), the last batch of an epoch short.
         */
        Micro batch(long number, int size, boolean shuffle, long seed, int dim) {
            long perEpoch = (n + size - 1) / size;
            long epoch = number / perEpoch;
            int start = (int) (number % perEpoch) * size;
            int end = Math.min(start + size, n);
            int[] order = order(epoch, shuffle, seed);
            float[] x = new float[(end - start) * dim];
            int[] y = new int[end - start];
            for (int i = start; i < end; i++) {
                System.arraycopy(features, order[i] * dim, x, (i - start) * dim, dim);
                y[i - start] = labels[order[i]];
            }
            return new Micro(x, y, end - start, new int[] {dim});
        }

        private int[] order(long epoch, boolean shuffle, long seed) {
            int[] o = new int[n];
            for (int i = 0; i < n; i++) o[i] = i;
            if (!shuffle) return o;
            SplittableRandom rng = new SplittableRandom(MixUp.mix64(MixUp.mix64(seed ^ 0x4645415455524553L) + epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
            return o;
        }
    }

    /** MixUp's soft targets, in the float32 every backend computes the loss in. */
    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    static float[] slice(Batch b) {
        int len = b.n() * b.height() * b.width() * 3;
        return b.x().length == len ? b.x() : java.util.Arrays.copyOf(b.x(), len);
    }

    // ---------------------------------------------------------------------------------------------
    // Validation

    /** The validation set: images through the eval transform, or cached features through the head. */
    static final class Validation implements AutoCloseable {
        private final BatchLoader loader;
        private final FeatureSet features;
        private final Classifier model;
        private final int batch;

        private Validation(BatchLoader loader, FeatureSet features, Classifier model, int batch) {
            this.loader = loader;
            this.features = features;
            this.model = model;
            this.batch = batch;
        }

        static Validation ofImages(ImageDataset val, Classifier model, TrainConfig cfg, Preprocessing scaling, int threads,
                                   Consumer<String> warnings) {
            BatchLoader loader = val == null ? null
                    : new BatchLoader(val, Transforms.eval(cfg.crop(), scaling), cfg.evalBatch(), false, false, cfg.seed(), threads, 2, warnings);
            return new Validation(loader, null, model, cfg.evalBatch());
        }

        static Validation ofFeatures(FeatureSet features, Classifier model, TrainConfig cfg) {
            return new Validation(null, features, model, cfg.evalBatch());
        }

        boolean present() {
            return loader != null || features != null;
        }

        Evaluation run(List<String> classes) {
            Evaluation e = new Evaluation(classes);
            if (loader != null) {
                loader.forEachBatchOfOneEpoch(b -> {
                    Tensor logits = model.forward(model.backend().fromHost(slice(b), Shape.of(b.n(), b.height(), b.width(), 3)));
                    e.add(logits.toFloatArray(), b.labels(), b.n());
                });
            } else if (features != null) {
                int dim = features.dim();
                for (int start = 0; start < features.n(); start += batch) {
                    int n = Math.min(batch, features.n() - start);
                    float[] x = java.util.Arrays.copyOfRange(features.features(), start * dim, (start + n) * dim);
                    Tensor logits = model.head(model.backend().fromHost(x, Shape.of(n, dim)));
                    e.add(logits.toFloatArray(), java.util.Arrays.copyOfRange(features.labels(), start, start + n), n);
                }
            }
            return e;
        }

        @Override
        public void close() {
            if (loader != null) loader.close();
        }
    }

}
