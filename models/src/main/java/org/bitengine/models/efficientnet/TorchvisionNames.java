package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;

/**
 * The mapping between torchvision's EfficientNet state-dict keys and {@link EfficientNet}'s names,
 * with the layout conversion.
 *
 * <p>torchvision's module tree (torchvision 0.14, {@code models/efficientnet.py}): {@code features.0}
 * is the stem ({@code .0} conv, {@code .1} BatchNorm), {@code features.1} … {@code features.7} the stages,
 * each a sequence of MBConv whose {@code block} holds, in order, the expand conv-BN (only when the
 * expand ratio is not 1), the depthwise conv-BN, the SE module ({@code fc1}, {@code fc2}, 1×1 convs with
 * bias) and the projection conv-BN; {@code features.8} is the head conv-BN; {@code classifier.1} the
 * Linear after the dropout. Stem and head are mapped by the first and last {@code features} index.
 *
 * <p>Layout: every 4-D kernel OIHW → HWIO (transpose (2,3,1,0); a depthwise [C,1,k,k] becomes
 * [k,k,1,C]); the Linear [out,in] → [in,out]; vectors as they are. {@code num_batches_tracked} is
 * dropped. Keys that match nothing are passed through under their own name, so a {@link
 * org.bitengine.engine.nn.LoadReport} lists them as unused.
 */
public final class TorchvisionNames {

    /** One MBConv of the torchvision tree: {@code features.<stage>.<layer>}, with or without the expand conv. */
    public record Slot(int stage, int layer, boolean expand) {}

    private static final Pattern BLOCK = Pattern.compile("features\\.(\\d+)\\.(\\d+)\\.block\\.(\\d+)\\..*");
    private static final List<String> BN = List.of("weight", "bias", "running_mean", "running_var");

    private final List<Slot> slots;
    private final Map<String, String> toOurs = new LinkedHashMap<>();
    private final Map<String, String> toTorchvision = new LinkedHashMap<>();
    private final Set<String> dropped = new LinkedHashSet<>();

