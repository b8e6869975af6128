package org.bitengine.models.bit;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;

/**
 * A BiT ResNet-v2: units per block (four blocks), width factor, classes of the head, and whether a
 * new head starts at zero (as the official fine-tuning code does).
 */
public record BitConfig(List<Integer> blockUnits, int widthFactor, int headSize, boolean zeroHead) {

    public BitConfig {
        blockUnits = List.copyOf(blockUnits);
        if (blockUnits.size() != 4 || blockUnits.stream().anyMatch(u -> u < 1)) {
            throw new BitEngineException("BiT needs 4 blocks of at least one unit each, got " + blockUnits);
        }
        if (widthFactor < 1) throw new BitEngineException("width factor must be >= 1, got " + widthFactor);
        if (headSize < 1) throw new BitEngineException("head size (number of classes) must be >= 1, got " + headSize);
    }

    /** The published architectures, by name (BiT-R50x1 … BiT-R152x4; the "BiT-" prefix and case are optional). */
    public static BitConfig named(String name, int headSize, boolean zeroHead) {
        Matcher m = Pattern.compile("(?:bit-[sml]-|bit-)?r(50|101|152)x([1-4])").matcher(name.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new BitEngineException("unknown BiT architecture '" + name + "': use one of " + String.join(", ", NAMES));
        }
        List<Integer> units = switch (m.group(1)) {
            case "50" -> List.of(3, 4, 6, 3);
            case "101" -> List.of(3, 4, 23, 3);
            default -> List.of(3, 8, 36, 3);
        };
        return new BitConfig(units, Integer.parseInt(m.group(2)), headSize, zeroHead);
    }

    public static final List<String> NAMES = List.of("BiT-R50x1", "BiT-R50x3", "BiT-R101x1", "BiT-R101x3", "BiT-R152x2", "BiT-R152x4");

    private static final Pattern UNIT_KEY = Pattern.compile("resnet/block([1-4])/unit(\\d+)/.*");
    public static final String ROOT_KERNEL = "resnet/root_block/standardized_conv2d/kernel";
    public static final String HEAD_KERNEL = "resnet/head/conv2d/kernel";

    /**
     * Reads the architecture from checkpoint keys and shapes: units per block from the
     * {@code blockN/unitMM} keys, the width from the root kernel's output channels (64 per unit of
     * width), the head size from the head kernel.
     */
    public static BitConfig inferFrom(WeightSource weights, String file) {
        if (!weights.keys().contains(ROOT_KERNEL)) {
            throw new BitEngineException(file + ": not a BiT checkpoint: key '" + ROOT_KERNEL
                    + "' is missing (" + weights.keys().size() + " keys found); pass --model to build a fresh model instead");
        }
        int[] units = new int[4];
        for (String key : weights.keys()) {
            Matcher m = UNIT_KEY.matcher(key);
            if (m.matches()) {
                int b = Integer.parseInt(m.group(1)) - 1;
                units[b] = Math.max(units[b], Integer.parseInt(m.group(2)));
            }
        }
        Shape root = weights.shape(ROOT_KERNEL);
        if (root.rank() != 4 || root.dim(3) % 64 != 0) {
            throw new BitEngineException(file + ": key '" + ROOT_KERNEL + "' has shape " + root + ", expected (7, 7, 3, 64·width)");
        }
        int headSize = weights.keys().contains(HEAD_KERNEL) ? weights.shape(HEAD_KERNEL).dim(-1) : 1000;
        return new BitConfig(List.of(units[0], units[1], units[2], units[3]), root.dim(3) / 64, headSize, false);
    }

    public BitConfig withHead(int classes, boolean zero) {
        return new BitConfig(blockUnits, widthFactor, classes, zero);
    }

    /** Channels of the pre-logit features: 2048 per unit of width. */
    public int featureSize() {
        return 2048 * widthFactor;
    }

    /** e.g. {@code ResNet-v2 blocks [3, 4, 6, 3] width x1 (BiT-R50x1)}. */
    public String describe() {
        String depth = switch (blockUnits.toString()) {
            case "[3, 4, 6, 3]" -> "50";
            case "[3, 4, 23, 3]" -> "101";
            case "[3, 8, 36, 3]" -> "152";
            default -> null;
        };
        String base = "ResNet-v2 blocks " + blockUnits + " width x" + widthFactor;
        return depth == null ? base : base + " (BiT-R" + depth + "x" + widthFactor + ")";
    }
}
