package org.bitengine.models.train;

import java.util.Arrays;
import java.util.Locale;

/**
 * The learning rate of every optimizer step and the step count.
 *
 * <ul>
 * <li>{@code bit}: the BiT-HyperRule staircase over {@code supports} = [warm-up end, three decay points,
 *     total]: linear warm-up from 0, then ÷10 after each decay point, exactly as {@link HyperRule#lr}.</li>
 * <li>{@code constant}: {@code baseLr} for every step, {@code supports} = [total].</li>
 * </ul>
 */
public record Schedule(Kind kind, int[] supports, double baseLr) {

    public enum Kind {
        BIT, CONSTANT;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Schedule {
        supports = supports.clone();
        if (supports.length == 0 || supports[supports.length - 1] < 1) {
            throw new IllegalArgumentException("a schedule needs at least one step: " + Arrays.toString(supports));
        }
        if (kind == Kind.BIT && supports.length != 5) {
            throw new IllegalArgumentException("the bit schedule has 5 boundaries, got " + Arrays.toString(supports));
        }
        for (int i = 1; i < supports.length; i++) {
            if (supports[i] < supports[i - 1]) throw new IllegalArgumentException("boundaries must not decrease: " + Arrays.toString(supports));
        }
    }

    public static Schedule bit(int[] supports, double baseLr) {
        return new Schedule(Kind.BIT, supports, baseLr);
    }

    public static Schedule constant(int steps, double baseLr) {
        return new Schedule(Kind.CONSTANT, new int[] {steps}, baseLr);
    }

    /** Number of optimizer steps. */
    public int totalSteps() {
        return supports[supports.length - 1];
    }

    @Override
    public int[] supports() {
        return supports.clone();
    }

    /** The learning rate of step {@code step} (counted from 0), or null once training is over. */
    public Double lr(int step) {
        return switch (kind) {
            case BIT -> HyperRule.lr(step, supports, baseLr);
            case CONSTANT -> step >= totalSteps() ? null : baseLr;
        };
    }

    /**
     * The boundaries scaled proportionally so that the last one is {@code steps}: boundary i becomes
     * {@code round(b_i · steps / b_last)} (the last one exactly {@code steps}). With the rule's
     * [100, 200, 300, 400, 500] and 1000 steps this gives [200, 400, 600, 800, 1000]. Very short runs
     * may get a warm-up of 0 steps or repeated boundaries; both are harmless to {@link HyperRule#lr}.
     */
    public static int[] scaleTo(int[] supports, int steps) {
        int last = supports[supports.length - 1];
        int[] out = new int[supports.length];
        for (int i = 0; i < supports.length; i++) {
            out[i] = (int) Math.round((double) supports[i] * steps / last);
        }
        out[out.length - 1] = steps;
        return out;
    }

    /** e.g. {@code bit [100, 200, 300, 400, 500] base lr 0.003} or {@code constant 2 steps lr 0.003}. */
    public String describe() {
        return kind == Kind.BIT
                ? "bit " + Arrays.toString(supports) + " (warm-up to step " + supports[0] + ", lr ÷10 after "
                        + supports[1] + ", " + supports[2] + ", " + supports[3] + "), base lr " + num(baseLr)
                : "constant lr " + num(baseLr) + " for " + totalSteps() + " steps";
    }

    private static String num(double d) {
        return org.bitengine.io.json.Json.number(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Schedule s && s.kind == kind && Arrays.equals(s.supports, supports)
                && Double.compare(s.baseLr, baseLr) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(supports) * 31 + kind.hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }
}