    private TorchvisionNames(List<Slot> slots) {
        this.slots = List.copyOf(slots);
        int headIndex = slots.isEmpty() ? 1 : slots.getLast().stage() + 1;
        convBn("features.0", "efficientnet/stem");
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            String tv = "features." + s.stage() + "." + s.layer() + ".block.";
            String ours = "efficientnet/blocks/" + String.format("%02d", i) + "/";
            int o = s.expand() ? 1 : 0;
            if (s.expand()) convBn(tv + "0", ours + "expand");
            convBn(tv + o, ours + "depthwise");
            put(tv + (o + 1) + ".fc1.weight", ours + "se/reduce/kernel");
            put(tv + (o + 1) + ".fc1.bias", ours + "se/reduce/bias");
            put(tv + (o + 1) + ".fc2.weight", ours + "se/expand/kernel");
            put(tv + (o + 1) + ".fc2.bias", ours + "se/expand/bias");
            convBn(tv + (o + 2), ours + "project");
        }
        convBn("features." + headIndex, "efficientnet/head");
        put("classifier.1.weight", EfficientNet.CLASSIFIER_KERNEL);
        put("classifier.1.bias", EfficientNet.CLASSIFIER_BIAS);
    }

    private void convBn(String tv, String ours) {
        put(tv + ".0.weight", ours + "/conv/kernel");
        for (String b : BN) put(tv + ".1." + b, ours + "/bn/" + b);
        dropped.add(tv + ".1.num_batches_tracked");
    }

    private void put(String tv, String ours) {
        toOurs.put(tv, ours);
        toTorchvision.put(ours, tv);
    }

    /** The names of the network {@code config} describes. */
    public static TorchvisionNames of(EfficientNetConfig config) {
        List<Slot> slots = new ArrayList<>();
        for (EfficientNetConfig.Block b : config.blocks()) slots.add(new Slot(b.stage(), b.layer(), b.hasExpand()));
        return new TorchvisionNames(slots);
    }

    /**
     * The names of whatever EfficientNet a torchvision state dict holds: blocks are the
     * {@code features.S.L.block} present, in (S, L) order; a block has an expand conv when its
     * {@code block} has four children.
     */
    public static TorchvisionNames inferFrom(Set<String> torchvisionKeys) {
        TreeMap<Integer, TreeMap<Integer, Integer>> children = new TreeMap<>();
        for (String k : torchvisionKeys) {
            Matcher m = BLOCK.matcher(k);
            if (!m.matches()) continue;
            children.computeIfAbsent(Integer.parseInt(m.group(1)), s -> new TreeMap<>())
                    .merge(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), Math::max);
        }
        List<Slot> slots = new ArrayList<>();
        children.forEach((stage, layers) -> layers.forEach((layer, maxChild) -> slots.add(new Slot(stage, layer, maxChild >= 3))));
        if (slots.isEmpty()) throw new IllegalArgumentException("torchvision EfficientNet: no features.S.L.block keys found; is this an EfficientNet state dict?");
        return new TorchvisionNames(slots);
    }

    public List<Slot> slots() {
        return slots;
    }

    /** Our name for a torchvision key, or null when it has none (dropped or unknown). */
    public String ours(String torchvisionKey) {
        return toOurs.get(torchvisionKey);
    }

    /** torchvision's key for one of our names, or null when it has none. */
    public String torchvision(String ourKey) {
        return toTorchvision.get(ourKey);
    }

    /** Every torchvision key this mapping knows, in module order (without {@code num_batches_tracked}). */
    public Set<String> torchvisionKeys() {
        return Collections.unmodifiableSet(toOurs.keySet());
    }

    /** The {@code num_batches_tracked} keys, which have no counterpart here. */
    public Set<String> droppedKeys() {
        return Collections.unmodifiableSet(dropped);
    }

    /** Whether the key is dropped on conversion ({@code num_batches_tracked}). */
    public static boolean isDropped(String torchvisionKey) {
        return torchvisionKey.endsWith(".num_batches_tracked");
    }

    /** The shape of {@code ourKey} given torchvision's stored shape. */
    public static int[] convertShape(String ourKey, int[] torchShape) {
        if (!ourKey.endsWith("/kernel")) return torchShape.clone();
        return switch (torchShape.length) {
            case 4 -> new int[] {torchShape[2], torchShape[3], torchShape[1], torchShape[0]};
            case 2 -> new int[] {torchShape[1], torchShape[0]};
            default -> throw new IllegalArgumentException("torchvision EfficientNet: kernel for '" + ourKey + "' has rank "
                    + torchShape.length + ", expected 4 (conv) or 2 (linear)");
        };
    }

    /** torchvision's values (row-major, {@code torchShape}) in our layout for {@code ourKey}. */
    public static float[] convert(String ourKey, int[] torchShape, float[] v) {
        if (!ourKey.endsWith("/kernel")) return v;
        if (torchShape.length == 2) {
            int o = torchShape[0], in = torchShape[1];
            float[] r = new float[v.length];
            for (int a = 0; a < o; a++)
                for (int b = 0; b < in; b++) r[b * o + a] = v[a * in + b];
            return r;
        }
        int oc = torchShape[0], ic = torchShape[1], kh = torchShape[2], kw = torchShape[3];
        float[] r = new float[v.length];
        for (int o = 0; o < oc; o++)
            for (int i = 0; i < ic; i++)
                for (int h = 0; h < kh; h++)
                    for (int w = 0; w < kw; w++) r[((h * kw + w) * ic + i) * oc + o] = v[((o * ic + i) * kh + h) * kw + w];
        return r;
    }

    /** Our layout back to torchvision's: the inverse of {@link #convert}. */
    public static float[] convertBack(String ourKey, int[] torchShape, float[] ours) {
        if (!ourKey.endsWith("/kernel")) return ours;
        if (torchShape.length == 2) return convert(ourKey, new int[] {torchShape[1], torchShape[0]}, ours);
        int oc = torchShape[0], ic = torchShape[1], kh = torchShape[2], kw = torchShape[3];
        float[] r = new float[ours.length];
        for (int o = 0; o < oc; o++)
            for (int i = 0; i < ic; i++)
                for (int h = 0; h < kh; h++)
                    for (int w = 0; w < kw; w++) r[((o * ic + i) * kh + h) * kw + w] = ours[((h * kw + w) * ic + i) * oc + o];
        return r;
    }

    /** A torchvision state dict (a {@code TorchStateDict.Reader}, say) under our names. */
    public static WeightSource weights(WeightSource stateDict) {
        return inferFrom(stateDict.keys()).source(stateDict);
    }

    /** As {@link #weights(WeightSource)} with this mapping. */
    public WeightSource source(WeightSource stateDict) {
        return renamed(toOurs, stateDict, "torchvision EfficientNet");
    }

    /**
     * A PyTorch state dict under our names: {@code toOurs} maps its keys (torchvision's or timm's) to
     * ours, arrays in PyTorch layout are converted as {@link #convert} does, {@code num_batches_tracked}
     * is dropped, and a key without a mapping is kept under its own name (so it is reported unused).
     * Shapes come from {@code stateDict}'s headers; each array is read and converted only when asked
     * for, so a state dict read lazily stays lazy.
     */
    static WeightSource renamed(Map<String, String> toOurs, WeightSource stateDict, String what) {
        Map<String, String> byOurs = new LinkedHashMap<>();
        for (String tv : stateDict.keys()) {
            if (isDropped(tv)) continue;
            String ours = toOurs.get(tv);
            byOurs.put(ours == null ? tv : ours, tv);
        }
        return new WeightSource() {
            @Override
            public Set<String> keys() {
                return Collections.unmodifiableSet(byOurs.keySet());
            }

            @Override
            public Shape shape(String key) {
                String tv = torchKey(key);
                int[] shape = stateDict.shape(tv).dims();
                return Shape.of(tv.equals(key) ? shape : convertShape(key, shape));
            }

            @Override
            public float[] read(String key) {
                String tv = torchKey(key);
                float[] v = stateDict.read(tv);
                return tv.equals(key) ? v : convert(key, stateDict.shape(tv).dims(), v);
            }

            private String torchKey(String key) {
                String tv = byOurs.get(key);
                if (tv == null) throw new IllegalArgumentException(what + ": no key '" + key + "'");
                return tv;
            }
        };
    }
}
