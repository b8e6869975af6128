package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * EfficientNet's architecture (Tan &amp; Le, 2019) as torchvision 0.14 builds it
 * ({@code torchvision.models.efficientnet_b0 … b7}): the B0 stage table scaled by a width and a depth
 * multiplier.
 *
 * <p>Width scaling rounds every channel count with {@link #makeDivisible(double)} (nearest multiple of 8,
 * at least 8, never below 90 % of the scaled value); depth scaling gives each stage
 * {@code ceil(layers · depth)} blocks. The head is a 1×1 conv to {@code 4 ×} the last stage's (scaled)
 * width, so 1280 for B0 and 2560 for B7.
 *
 * @param variant            a label for {@link #describe()}, e.g. {@code "b0"}
 * @param widthMultiplier    channel multiplier (B0 1.0 … B7 2.0)
 * @param depthMultiplier    block-count multiplier (B0 1.0 … B7 3.1)
 * @param resolution         the input side the variant was designed for (informational; any size runs)
 * @param dropout            dropout probability before the classifier (training only)
 * @param bnEps              BatchNorm epsilon: torchvision 1e-5 for B0–B4, 1e-3 for B5–B7 (Keras 1e-3)
 * @param bnMomentum         BatchNorm momentum in PyTorch's convention: 0.1 for B0–B4, 0.01 for B5–B7
 * @param stochasticDepth    the largest stochastic-depth probability; block i of n drops with {@code sd · i / n}
 * @param padding            how convolutions are padded; see {@link Padding}
 * @param numClasses         classifier outputs
 */
public record EfficientNetConfig(String variant, double widthMultiplier, double depthMultiplier, int resolution, double dropout,
        double bnEps, double bnMomentum, double stochasticDepth, Padding padding, int numClasses) {

    /**
     * {@link #SYMMETRIC}: every k×k conv padded {@code (k−1)/2} on each side, the strided ones too
     * (torchvision, timm's {@code efficientnet_*}). {@link #KERAS}: Keras' {@code correct_pad} before
     * stride-2 convolutions (one less row/column at the top/left for even sizes), which is also
     * TensorFlow's "SAME" of timm's {@code tf_efficientnet_*} (see {@link KerasPadding}).
     */
    public enum Padding { SYMMETRIC, KERAS }

    /** One row of the base (B0) table: expand ratio, kernel, stride, input and output width, block count. */
    public record Stage(int expandRatio, int kernel, int stride, int in, int out, int layers) {}

    /**
     * One block of the scaled network: its global {@code index} (0-based, over all stages), the
     * torchvision {@code stage} (1–7) and {@code layer} within it, and its shape; the residual is used
     * when {@code stride == 1 && in == out}.
     */
    public record Block(int index, int stage, int layer, int expandRatio, int kernel, int stride, int in, int out,
            double stochasticDepth) {

        public int expanded() {
            return in * expandRatio;
        }

        /** Squeeze-and-excitation width: a quarter of the block's <em>input</em> width (torchvision), at least 1. */
        public int squeeze() {
            return Math.max(1, in / 4);
        }

        public boolean hasExpand() {
            return expandRatio != 1;
        }

        public boolean residual() {
            return stride == 1 && in == out;
        }
    }

    /** The B0 stage table (torchvision's {@code _efficientnet_conf}, the paper's Table 1). */
    public static final List<Stage> BASE_STAGES = List.of(
            new Stage(1, 3, 1, 32, 16, 1),
            new Stage(6, 3, 2, 16, 24, 2),
            new Stage(6, 5, 2, 24, 40, 2),
            new Stage(6, 3, 2, 40, 80, 3),
            new Stage(6, 5, 1, 80, 112, 3),
            new Stage(6, 5, 2, 112, 192, 4),
            new Stage(6, 3, 1, 192, 320, 1));

    public EfficientNetConfig {
        if (!(widthMultiplier > 0) || !(depthMultiplier > 0)) throw new IllegalArgumentException("EfficientNet: multipliers must be > 0");
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("EfficientNet: dropout " + dropout + " is outside [0, 1)");
        if (!(stochasticDepth >= 0 && stochasticDepth < 1)) {
            throw new IllegalArgumentException("EfficientNet: stochastic depth " + stochasticDepth + " is outside [0, 1)");
        }
        if (numClasses < 1) throw new IllegalArgumentException("EfficientNet: numClasses must be >= 1, got " + numClasses);
        if (padding == null) throw new IllegalArgumentException("EfficientNet: padding is required");
    }

    private static EfficientNetConfig torchvision(String variant, double w, double d, int res, double dropout, boolean largeEps, int classes) {
        return new EfficientNetConfig(variant, w, d, res, dropout, largeEps ? 1e-3 : 1e-5, largeEps ? 0.01 : 0.1, 0.2,
                Padding.SYMMETRIC, classes);
    }

    public static EfficientNetConfig b0(int classes) { return torchvision("b0", 1.0, 1.0, 224, 0.2, false, classes); }
    public static EfficientNetConfig b1(int classes) { return torchvision("b1", 1.0, 1.1, 240, 0.2, false, classes); }
    public static EfficientNetConfig b2(int classes) { return torchvision("b2", 1.1, 1.2, 260, 0.3, false, classes); }
    public static EfficientNetConfig b3(int classes) { return torchvision("b3", 1.2, 1.4, 300, 0.3, false, classes); }
    public static EfficientNetConfig b4(int classes) { return torchvision("b4", 1.4, 1.8, 380, 0.4, false, classes); }
    public static EfficientNetConfig b5(int classes) { return torchvision("b5", 1.6, 2.2, 456, 0.4, true, classes); }
    public static EfficientNetConfig b6(int classes) { return torchvision("b6", 1.8, 2.6, 528, 0.5, true, classes); }
    public static EfficientNetConfig b7(int classes) { return torchvision("b7", 2.0, 3.1, 600, 0.5, true, classes); }

    /** The torchvision preset {@code "b0"} … {@code "b7"} (case-insensitive, an {@code efficientnet_} prefix allowed). */
    public static EfficientNetConfig preset(String name, int classes) {
        String n = name.toLowerCase(Locale.ROOT).replace("efficientnet", "").replace("_", "").replace("-", "");
        return switch (n) {
            case "b0" -> b0(classes);
            case "b1" -> b1(classes);
            case "b2" -> b2(classes);
            case "b3" -> b3(classes);
            case "b4" -> b4(classes);
            case "b5" -> b5(classes);
            case "b6" -> b6(classes);
            case "b7" -> b7(classes);
            default -> throw new IllegalArgumentException("unknown EfficientNet variant '" + name + "'; use b0 … b7");
        };
    }

    public EfficientNetConfig withClasses(int classes) {
        return new EfficientNetConfig(variant, widthMultiplier, depthMultiplier, resolution, dropout, bnEps, bnMomentum,
                stochasticDepth, padding, classes);
    }

    /** torchvision's {@code _make_divisible(v, 8)}: nearest multiple of 8, at least 8, not below 0.9·v. */
    public static int makeDivisible(double v) {
        int divisor = 8;
        int r = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        if (r < 0.9 * v) r += divisor;
        return r;
    }

    /** A base channel count scaled by the width multiplier. */
    public int channels(int base) {
        return makeDivisible(base * widthMultiplier);
    }

    /** A base block count scaled by the depth multiplier: {@code ceil(layers · depth)}. */
    public int layers(int base) {
        return (int) Math.ceil(base * depthMultiplier);
    }

    public int stemChannels() {
        return channels(BASE_STAGES.getFirst().in());
    }

    /** The head conv's width, which is also {@link #featureSize()}: 4 × the last stage's width. */
    public int headChannels() {
        return 4 * channels(BASE_STAGES.getLast().out());
    }

    public int featureSize() {
        return headChannels();
    }

    /** Every block in order, with torchvision's stochastic-depth probability {@code sd · index / total}. */
    public List<Block> blocks() {
        int total = 0;
        for (Stage s : BASE_STAGES) total += layers(s.layers());
        List<Block> out = new ArrayList<>(total);
        int index = 0;
        for (int si = 0; si < BASE_STAGES.size(); si++) {
            Stage s = BASE_STAGES.get(si);
            int in = channels(s.in()), o = channels(s.out());
            for (int l = 0; l < layers(s.layers()); l++) {
                out.add(new Block(index, si + 1, l, s.expandRatio(), s.kernel(), l == 0 ? s.stride() : 1, l == 0 ? in : o, o,
                        stochasticDepth * index / total));
                index++;
            }
        }
        return out;
    }

    /** Trainable parameters (BatchNorm running statistics excluded), computed from the shapes alone. */
    public long parameterCount() {
        long stem = stemChannels();
        long n = 27 * stem + 2 * stem;
        for (Block b : blocks()) {
            long in = b.in(), e = b.expanded(), sq = b.squeeze(), out = b.out();
            if (b.hasExpand()) n += in * e + 2 * e;
            n += (long) b.kernel() * b.kernel() * e + 2 * e;
            n += e * sq + sq + sq * e + e;
            n += e * out + 2 * out;
        }
        long last = channels(BASE_STAGES.getLast().out()), head = headChannels();
        n += last * head + 2 * head;
        n += head * numClasses + numClasses;
        return n;
    }

    /** BatchNorm running statistics (mean and variance of every BatchNorm channel). */
    public long bufferCount() {
        long c = stemChannels() + headChannels();
        for (Block b : blocks()) c += (b.hasExpand() ? b.expanded() : 0) + b.expanded() + b.out();
        return 2 * c;
    }

    public String describe() {
        return String.format(Locale.ROOT, "EfficientNet-%s (width %.1f, depth %.1f, %d px, %d blocks, %d features, %d classes, %s padding)",
                variant.toUpperCase(Locale.ROOT), widthMultiplier, depthMultiplier, resolution, blocks().size(), featureSize(), numClasses,
                padding.name().toLowerCase(Locale.ROOT));
    }
}
