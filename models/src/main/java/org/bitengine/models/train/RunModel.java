package org.bitengine.models.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.checkpoint.NpzWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.models.Classifier;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.bitengine.models.efficientnet.EfficientNet;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.registry.ModelMeta;
import org.bitengine.models.registry.Models;

/**
 * The model a run trains: built new (a random initialisation, or the {@code --weights} checkpoint
 * with a new head) or from one of the run's own checkpoints on {@code --resume}. BiT and EfficientNet
 * alike; the run's {@link TrainConfig} says which.
 *
 * @param model the model, in evaluation mode
 * @param init  how it was initialised, for the printed configuration
 * @param meta  the {@code meta/*} entries the run's EfficientNet checkpoints carry, so that
 *              {@code predict} and {@code evaluate} need no flags (empty for BiT, whose files keep
 *              the official key set)
 */
record RunModel(Classifier model, String init, Map<String, NpyArray> meta) {

    /** The model a new run starts from. */
    static RunModel buildNew(TrainConfig cfg, int classes, Backend backend, Consumer<String> print) {
        if (cfg.weights() == null) {
            Classifier model = Models.classifier(architecture(cfg, classes, true), ParameterStore.random(backend, cfg.seed()));
            print.accept("note: no --weights, so the model starts from a random initialisation (seed " + cfg.seed()
                    + "); fine-tuning wants pretrained weights, e.g. BiT-M-R50x1.npz from https://storage.googleapis.com/bit_models/"
                    + " or an EfficientNet converted with bit-engine convert");
            return new RunModel(model, "random init (seed " + cfg.seed() + ")" + (cfg.efficientNet() ? "" : ", zero head"), meta(cfg, classes));
        }
        Path path = Path.of(cfg.weights());
        try (NpzWeights weights = NpzWeights.open(path)) {
            List<String> headKeys;
            Record arch;
            if (cfg.efficientNet()) {
                EfficientNetConfig c = efficientNetConfig(cfg, classes);
                headKeys = List.of(EfficientNet.CLASSIFIER_KERNEL, EfficientNet.CLASSIFIER_BIAS);
                if (cfg.keepHead()) checkHeadFits(weights, path, EfficientNet.CLASSIFIER_KERNEL, Shape.of(c.featureSize(), classes),
                        EfficientNet.CLASSIFIER_BIAS, classes, "a new head");
                arch = c;
            } else {
                BitConfig c = BitConfig.inferFrom(weights, path.toString());
                headKeys = List.of(BitConfig.HEAD_KERNEL, BitResNet.HEAD_BIAS);
                if (cfg.keepHead()) checkHeadFits(weights, path, BitConfig.HEAD_KERNEL, Shape.of(1, 1, c.featureSize(), classes),
                        BitResNet.HEAD_BIAS, classes, "a new zero-initialised head");
                arch = c.withHead(classes, !cfg.keepHead());
            }
            WeightSource source = cfg.keepHead() ? weights : weights.without(Set.copyOf(headKeys));
            ParameterStore store = ParameterStore.from(backend, source, cfg.seed());
            Classifier model = Models.classifier(arch, store);
            LoadReport report = store.report();
            List<String> missing = report.missing().stream().filter(k -> cfg.keepHead() || !headKeys.contains(k)).toList();
            if (!missing.isEmpty()) {
                throw new BitEngineException(path + ": missing key '" + missing.getFirst() + "' (" + missing.size()
                        + " missing in all) for " + model.describe() + "; is the file complete?");
            }
            if (!report.mismatched().isEmpty()) {
                LoadReport.Mismatch m = report.mismatched().getFirst();
                throw new BitEngineException(path + ": key '" + m.key() + "' has shape " + m.found() + ", the model expects "
                        + m.expected() + " for " + model.describe());
            }
            if (!report.unused().isEmpty()) {
                print.accept("note: " + path + ": " + report.unused().size() + " key(s) not used by the model: "
                        + report.describeUnused());
            }
            String head = cfg.keepHead() ? " including its head" : cfg.efficientNet() ? ", new head" : ", new zero head";
            return new RunModel(model, "weights " + path + head, meta(cfg, classes));
        }
    }

    /** The model of a checkpoint written by this run (all keys, the run's architecture and classes). */
    static RunModel fromCheckpoint(TrainConfig cfg, int classes, Path weightsFile, Backend backend) {
        try (NpzWeights weights = NpzWeights.open(weightsFile)) {
            ParameterStore store = ParameterStore.from(backend, weights, cfg.seed());
            Classifier model = Models.classifier(architecture(cfg, classes, false), store);
            if (!store.report().isComplete()) {
                throw new BitEngineException(weightsFile + ": does not match the run's model (" + store.report().summary()
                        + "); the run directory was modified");
            }
            return new RunModel(model, "checkpoint " + weightsFile, meta(cfg, classes));
        }
    }

    /** The run's architecture for {@code classes}: its EfficientNet, or its BiT (with a zero head for a new run). */
    private static Record architecture(TrainConfig cfg, int classes, boolean zeroHead) {
        return cfg.efficientNet() ? efficientNetConfig(cfg, classes) : new BitConfig(cfg.blockUnits(), cfg.width(), classes, zeroHead);
    }

    /** The run's EfficientNet: the preset of {@code cfg.model()} with the run's convention, epsilon and classes. */
    private static EfficientNetConfig efficientNetConfig(TrainConfig cfg, int classes) {
        ModelMeta meta = new ModelMeta(Map.of(ModelMeta.CONVENTION, cfg.convention(), ModelMeta.PREPROCESSING, cfg.input().name()),
                cfg.bnEps(), (long) classes, cfg.input());
        return (EfficientNetConfig) Models.fromArch(cfg.model(), WeightSource.empty(), meta, "the run's configuration").config();
    }

    private static Map<String, NpyArray> meta(TrainConfig cfg, int classes) {
        if (!cfg.efficientNet()) return Map.of();
        return new ModelMeta(Map.of(ModelMeta.ARCH, cfg.model(), ModelMeta.CONVENTION, cfg.convention(),
                ModelMeta.PREPROCESSING, cfg.input().name()), cfg.bnEps(), (long) classes, cfg.input()).toArrays();
    }

    private static void checkHeadFits(NpzWeights weights, Path path, String kernelKey, Shape kernel, String biasKey, int classes,
                                      String newHead) {
        String advice = "; without --keep-head " + newHead + " for " + classes + " classes is made";
        if (!weights.keys().contains(kernelKey) || !weights.keys().contains(biasKey)) {
            throw new BitEngineException("--keep-head: " + path + " has no head ('" + kernelKey + "')" + advice);
        }
        Shape k = weights.shape(kernelKey);
        if (!k.equals(kernel)) {
            int has = k.rank() > 0 ? k.dim(-1) : 0;
            throw new BitEngineException("--keep-head: the head of " + path + " has " + has + " classes (kernel " + k
                    + ") but the data has " + classes + " classes" + advice);
        }
        if (!weights.shape(biasKey).equals(Shape.of(classes))) {
            throw new BitEngineException("--keep-head: the head bias of " + path + " has shape " + weights.shape(biasKey)
                    + " but the data has " + classes + " classes" + advice);
        }
    }
}
