package org.bitengine.models.registry;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.io.npy.NpzReader;

/**
 * The {@code meta/*} entries that make a converted .npz self-describing (written by {@code convert}):
 *
 * <pre>
 * meta/arch           |u1 [n]  UTF-8 string: "efficientnet-b0" … "efficientnet-b7", or "bit"
 * meta/convention     |u1 [n]  "torchvision" or "timm" (symmetric padding), "keras" or "timm-tf" (Keras'
 *                              correct_pad = TF "SAME" before stride-2 convs), or "bit" (the official BiT code)
 * meta/preprocessing  |u1 [n]  "imagenet-mean-std" ((x/255 − mean)/std, torchvision, timm), "minus1-1"
 *                              (x/127.5 − 1, BiT) or "keras-builtin" (Keras' in-model Rescaling/Normalization)
 * meta/input_mean     &lt;f8 [3]  the preprocessing's per-channel mean of x/255 (RGB), see {@link Preprocessing}
 * meta/input_std      &lt;f8 [3]  the preprocessing's per-channel divisor (RGB)
 * meta/bn_eps         &lt;f8 []   BatchNorm epsilon (EfficientNet only)
 * meta/classes        &lt;i8 []   classifier outputs
 * meta/source         |u1 [n]  informational: the format and file name converted from, e.g. "torch:b0_tv.pth"
 * </pre>
 *
 * Every entry is optional; a file without any is described from its keys and shapes alone. Model
 * loading ({@link Models}) never treats {@code meta/*} keys as weights. {@code input_mean} and
 * {@code input_std} come together; "keras-builtin" needs them (its constants are the converted file's),
 * the named conventions have fixed ones ({@link Preprocessing#named}).
 *
 * @param input the preprocessing constants of {@code meta/input_mean}/{@code meta/input_std} (named after
 *              {@code meta/preprocessing}), or null when the file has none
 */
public record ModelMeta(Map<String, String> strings, Double bnEps, Long classes, Preprocessing input) {

    public static final String PREFIX = org.bitengine.io.checkpoint.NpzWeights.META_PREFIX;
    public static final String ARCH = "meta/arch";
    public static final String CONVENTION = "meta/convention";
    public static final String PREPROCESSING = "meta/preprocessing";
    public static final String BN_EPS = "meta/bn_eps";
    public static final String CLASSES = "meta/classes";
    public static final String SOURCE = "meta/source";
    public static final String INPUT_MEAN = "meta/input_mean";
    public static final String INPUT_STD = "meta/input_std";

    public static final ModelMeta NONE = new ModelMeta(Map.of(), null, null);

    public ModelMeta {
        strings = Map.copyOf(strings);
    }

    /** Metadata without preprocessing constants. */
    public ModelMeta(Map<String, String> strings, Double bnEps, Long classes) {
        this(strings, bnEps, classes, null);
    }

    /**
     * What the network wants as input: the file's constants when it has them, else the fixed ones of
     * its {@code meta/preprocessing} name; null when neither says.
     */
    public Preprocessing inputPreprocessing() {
        return input != null ? input : Preprocessing.named(preprocessing());
    }

    public static boolean isMeta(String key) {
        return key.startsWith(PREFIX);
    }

    public String arch() {
        return strings.get(ARCH);
    }

    public String convention() {
        return strings.get(CONVENTION);
    }

    public String preprocessing() {
        return strings.get(PREPROCESSING);
    }

    /** Reads the {@code meta/*} entries of an open archive (tiny; no weight is read). */
    public static ModelMeta read(NpzReader reader) {
        Map<String, String> s = new TreeMap<>();
        Double eps = null;
        Long classes = null;
        double[] mean = null, std = null;
        for (String key : reader.keys()) {
            if (!isMeta(key)) continue;
            NpyArray a = reader.read(key);
            switch (key) {
                case BN_EPS -> eps = scalar(reader, key, a).doubleValue();
                case CLASSES -> classes = scalar(reader, key, a).longValue();
                case INPUT_MEAN -> mean = triple(reader, key, a);
                case INPUT_STD -> std = triple(reader, key, a);
                default -> {
                    if (a.dtype() == NpyDType.U1 && a.ndim() == 1) s.put(key, new String(a.toBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        if ((mean == null) != (std == null)) {
            throw new BitEngineException(reader.path() + ": metadata has " + (mean == null ? INPUT_STD + " without " + INPUT_MEAN
                    : INPUT_MEAN + " without " + INPUT_STD) + "; both or neither");
        }
        Preprocessing input = null;
        if (mean != null) {
            try {
                input = new Preprocessing(s.getOrDefault(PREPROCESSING, "custom"), mean, std);
            } catch (IllegalArgumentException e) {
                throw new BitEngineException(reader.path() + ": metadata: " + e.getMessage());
            }
        }
        return new ModelMeta(s, eps, classes, input);
    }

    private static double[] triple(NpzReader reader, String key, NpyArray a) {
        if (a.size() != 3 || (a.dtype() != NpyDType.F4 && a.dtype() != NpyDType.F8)) {
            throw new BitEngineException(reader.path() + ": metadata '" + key + "' must be 3 floats (RGB), got " + a.dtype().descr() + " "
                    + a.shapeString());
        }
        return a.toDoubles();
    }

    private static Number scalar(NpzReader reader, String key, NpyArray a) {
        if (a.size() != 1) {
            throw new BitEngineException(reader.path() + ": metadata '" + key + "' must be a scalar, got shape " + a.shapeString());
        }
        return switch (a.dtype()) {
            case F4, F8 -> a.toDoubles()[0];
            case I4, I8, U1 -> a.toLongs()[0];
            default -> throw new BitEngineException(reader.path() + ": metadata '" + key + "' has dtype " + a.dtype().descr());
        };
    }

    /** The entries to write, in a fixed order. */
    public Map<String, NpyArray> toArrays() {
        Map<String, NpyArray> out = new java.util.LinkedHashMap<>();
        for (String k : new String[] {ARCH, CONVENTION, PREPROCESSING}) {
            if (strings.containsKey(k)) out.put(k, text(strings.get(k)));
        }
        if (input != null) {
            out.put(INPUT_MEAN, NpyArray.ofDoubles(new int[] {3}, input.mean()));
            out.put(INPUT_STD, NpyArray.ofDoubles(new int[] {3}, input.std()));
        }
        if (bnEps != null) out.put(BN_EPS, NpyArray.ofDoubles(new int[0], new double[] {bnEps}));
        if (classes != null) out.put(CLASSES, NpyArray.ofLongs(new int[0], new long[] {classes}));
        if (strings.containsKey(SOURCE)) out.put(SOURCE, text(strings.get(SOURCE)));
        return out;
    }

    private static NpyArray text(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return NpyArray.ofBytes(new int[] {b.length}, b);
    }

    /** Human-readable form of a preprocessing name. */
    public static String describePreprocessing(String p) {
        if (p == null) return "unknown";
        return switch (p.toLowerCase(Locale.ROOT)) {
            case "imagenet-mean-std" -> "imagenet-mean-std (RGB in [0, 1], minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225))";
            case "minus1-1" -> "minus1-1 (RGB scaled to [-1, 1])";
            default -> p;
        };
    }

    /** Human-readable form of this file's preprocessing: its constants when known, else its name. */
    public String describeInput() {
        Preprocessing p = inputPreprocessing();
        return p != null && input != null ? p.describe() : describePreprocessing(preprocessing());
    }

    static final Set<String> KNOWN = Set.of(ARCH, CONVENTION, PREPROCESSING, BN_EPS, CLASSES, SOURCE, INPUT_MEAN, INPUT_STD);
}
