package org.bitengine.models.registry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.io.checkpoint.NpzWeights;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.models.Classifier;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.bitengine.models.efficientnet.EfficientNet;
import org.bitengine.models.efficientnet.EfficientNetConfig;

/**
 * Which model a checkpoint in our canonical .npz naming holds, decided by its contents: the
 * {@code meta/*} entries that {@code convert} writes ({@link ModelMeta}) when present, else the keys
 * and shapes (BiT: {@code resnet/root_block/...}; EfficientNet: {@code efficientnet/stem/...}, the
 * variant B0–B7 matched on stem width, block count and head width).
 */
public final class Models {

    private Models() {}

    /** Model families this registry builds. */
    public enum Family { BIT, EFFICIENTNET }

    /**
     * What was inferred about a checkpoint.
     *
     * @param arch          canonical name: {@code "bit"} or {@code "efficientnet-b0"} … {@code "efficientnet-b7"}
     * @param config        {@link BitConfig} or {@link EfficientNetConfig}
     * @param convention    {@code "bit"}, {@code "torchvision"}, {@code "timm"}, {@code "keras"} or {@code "timm-tf"}
     * @param preprocessing {@code "minus1-1"}, {@code "imagenet-mean-std"} or {@code "keras-builtin"}
     * @param bnEps         BatchNorm epsilon, NaN for BiT (GroupNorm)
     * @param fromMeta      whether the file's {@code meta/*} entries described it
     * @param input         the preprocessing's constants (what {@code preprocessing} names)
     */
    public record Spec(Family family, String arch, Record config, String convention, String preprocessing, double bnEps,
            boolean fromMeta, Preprocessing input) {

        public int numClasses() {
            return config instanceof BitConfig b ? b.headSize() : ((EfficientNetConfig) config).numClasses();
        }

        public int featureSize() {
            return config instanceof BitConfig b ? b.featureSize() : ((EfficientNetConfig) config).featureSize();
        }

        public String describe() {
            return config instanceof BitConfig b ? b.describe() : ((EfficientNetConfig) config).describe();
        }

        /** The metadata a converted file of this model carries. */
        public ModelMeta meta(String source) {
            Map<String, String> s = new TreeMap<>();
            s.put(ModelMeta.ARCH, arch);
            s.put(ModelMeta.CONVENTION, convention);
            s.put(ModelMeta.PREPROCESSING, preprocessing);
            if (source != null) s.put(ModelMeta.SOURCE, source);
            return new ModelMeta(s, family == Family.EFFICIENTNET ? bnEps : null, (long) numClasses(), input);
        }
    }

    /** A built model in evaluation mode, what it is, and what happened to each key. */
    public record Loaded(Classifier model, Spec spec, LoadReport report) {}

    public static final String EFFICIENTNET_STEM = "efficientnet/stem/conv/kernel";
    public static final String EFFICIENTNET_HEAD = "efficientnet/head/conv/kernel";
    private static final Pattern EFFICIENTNET_BLOCK = Pattern.compile("efficientnet/blocks/(\\d+)/.*");
    public static final List<String> EFFICIENTNET_ARCHS = List.of("efficientnet-b0", "efficientnet-b1", "efficientnet-b2",
            "efficientnet-b3", "efficientnet-b4", "efficientnet-b5", "efficientnet-b6", "efficientnet-b7");

    /** Reads the {@code meta/*} entries of an .npz. */
    public static ModelMeta meta(Path npz) {
        try (NpzReader r = NpzReader.open(npz)) {
            return ModelMeta.read(r);
        }
    }

    /** Describes the checkpoint at {@code npz} from its headers and metadata; no weight is read. */
    public static Spec inspect(Path npz) {
        ModelMeta meta = meta(npz);
        try (NpzWeights w = NpzWeights.open(npz)) {
            return infer(w, meta, npz.toString());
        }
    }

