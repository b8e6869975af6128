package org.bitengine.io.data;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SubsetsTest {

    /** Class sizes 50, 30, 20, 7, 1, labels interleaved. */
    private static SyntheticDataset unbalanced() {
        int[] sizes = {50, 30, 20, 7, 1};
        int n = Arrays.stream(sizes).sum();
        int[] labels = new int[n];
        int[] left = sizes.clone();
        int k = 0;
        while (k < n) {
            for (int c = 0; c < sizes.length; c++) {
                if (left[c]-- > 0) {
                    labels[k++] = c;
                }
            }
        }
        return new SyntheticDataset(labels, sizes.length, 2, 2, Set.of(), Set.of(), false);
    }

    @Test
    void stratifiedSplitIsProportionalAndDeterministic() {
        SyntheticDataset d = unbalanced();
        Subsets.TrainVal s = Subsets.stratifiedSplit(d, 0.2, 42);
        assertEquals(Math.round(0.2 * 108), s.val().length);
        assertEquals(108, s.train().length + s.val().length);
        Set<Integer> all = new HashSet<>();
        for (int i : s.train()) {
            assertTrue(all.add(i));
        }
        for (int i : s.val()) {
            assertTrue(all.add(i), "index in both parts");
        }
        assertEquals(108, all.size());
        int[] sizes = {50, 30, 20, 7, 1};
        int[] val = new int[5];
        for (int i : s.val()) {
            val[d.label(i)]++;
        }
        for (int c = 0; c < 5; c++) {
            assertTrue(Math.abs(val[c] - 0.2 * sizes[c]) < 1, "class " + c + ": " + val[c] + " of " + sizes[c]);
        }
        assertEquals(0, val[4], "a class's only example stays in training");
        assertTrue(isSorted(s.train()) && isSorted(s.val()));

        Subsets.TrainVal again = Subsets.stratifiedSplit(d, 0.2, 42);
        assertArrayEquals(s.train(), again.train());
        assertArrayEquals(s.val(), again.val());
        assertFalse(Arrays.equals(s.val(), Subsets.stratifiedSplit(d, 0.2, 43).val()), "the seed changes the choice");
        assertEquals(0, Subsets.stratifiedSplit(d, 0, 1).val().length);
        assertUserError(() -> Subsets.stratifiedSplit(d, 1.0, 1), "validation fraction");
        assertUserError(() -> Subsets.stratifiedSplit(d, -0.1, 1), "validation fraction");
    }

    @Test
    void examplesPerClass() {
        SyntheticDataset d = unbalanced();
        int[] pool = Subsets.stratifiedSplit(d, 0.2, 1).train();
        int[] few = Subsets.examplesPerClass(new SubsetDataset(d, pool).base(), pool, 1, 5);
        assertEquals(5, few.length);
        Set<Integer> poolSet = new HashSet<>();
        for (int i : pool) {
            poolSet.add(i);
        }
        int[] perClass = new int[5];
        for (int i : few) {
            assertTrue(poolSet.contains(i));
            perClass[d.label(i)]++;
        }
        assertArrayEquals(new int[] {1, 1, 1, 1, 1}, perClass);
        assertArrayEquals(few, Subsets.examplesPerClass(d, pool, 1, 5));
        assertUserError(() -> Subsets.examplesPerClass(d, pool, 6, 5), "class 'class3' has only", "fewer than the 6 per class",
                "at most 1");
        assertUserError(() -> Subsets.examplesPerClass(d, pool, 0, 5), "at least 1");

        SyntheticDataset big = SyntheticDataset.of(100, 4, 2, 2);
        int[] all = new int[100];
        Arrays.setAll(all, i -> i);
        int[] five = Subsets.examplesPerClass(big, all, 5, 9);
        assertEquals(20, five.length);
        assertFalse(Arrays.equals(five, Subsets.examplesPerClass(big, all, 5, 10)));
    }

    @Test
    void subsetDatasetIsAView() {
        SyntheticDataset d = SyntheticDataset.of(10, 3, 2, 2);
        SubsetDataset s = new SubsetDataset(d, new int[] {7, 2, 2});
        assertEquals(3, s.size());
        assertEquals(d.label(7), s.label(0));
        assertArrayEquals(d.image(2).pixels(), s.image(2).pixels());
        assertEquals("synthetic/7.png", s.describe(0));
        assertEquals(d.classes(), s.classes());
        assertArrayEquals(d.nominalSize(), s.nominalSize());
        assertThrows(IndexOutOfBoundsException.class, () -> new SubsetDataset(d, new int[] {10}));
    }

    private static boolean isSorted(int[] a) {
        for (int i = 1; i < a.length; i++) {
            if (a[i] < a[i - 1]) {
                return false;
            }
        }
        return true;
    }
}
