package org.bitengine.models.registry;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.io.npy.NpzReader;

/**
 * The {@code meta/*} entries that make a converted .npz self-describing (written by {@code convert}):
 *
 * <pre>
 * meta/arch           |u1 [n]  UTF-8 string: "efficientnet-b0" … "efficientnet-b7", or "bit"
 * meta/convention     |u1 [n]  "torchvision" (symmetric padding) or "bit" (the official BiT code)
 * meta/preprocessing  |u1 [n]  "imagenet-mean-std" ((x/255 − mean)/std, torchvision) or "minus1-1" (x/127.5 − 1, BiT)
 * meta/bn_eps         &lt;f8 []   BatchNorm epsilon (EfficientNet only)
 * meta/classes        &lt;i8 []   classifier outputs
 * meta/source         |u1 [n]  informational: the format and file name converted from, e.g. "torch:b0_tv.pth"
 * </pre>
 *
 * Every entry is optional; a file without any is described from its keys and shapes alone. Model
 * loading ({@link Models}) never treats {@code meta/*} keys as weights.
 */
public record ModelMeta(Map<String, String> strings, Double bnEps, Long classes) {

    public static final String PREFIX = org.bitengine.io.checkpoint.NpzWeights.META_PREFIX;
    public static final String ARCH = "meta/arch";
    public static final String CONVENTION = "meta/convention";
    public static final String PREPROCESSING = "meta/preprocessing";
    public static final String BN_EPS = "meta/bn_eps";
    public static final String CLASSES = "meta/classes";
    public static final String SOURCE = "meta/source";

    public static final ModelMeta NONE = new ModelMeta(Map.of(), null, null);

    public ModelMeta {
        strings = Map.copyOf(strings);
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
        for (String key : reader.keys()) {
            if (!isMeta(key)) continue;
            NpyArray a = reader.read(key);
            switch (key) {
                case BN_EPS -> eps = scalar(reader, key, a).doubleValue();
                case CLASSES -> classes = scalar(reader, key, a).longValue();
                default -> {
                    if (a.dtype() == NpyDType.U1 && a.ndim() == 1) s.put(key, new String(a.toBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return new ModelMeta(s, eps, classes);
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

    static final Set<String> KNOWN = Set.of(ARCH, CONVENTION, PREPROCESSING, BN_EPS, CLASSES, SOURCE);
}