    /**
     * The model in our naming ({@code weights} without meta keys): from {@code meta} where it names
     * the architecture, else from the keys and shapes.
     */
    public static Spec infer(WeightSource weights, ModelMeta meta, String file) {
        String arch = meta.arch();
        if (arch != null) return fromArch(arch, weights, meta, file);
        if (weights.keys().contains(BitConfig.ROOT_KERNEL)) return fromArch("bit", weights, meta, file);
        if (weights.keys().contains(EFFICIENTNET_STEM)) {
            return fromArch(efficientNetVariant(weights, file), weights, meta, file);
        }
        throw new BitEngineException(file + ": unknown architecture: neither a BiT checkpoint (no '" + BitConfig.ROOT_KERNEL
                + "') nor an EfficientNet one (no '" + EFFICIENTNET_STEM + "'), " + weights.keys().size() + " keys");
    }

    /** The spec for an explicit architecture name ({@code "bit"}, {@code "efficientnet-b3"}, ...), classes from the weights or metadata. */
    public static Spec fromArch(String arch, WeightSource weights, ModelMeta meta, String file) {
        String a = arch.toLowerCase(Locale.ROOT).replace('_', '-');
        boolean fromMeta = meta.arch() != null;
        if (a.equals("bit") || a.startsWith("bit-")) {
            BitConfig config = BitConfig.inferFrom(weights, file);
            String pre = orElse(meta.preprocessing(), "minus1-1");
            return new Spec(Family.BIT, "bit", config, orElse(meta.convention(), "bit"), pre, Double.NaN, fromMeta, input(meta, pre, file));
        }
        if (!EFFICIENTNET_ARCHS.contains(a)) {
            throw new BitEngineException(file + ": unknown architecture '" + arch + "'; known: bit, "
                    + String.join(", ", EFFICIENTNET_ARCHS));
        }
        int classes;
        if (weights.keys().contains(EfficientNet.CLASSIFIER_KERNEL)) {
            classes = weights.shape(EfficientNet.CLASSIFIER_KERNEL).dim(-1);
        } else if (meta.classes() != null) {
            classes = Math.toIntExact(meta.classes());
        } else {
            classes = 1000;
        }
        EfficientNetConfig c = EfficientNetConfig.preset(a.substring("efficientnet-".length()), classes);
        String convention = orElse(meta.convention(), "torchvision");
        EfficientNetConfig.Padding padding = switch (convention) {
            case "torchvision", "timm" -> EfficientNetConfig.Padding.SYMMETRIC;
            case "keras", "timm-tf" -> EfficientNetConfig.Padding.KERAS;
            default -> throw new BitEngineException(file + ": unknown convention '" + convention + "' in " + ModelMeta.CONVENTION
                    + "; expected torchvision, timm, keras or timm-tf");
        };
        // Default epsilons: torchvision's per-variant ones; timm's efficientnet_* keep PyTorch's 1e-5 for every
        // variant; Keras and timm's TF ports use Keras' 1e-3.
        double defaultEps = switch (convention) {
            case "timm" -> 1e-5;
            case "keras", "timm-tf" -> 1e-3;
            default -> c.bnEps();
        };
        double eps = meta.bnEps() != null ? meta.bnEps() : defaultEps;
        if (!(eps > 0)) throw new BitEngineException(file + ": " + ModelMeta.BN_EPS + " is " + eps + "; it must be > 0");
        EfficientNetConfig config = new EfficientNetConfig(c.variant(), c.widthMultiplier(), c.depthMultiplier(), c.resolution(),
                c.dropout(), eps, c.bnMomentum(), c.stochasticDepth(), padding, classes);
        String pre = orElse(meta.preprocessing(), "imagenet-mean-std");
        return new Spec(Family.EFFICIENTNET, a, config, convention, pre, eps, fromMeta, input(meta, pre, file));
    }

    /** The preprocessing constants: the file's, else those of the named convention; a convention without fixed ones needs the file's. */
    private static Preprocessing input(ModelMeta meta, String name, String file) {
        if (meta.input() != null) return meta.input();
        Preprocessing p = Preprocessing.named(name);
        if (p == null) {
            throw new BitEngineException(file + ": preprocessing '" + name + "' needs " + ModelMeta.INPUT_MEAN + " and " + ModelMeta.INPUT_STD
                    + ", which the file lacks; re-convert it");
        }
        return p;
    }

