package org.bitengine.io.data;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.data.DataTestSupport.copyFixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.bitengine.io.image.Transform;
import org.bitengine.io.image.Transforms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLoaderTest {

    private static final Transform TRAIN = Transforms.train(10, 8);

    private static void assertSameBatch(Batch a, Batch b, String what) {
        assertEquals(a.n(), b.n(), what);
        assertArrayEquals(a.indices(), b.indices(), what);
        assertArrayEquals(a.labels(), b.labels(), what);
        assertEquals(a.x().length, b.x().length, what);
        for (int i = 0; i < a.x().length; i++) {
            if (Float.floatToRawIntBits(a.x()[i]) != Float.floatToRawIntBits(b.x()[i])) {
                throw new AssertionError(what + ": x differs at " + i + ": " + a.x()[i] + " vs " + b.x()[i]);
            }
        }
    }

    @Test
    void batchesDependOnlyOnSeedAndNumber() {
        // Jitter makes decoding finish out of order on several threads.
        SyntheticDataset d = SyntheticDataset.of(37, 3, 12, 9).withJitter();
        List<Batch> sequential = new ArrayList<>();
        try (BatchLoader one = new BatchLoader(d, TRAIN, 5, true, true, 11, 1, 1, s -> { })) {
            assertEquals(7, one.batchesPerEpoch());
            for (long b = 0; b < 17; b++) { // crosses two epoch boundaries
                sequential.add(one.batch(b));
            }
        }
        try (BatchLoader two = new BatchLoader(d, TRAIN, 5, true, true, 11, 2, 4, s -> { })) {
            for (int b = 0; b < 17; b++) {
                assertSameBatch(sequential.get(b), two.batch(b), "threads=2/prefetch=4 batch " + b);
            }
        }
        try (BatchLoader jump = new BatchLoader(d, TRAIN, 5, true, true, 11, 2, 3, s -> { })) {
            assertSameBatch(sequential.get(12), jump.batch(12), "resumed at 12");
            assertSameBatch(sequential.get(13), jump.batch(13), "then 13");
            assertSameBatch(sequential.get(3), jump.batch(3), "back to 3");
            assertSameBatch(sequential.get(16), jump.batch(16), "forward to 16");
        }
        try (BatchLoader noPrefetch = new BatchLoader(d, TRAIN, 5, true, true, 11, 3, 0, s -> { })) {
            assertSameBatch(sequential.get(8), noPrefetch.batch(8), "prefetch 0");
        }
        try (BatchLoader otherSeed = new BatchLoader(d, TRAIN, 5, true, true, 12, 1, 1, s -> { })) {
            assertFalse(Arrays.equals(sequential.get(0).indices(), otherSeed.batch(0).indices()));
        }
        // The same example in two epochs gets different augmentations.
        assertNotEquals(Arrays.toString(sequential.get(0).x()), Arrays.toString(sequential.get(7).x()));
    }

    @Test
    void everyExampleOncePerEpoch() {
        SyntheticDataset d = SyntheticDataset.of(23, 4, 6, 6);
        try (BatchLoader eval = new BatchLoader(d, Transforms.eval(6), 5, true, false, 3, 2, 2, s -> { })) {
            assertEquals(5, eval.batchesPerEpoch());
            for (int epoch = 0; epoch < 2; epoch++) {
                int[] seen = new int[23];
                for (int b = 0; b < 5; b++) {
                    Batch batch = eval.batch(epoch * 5L + b);
                    assertEquals(b < 4 ? 5 : 3, batch.n(), "the last batch is short");
                    assertEquals(batch.n() * 6 * 6 * 3, batch.x().length);
                    for (int k = 0; k < batch.n(); k++) {
                        seen[batch.indices()[k]]++;
                        assertEquals(d.label(batch.indices()[k]), batch.labels()[k]);
                    }
                }
                int[] ones = new int[23];
                Arrays.fill(ones, 1);
                assertArrayEquals(ones, seen, "epoch " + epoch);
            }
            assertFalse(Arrays.equals(eval.epochOrder(0), eval.epochOrder(1)), "each epoch its own order");
        }
        try (BatchLoader train = new BatchLoader(d, TRAIN, 5, true, true, 3, 2, 2, s -> { })) {
            assertEquals(4, train.batchesPerEpoch());
            Set<Integer> seen = new java.util.HashSet<>();
            for (int b = 0; b < 4; b++) {
                Batch batch = train.batch(b);
                assertEquals(5, batch.n());
                for (int i : batch.indices()) {
                    assertTrue(seen.add(i), "repeated within an epoch");
                }
            }
            assertEquals(20, seen.size());
        }
    }

    @Test
    void unshuffledEpochIsInIndexOrderAndContentIsTheTransform() {
        SyntheticDataset d = SyntheticDataset.of(11, 2, 6, 6);
        List<Integer> order = new ArrayList<>();
        List<Batch> batches = new ArrayList<>();
        try (BatchLoader eval = new BatchLoader(d, Transforms.eval(6), 4, false, false, 0, 2, 2, s -> { })) {
            eval.forEachBatchOfOneEpoch(b -> {
                batches.add(b);
                for (int i : b.indices()) {
                    order.add(i);
                }
            });
            assertEquals(3, batches.size());
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), order);
            Batch b = batches.get(2);
            assertEquals(6, b.height());
            assertEquals(6, b.width());
            float[] want = Transforms.eval(6).apply(d.image(9), new SplittableRandom(0));
            assertArrayEquals(want, Arrays.copyOfRange(b.x(), 6 * 6 * 3, 2 * 6 * 6 * 3));
            // a second pass gives the same batches
            List<Batch> again = new ArrayList<>();
            eval.forEachBatchOfOneEpoch(again::add);
            for (int i = 0; i < 3; i++) {
                assertSameBatch(batches.get(i), again.get(i), "second pass " + i);
            }
        }
    }

    @Test
    void undecodableExamplesAreLeftOutWithOneWarningEach() {
        SyntheticDataset d = SyntheticDataset.of(12, 3, 6, 6).withBroken(Set.of(5, 6));
        DataTestSupport.Warnings w = new DataTestSupport.Warnings();
        try (BatchLoader eval = new BatchLoader(d, Transforms.eval(6), 4, false, false, 0, 2, 1, w)) {
            for (int epoch = 0; epoch < 2; epoch++) {
                Batch b0 = eval.batch(epoch * 3L);
                Batch b1 = eval.batch(epoch * 3L + 1);
                Batch b2 = eval.batch(epoch * 3L + 2);
                assertEquals(4, b0.n());
                assertEquals(2, b1.n());
                assertArrayEquals(new int[] {4, 7}, b1.indices());
                assertEquals(2 * 6 * 6 * 3, b1.x().length);
                float[] want7 = Transforms.eval(6).apply(d.image(7), new SplittableRandom(0));
                assertArrayEquals(want7, Arrays.copyOfRange(b1.x(), 6 * 6 * 3, 2 * 6 * 6 * 3));
                assertArrayEquals(new int[] {d.label(4), d.label(7)}, b1.labels());
                assertEquals(4, b2.n());
            }
            assertEquals(4, eval.skippedExamples(), "two per epoch");
        }
        List<String> lines = w.lines();
        assertEquals(2, lines.size(), "one warning per file: " + lines);
        assertTrue(lines.get(0).contains("synthetic/5.png"), lines.get(0));
        assertTrue(lines.get(1).contains("synthetic/6.png"), lines.get(1));
    }

    @Test
    void aFileBrokenAfterTheScanIsSkippedByTheLoader(@TempDir Path dir) throws IOException {
        Path root = copyFixture("folder", dir.resolve("ds"));
        ImageFolderDataset d = ImageFolderDataset.open(root, s -> { });
        Path victim = d.file(4);
        Files.write(victim, new byte[] {1, 2, 3});
        DataTestSupport.Warnings w = new DataTestSupport.Warnings();
        List<Batch> batches = new ArrayList<>();
        try (BatchLoader eval = new BatchLoader(d, Transforms.eval(5), 3, false, false, 0, 2, 2, w)) {
            eval.forEachBatchOfOneEpoch(batches::add);
            assertEquals(1, eval.skippedExamples());
        }
        assertEquals(List.of(3, 2, 1), batches.stream().map(Batch::n).toList());
        assertEquals(1, w.lines().size());
        assertTrue(w.lines().get(0).contains(victim.toString()), w.lines().get(0));
        for (Batch b : batches) {
            for (float v : b.x()) {
                assertTrue(v >= -1f && v <= 1f);
            }
        }
    }

    @Test
    void bugsAreRethrownNotSkipped() {
        SyntheticDataset d = SyntheticDataset.of(8, 2, 4, 4).withBug(Set.of(3));
        try (BatchLoader l = new BatchLoader(d, Transforms.eval(4), 4, false, false, 0, 2, 1, s -> { })) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.batch(0));
            assertTrue(e.getMessage().contains("synthetic bug at 3"), e.getMessage());
            assertEquals(4, l.batch(1).n());
        }
    }

    @Test
    void argumentsAndClose() {
        SyntheticDataset d = SyntheticDataset.of(6, 2, 4, 4);
        assertUserError(() -> new BatchLoader(d, TRAIN, 7, true, true, 0, 1, 1, s -> { }), "6 examples", "batch of 7");
        assertUserError(() -> new BatchLoader(d, TRAIN, 0, true, true, 0, 1, 1, s -> { }), "batch size");
        assertUserError(() -> new BatchLoader(d, TRAIN, 2, true, true, 0, 0, 1, s -> { }), "threads");
        assertUserError(() -> new BatchLoader(SyntheticDataset.of(0, 1, 4, 4), TRAIN, 2, true, true, 0, 1, 1, s -> { }),
                "no examples");
        BatchLoader l = new BatchLoader(d, Transforms.eval(4), 7, false, false, 0, 2, 2, s -> { });
        assertEquals(1, l.batchesPerEpoch());
        assertEquals(6, l.batch(0).n());
        assertEquals(6, l.batch(5).n(), "cycles forever");
        l.close();
        l.close();
        assertThrows(IllegalStateException.class, () -> l.batch(1));
    }
}
