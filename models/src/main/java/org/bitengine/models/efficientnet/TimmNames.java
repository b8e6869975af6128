package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.nn.WeightSource;

/**
 * The mapping between timm's EfficientNet state-dict keys ({@code timm.models.efficientnet}, blocks
 * from {@code timm/models/_efficientnet_blocks.py}) and {@link EfficientNet}'s names:
 *
 * <pre>
 * timm                                         ours
 * conv_stem.weight, bn1.*                      efficientnet/stem/{conv/kernel, bn/*}
 * blocks.S.L  (stage S = 0: DepthwiseSeparableConv, no expand conv)
 *   conv_dw.weight, bn1.*                      efficientnet/blocks/NN/depthwise/{conv/kernel, bn/*}
 *   se.conv_reduce.*, se.conv_expand.*         efficientnet/blocks/NN/se/{reduce, expand}/{kernel, bias}
 *   conv_pw.weight, bn2.*                      efficientnet/blocks/NN/project/{conv/kernel, bn/*}
 * blocks.S.L  (S ≥ 1: InvertedResidual)
 *   conv_pw.weight, bn1.*                      efficientnet/blocks/NN/expand/{conv/kernel, bn/*}
 *   conv_dw.weight, bn2.*                      efficientnet/blocks/NN/depthwise/{conv/kernel, bn/*}
 *   se.conv_reduce.*, se.conv_expand.*         efficientnet/blocks/NN/se/{reduce, expand}/{kernel, bias}
 *   conv_pwl.weight, bn3.*                     efficientnet/blocks/NN/project/{conv/kernel, bn/*}
 * conv_head.weight, bn2.*                      efficientnet/head/{conv/kernel, bn/*}
 * classifier.{weight, bias}                    efficientnet/classifier/{kernel, bias}
 * </pre>
 *
 * BatchNorm {@code weight, bias, running_mean, running_var} keep their names; {@code num_batches_tracked}
 * is dropped; layouts are converted as for torchvision (OIHW → HWIO, Linear transposed). A block is an
 * InvertedResidual when it has a {@code conv_pwl}. {@code NN} counts blocks over all stages in (S, L)
 * order. The same keys serve timm's {@code efficientnet_b*} (symmetric padding, BatchNorm eps 1e-5) and
 * its TensorFlow ports {@code tf_efficientnet_b*} ("SAME" padding, eps 1e-3): the keys cannot tell
 * them apart, the caller says which.
 */
public final class TimmNames {

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.(\\d+)\\.(.*)");
    private static final List<String> BN = List.of("weight", "bias", "running_mean", "running_var");

    /** One block: {@code blocks.<stage>.<layer>}, inverted residual (with expand conv) or depthwise-separable. */
    public record Slot(int stage, int layer, boolean invertedResidual) {}

    private final List<Slot> slots;
    private final Map<String, String> toOurs = new LinkedHashMap<>();
    private final Map<String, String> toTimm = new LinkedHashMap<>();

    private TimmNames(List<Slot> slots) {
        this.slots = List.copyOf(slots);
        put("conv_stem.weight", "efficientnet/stem/conv/kernel");
        bn("bn1", "efficientnet/stem/bn");
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            String t = "blocks." + s.stage() + "." + s.layer() + ".";
            String o = String.format("efficientnet/blocks/%02d/", i);
            if (s.invertedResidual()) {
                put(t + "conv_pw.weight", o + "expand/conv/kernel");
                bn(t + "bn1", o + "expand/bn");
                put(t + "conv_dw.weight", o + "depthwise/conv/kernel");
                bn(t + "bn2", o + "depthwise/bn");
                put(t + "conv_pwl.weight", o + "project/conv/kernel");
                bn(t + "bn3", o + "project/bn");
            } else {
                put(t + "conv_dw.weight", o + "depthwise/conv/kernel");
                bn(t + "bn1", o + "depthwise/bn");
                put(t + "conv_pw.weight", o + "project/conv/kernel");
                bn(t + "bn2", o + "project/bn");
            }
            put(t + "se.conv_reduce.weight", o + "se/reduce/kernel");
            put(t + "se.conv_reduce.bias", o + "se/reduce/bias");
            put(t + "se.conv_expand.weight", o + "se/expand/kernel");
            put(t + "se.conv_expand.bias", o + "se/expand/bias");
        }
        put("conv_head.weight", "efficientnet/head/conv/kernel");
        bn("bn2", "efficientnet/head/bn");
        put("classifier.weight", EfficientNet.CLASSIFIER_KERNEL);
        put("classifier.bias", EfficientNet.CLASSIFIER_BIAS);
    }

    private void bn(String timm, String ours) {
        for (String b : BN) put(timm + "." + b, ours + "/" + b);
    }

    private void put(String timm, String ours) {
        toOurs.put(timm, ours);
        toTimm.put(ours, timm);
    }

    /** Whether the keys are timm's EfficientNet naming. */
    public static boolean matches(Set<String> keys) {
        return keys.contains("conv_stem.weight") && keys.contains("blocks.0.0.conv_dw.weight");
    }

    /** The names of the network {@code config} describes (stage S of timm is our stage S + 1). */
    public static TimmNames of(EfficientNetConfig config) {
        List<Slot> slots = new ArrayList<>();
        for (EfficientNetConfig.Block b : config.blocks()) slots.add(new Slot(b.stage() - 1, b.layer(), b.hasExpand()));
        return new TimmNames(slots);
    }

    /** The names of whatever EfficientNet a timm state dict holds: the {@code blocks.S.L} present, in (S, L) order. */
    public static TimmNames inferFrom(Set<String> timmKeys) {
        TreeMap<Integer, TreeMap<Integer, Boolean>> found = new TreeMap<>();
        for (String k : timmKeys) {
            Matcher m = BLOCK.matcher(k);
            if (!m.matches()) continue;
            found.computeIfAbsent(Integer.parseInt(m.group(1)), s -> new TreeMap<>())
                    .merge(Integer.parseInt(m.group(2)), m.group(3).startsWith("conv_pwl."), Boolean::logicalOr);
        }
        List<Slot> slots = new ArrayList<>();
        found.forEach((stage, layers) -> layers.forEach((layer, ir) -> slots.add(new Slot(stage, layer, ir))));
        if (slots.isEmpty()) throw new IllegalArgumentException("timm EfficientNet: no blocks.S.L keys found; is this an EfficientNet state dict?");
        return new TimmNames(slots);
    }

    public List<Slot> slots() {
        return slots;
    }

    /** Our name for a timm key, or null. */
    public String ours(String timmKey) {
        return toOurs.get(timmKey);
    }

    /** timm's key for one of our names, or null. */
    public String timm(String ourKey) {
        return toTimm.get(ourKey);
    }

    /** Every timm key of this mapping, in module order (without {@code num_batches_tracked}). */
    public Set<String> timmKeys() {
        return Collections.unmodifiableSet(toOurs.keySet());
    }

    /** A timm state dict (a {@code TorchStateDict.Reader}, say) under our names. */
    public WeightSource source(WeightSource stateDict) {
        return TorchvisionNames.renamed(toOurs, stateDict, "timm EfficientNet");
    }
}