    private static String orElse(String v, String fallback) {
        return v == null ? fallback : v;
    }

    /** The torchvision preset B0–B7 whose stem width, block count and head width (and classes) fit our EfficientNet keys. */
    static String efficientNetVariant(WeightSource w, String file) {
        Set<Integer> blocks = new TreeSet<>();
        for (String k : w.keys()) {
            Matcher m = EFFICIENTNET_BLOCK.matcher(k);
            if (m.matches()) blocks.add(Integer.parseInt(m.group(1)));
        }
        int stem = w.shape(EFFICIENTNET_STEM).dim(-1);
        int head = w.keys().contains(EFFICIENTNET_HEAD) ? w.shape(EFFICIENTNET_HEAD).dim(-1) : -1;
        return matchPreset(stem, blocks.size(), head, null, file);
    }

    /**
     * The preset with this stem width, block count, head width (−1: any) and, when given, blocks
     * per stage; a {@link BitEngineException} naming what was found when none fits.
     */
    public static String matchPreset(int stem, int blocks, int head, List<Integer> perStage, String file) {
        for (String arch : EFFICIENTNET_ARCHS) {
            EfficientNetConfig c = EfficientNetConfig.preset(arch.substring("efficientnet-".length()), 1);
            if (c.stemChannels() != stem || c.blocks().size() != blocks || (head >= 0 && c.headChannels() != head)) continue;
            if (perStage != null && !perStage.equals(perStage(c))) continue;
            return arch;
        }
        throw new BitEngineException(file + ": unknown architecture: an EfficientNet with stem width " + stem + ", " + blocks
                + " blocks" + (head >= 0 ? " and head width " + head : "") + " matches none of B0-B7; pass --arch to force one");
    }

    /** Blocks per stage of a config, in stage order. */
    public static List<Integer> perStage(EfficientNetConfig c) {
        TreeMap<Integer, Integer> n = new TreeMap<>();
        for (EfficientNetConfig.Block b : c.blocks()) n.merge(b.stage(), 1, Integer::sum);
        return new ArrayList<>(n.values());
    }

    /** The model of an architecture record ({@link BitConfig} or {@link EfficientNetConfig}) over {@code store}. */
    public static Classifier classifier(Record config, ParameterStore store) {
        return switch (config) {
            case BitConfig b -> new BitResNet(b, store);
            case EfficientNetConfig e -> new EfficientNet(e, store);
            default -> throw new IllegalArgumentException("not a model architecture: " + config);
        };
    }

    /** Builds the (untrained-where-missing) model {@code spec} describes over {@code weights}; the report says what was applied. */
    public static Loaded build(Spec spec, WeightSource weights, Backend backend) {
        ParameterStore store = ParameterStore.from(backend, weights, 0);
        Classifier model = classifier(spec.config(), store);
        return new Loaded(model, spec, store.report());
    }

    /**
     * What {@link #build} over {@code weights} would apply, from the keys and shapes alone: no value is
     * read and no parameter allocated, so it is cheap for a checkpoint larger than the heap.
     * {@link LoadReport#applied()} lists the keys in the model's parameter order.
     */
    public static LoadReport check(Spec spec, WeightSource weights) {
        ParameterStore store = ParameterStore.shapesOnly(weights);
        classifier(spec.config(), store);
        return store.report();
    }

    /**
     * Loads a checkpoint for inference: architecture from metadata or keys, every weight required.
     * A missing or wrongly shaped key is an error naming it; {@code meta/*} keys are never "unused".
     */
    public static Loaded load(Path npz, Backend backend) {
        ModelMeta meta = meta(npz);
        try (NpzWeights w = NpzWeights.open(npz)) {
            WeightSource weights = w;
            Spec spec = infer(weights, meta, npz.toString());
            Loaded loaded = build(spec, weights, backend);
            loaded.report().requireComplete(npz.toString(), spec.describe());
            return loaded;
        }
    }
}
