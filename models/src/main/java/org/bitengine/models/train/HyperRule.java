package org.bitengine.models.train;

/**
 * The BiT-HyperRule as the official code has it ({@code bit_hyperrule.py}, commit 140de6e): image
 * resolution by image area, the step schedule and MixUp by dataset size, and the learning rate of each
 * step. Reproduced operation for operation in double precision, so every value is bit-identical to
 * what the Python functions return (the golden {@code hyperrule.json} checks this).
 */
public final class HyperRule {

    /** The official base learning rate, for a batch of 512. */
    public static final double BASE_LR = 0.003;
    /** The official batch size. */
    public static final int BASE_BATCH = 512;
    public static final double MOMENTUM = 0.9;

    private HyperRule() {}

    /** {@code get_resolution}: area h·w below 96·96 → {precrop 160, crop 128}, else {512, 480}. */
    public static int[] resolution(int height, int width) {
        return (long) height * width < 96 * 96 ? new int[] {160, 128} : new int[] {512, 480};
    }

    /**
     * {@code get_schedule}: the step boundaries [warm-up end, decay, decay, decay, total] for a training
     * set of {@code datasetSize} examples.
     */
    public static int[] schedule(long datasetSize) {
        if (datasetSize < 20_000) return new int[] {100, 200, 300, 400, 500};
        if (datasetSize < 500_000) return new int[] {500, 3000, 6000, 9000, 10000};
        return new int[] {500, 6000, 12000, 18000, 20000};
    }

    /** {@code get_mixup}: MixUp's α, 0 below 20 000 examples, else 0.1. */
    public static double mixup(long datasetSize) {
        return datasetSize < 20_000 ? 0.0 : 0.1;
    }

    /** {@code get_lr(step, dataset_size, base_lr)}; null where the official code returns None (training is over). */
    public static Double lr(int step, long datasetSize, double baseLr) {
        return lr(step, schedule(datasetSize), baseLr);
    }

    /**
     * {@code get_lr} over explicit boundaries: linear warm-up {@code base·step/supports[0]} below the
     * first, null from the last on, else {@code base} divided by 10 once for every middle boundary
     * strictly below {@code step} — by repeated division, as the official code does, so step 201 of
     * [100..500] gives 0.00030000000000000003, not 0.0003.
     */
    public static Double lr(int step, int[] supports, double baseLr) {
        if (step < supports[0]) {
            // Python evaluates base_lr * step / supports[0] left to right.
            return baseLr * step / supports[0];
        }
        if (step >= supports[supports.length - 1]) return null;
        double lr = baseLr;
        for (int i = 1; i < supports.length; i++) {
            if (supports[i] < step) lr /= 10;
        }
        return lr;
    }
}
