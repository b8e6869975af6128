package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.bitengine.engine.BitEngineException;

/** Seeded, deterministic choices of examples: a stratified validation split and few-shot subsets. */
public final class Subsets {

    /** Dataset indices of the training and the validation part, each in ascending order. */
    public record TrainVal(int[] train, int[] val) {}

    private Subsets() {
    }

    /**
     * Holds out {@code valFraction} of every class for validation. The validation part has
     * {@code round(valFraction · size)} examples shared among the classes in proportion to their sizes
     * (largest remainders get the leftover ones), never taking a class's last training example; which
     * examples of a class go there is a seeded shuffle. The same (dataset, fraction, seed) always gives
     * the same split.
     *
     * @throws BitEngineException if valFraction is not in [0, 1)
     */
    public static TrainVal stratifiedSplit(ImageDataset d, double valFraction, long seed) {
        Objects.requireNonNull(d, "d");
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw error("validation fraction " + valFraction + " is not in [0, 1); pass e.g. 0.1 to hold out 10%");
        }
        int[] all = new int[d.size()];
        Arrays.setAll(all, i -> i);
        int[][] byClass = byClass(d, all);
        int k = byClass.length;
        int target = (int) Math.round(valFraction * d.size());
        int[] take = new int[k];
        double[] remainder = new double[k];
        int given = 0;
        for (int c = 0; c < k; c++) {
            int n = byClass[c].length;
            double quota = valFraction * n;
            int cap = Math.max(n - 1, 0);
            take[c] = Math.min((int) Math.floor(quota), cap);
            remainder[c] = quota - Math.floor(quota);
            given += take[c];
        }
        Integer[] order = new Integer[k];
        Arrays.setAll(order, c -> c);
        Arrays.sort(order, (a, b) -> remainder[a] != remainder[b] ? Double.compare(remainder[b], remainder[a])
                : Integer.compare(a, b));
        for (int i = 0; i < k && given < target; i++) {
            int c = order[i];
            if (take[c] < Math.max(byClass[c].length - 1, 0)) {
                take[c]++;
                given++;
            }
        }
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            int[] members = byClass[c].clone();
            shuffle(members, new SplittableRandom(Seeds.mix(seed, 0x5A11L, c)));
            for (int i = 0; i < members.length; i++) {
                (i < take[c] ? val : train).add(members[i]);
            }
        }
        return new TrainVal(sorted(train), sorted(val));
    }

    /**
     * Picks {@code k} examples of every class out of {@code pool} (dataset indices), by a seeded
     * shuffle of each class's members; returns them in ascending order.
     *
     * @throws BitEngineException if k < 1 or a class has fewer than k examples in the pool
     */
    public static int[] examplesPerClass(ImageDataset d, int[] pool, int k, long seed) {
        Objects.requireNonNull(d, "d");
        if (k < 1) {
            throw error("examples per class must be at least 1, got " + k);
        }
        int[][] byClass = byClass(d, pool);
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < byClass.length; c++) {
            if (byClass[c].length == 0) {
                throw error("class '" + d.classes().get(c) + "' has no examples to choose " + k + " from;"
                        + " add examples of it or remove the class from the dataset");
            }
            if (byClass[c].length < k) {
                throw error("class '" + d.classes().get(c) + "' has only " + byClass[c].length + " example"
                        + (byClass[c].length == 1 ? "" : "s") + " to choose from, fewer than the " + k
                        + " per class asked for; ask for at most " + minSize(byClass) + " per class");
            }
            int[] members = byClass[c].clone();
            shuffle(members, new SplittableRandom(Seeds.mix(seed, 0xF5E7L, c)));
            for (int i = 0; i < k; i++) {
                out.add(members[i]);
            }
        }
        return sorted(out);
    }

    /** The pool's indices grouped by label, each group in pool order. */
    static int[][] byClass(ImageDataset d, int[] pool) {
        int k = d.classes().size();
        int[] counts = new int[k];
        int[] labels = new int[pool.length];
        for (int i = 0; i < pool.length; i++) {
            int l = d.label(Objects.checkIndex(pool[i], d.size()));
            if (l < 0 || l >= k) {
                throw new IllegalStateException(d.describe(pool[i]) + " has label " + l + " outside the " + k + " classes");
            }
            labels[i] = l;
            counts[l]++;
        }
        int[][] out = new int[k][];
        for (int c = 0; c < k; c++) {
            out[c] = new int[counts[c]];
        }
        int[] fill = new int[k];
        for (int i = 0; i < pool.length; i++) {
            out[labels[i]][fill[labels[i]]++] = pool[i];
        }
        return out;
    }

    private static int minSize(int[][] groups) {
        int m = Integer.MAX_VALUE;
        for (int[] g : groups) {
            m = Math.min(m, g.length);
        }
        return m;
    }

    /** Fisher–Yates. */
    static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static int[] sorted(List<Integer> list) {
        int[] a = list.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(a);
        return a;
    }
}
