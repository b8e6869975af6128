package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.FinetuneTest.TINY;
import static org.bitengine.tests.FinetuneTest.args;
import static org.bitengine.tests.FinetuneTest.syntheticData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.io.npy.NpzWriter;
import org.bitengine.models.train.RunDir;
import org.bitengine.models.train.TrainState;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose numbers stop being finite ends at that step with one line naming the step and the
 * offending tensor, and leaves the last good checkpoint intact and named by {@code latest}
 * (docs/hardening.md, "Numerics"). Both cases are reached through {@code finetune} as a user would:
 *
 * <ul>
 *   <li>the loss: a float32 dataset in which one image is NaN (what normalising a constant image by its
 *       zero standard deviation gives), visited in order, so the step that meets it is known;</li>
 *   <li>the weights: a learning rate so large that an update overflows a parameter, on data sorted by
 *       class so that the step it happens at follows from the numbers (see the test).</li>
 * </ul>
 *
 * A non-finite gradient behind a finite loss is not reachable this way in fp32: the backward pass is
 * no larger than the forward one (the loss gradient is bounded by 2 per logit, while the logits sum
 * 2048 features times the same head weights), and raising the learning rate step by step from 1e30
 * to 1e38 gives an overflowing update or an infinite loss, never an infinite gradient first.
 * {@code NonFiniteGradientTest} covers that check.
 */
class DivergenceTest {

    /** Examples per step; the NaN image is example {@link #NAN_IMAGE}, in the third batch. */
    private static final int BATCH = 8;
    private static final int NAN_IMAGE = 18;

    /**
     * Four steps of a tiny BiT, in data order, no augmentation or MixUp (they would move the bad image
     * to another step or out of the crop), two micro-batches per step, a checkpoint after every step.
     */
    private static String[] run(Path data, Path out, String lr) {
        return args("finetune", "--data", data, "--out", out, TINY, "--resolution", "16", "--crop", "16", "--no-augment",
                "--no-shuffle", "--mixup", "0", "--batch", BATCH, "--batch-split", "2", "--steps", "4", "--schedule", "constant",
                "--lr", lr, "--checkpoint-every", "1", "--eval-every", "0", "--seed", "5", "--threads", "2");
    }

    @Test
    void aNaNLossStopsAtItsStepAndKeepsThePreviousCheckpoint(@TempDir Path dir) throws IOException {
        Path data = withNanImage(syntheticData(dir, "data.npz", 32, 16, 4, 11), dir.resolve("nan-image.npz"), NAN_IMAGE);
        Path out = dir.resolve("run");

        Run r = cli(run(data, out, "0.01"));
        System.out.println("NaN image: " + r.err().strip());

        // Image 18 is in step 2 (images 16..23), first micro-batch (16..19); steps 0 and 1 were checkpointed.
        Path kept = out.resolve("checkpoints/step-000002");
        assertUserError(r, "training diverged: the loss is NaN at step 2 (micro-batch 1/2)",
                "the last good checkpoint is " + kept + " (step 2)");
        assertLastGoodCheckpoint(out, 2);
    }

    @Test
    void anUpdateThatOverflowsAParameterStopsBeforeItsCheckpoint(@TempDir Path dir) throws IOException {
        Path data = byClass(syntheticData(dir, "data.npz", 32, 16, 4, 11), dir.resolve("by-class.npz"));
        Path out = dir.resolve("run");

        Run r = cli(run(data, out, "1e30"));
        System.out.println("lr 1e30: " + r.err().strip());

        // Step 0 sees class 0 only; through the zero-initialised head the backbone's gradient is exactly 0,
        // so only the head moves, by about lr. Step 1 sees class 1 only, which that head scores about lr
        // too low: the loss and the gradients are about lr (finite), and lr times them overflows. The
        // checkpoint after step 2 finds the parameter that did.
        Path kept = out.resolve("checkpoints/step-000001");
        assertUserError(r, "training diverged: parameter '", "' is no longer finite after step 2 (lr 1.0e30)",
                "stopped there without writing a checkpoint", "the last good checkpoint is " + kept + " (step 1)");
        Matcher named = Pattern.compile("parameter '([^']+)'").matcher(r.err());
        assertTrue(named.find(), r.err());
        try (NpzReader weights = NpzReader.open(kept.resolve(RunDir.WEIGHTS))) {
            assertTrue(weights.contains(named.group(1)), "the error names a parameter of the model: " + named.group(1));
        }
        assertLastGoodCheckpoint(out, 1);
    }

    /**
     * {@code latest} names {@code step-<good>}, the checkpoints are {@code step-000001} up to it (these
     * runs are too short for any to have been pruned) and nothing later or temporary, and the kept
     * checkpoint reads back whole (each entry's CRC-32 checks) with finite weights and momentum.
     */
    private static void assertLastGoodCheckpoint(Path out, int good) throws IOException {
        Path checkpoints = out.resolve("checkpoints");
        String name = String.format("step-%06d", good);
        assertEquals(name, Files.readString(checkpoints.resolve("latest")).strip());
        List<String> expected = Stream.concat(Stream.of("latest"),
                IntStream.rangeClosed(1, good).mapToObj(s -> String.format("step-%06d", s))).toList();
        try (Stream<Path> s = Files.list(checkpoints)) {
            assertEquals(expected, s.map(f -> f.getFileName().toString()).sorted().toList(),
                    "no checkpoint of the diverged step, and no temporary file");
        }
        Path kept = checkpoints.resolve(name);
        try (NpzReader weights = NpzReader.open(kept.resolve(RunDir.WEIGHTS))) {
            for (String key : weights.keys()) assertFinite("weights.npz '" + key + "'", weights.read(key).toFloats());
        }
        TrainState state = TrainState.read(kept.resolve(RunDir.TRAIN_STATE)); // reads every entry, CRCs checked
        assertEquals(good, state.step());
        state.optimizer().forEach((key, values) -> assertFinite("train_state.npz '" + key + "'", values));
    }

    private static void assertFinite(String what, float[] values) {
        for (float v : values) assertTrue(Float.isFinite(v), what + " holds " + v);
    }

    /** The dataset with its examples sorted by class (stably), so that each step of 8 sees one class. */
    private static Path byClass(Path data, Path file) {
        try (NpzReader in = NpzReader.open(data); NpzWriter w = NpzWriter.create(file)) {
            NpyArray x = in.read("x");
            long[] labels = in.read("y").toLongs();
            Integer[] order = new Integer[labels.length];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, Comparator.comparingLong(i -> labels[i]));
            byte[] pixels = x.toBytes();
            byte[] sortedPixels = new byte[pixels.length];
            long[] sortedLabels = new long[labels.length];
            int perImage = pixels.length / labels.length;
            for (int i = 0; i < order.length; i++) {
                System.arraycopy(pixels, order[i] * perImage, sortedPixels, i * perImage, perImage);
                sortedLabels[i] = labels[order[i]];
            }
            w.write("x", NpyArray.ofBytes(x.shape(), sortedPixels));
            w.write("y", NpyArray.ofLongs(new int[] {labels.length}, sortedLabels));
            w.commit();
        }
        return file;
    }

    /** The uint8 dataset as float32 in [-1, 1] (taken as normalised, fed as it is), image {@code bad} all NaN. */
    private static Path withNanImage(Path uint8Data, Path file, int bad) {
        try (NpzReader in = NpzReader.open(uint8Data); NpzWriter w = NpzWriter.create(file)) {
            NpyArray x = in.read("x");
            byte[] pixels = x.toBytes();
            float[] normalised = new float[pixels.length];
            for (int i = 0; i < pixels.length; i++) normalised[i] = (pixels[i] & 0xFF) / 127.5f - 1;
            int perImage = pixels.length / x.shape()[0];
            Arrays.fill(normalised, bad * perImage, (bad + 1) * perImage, Float.NaN);
            w.write("x", NpyArray.ofFloats(x.shape(), normalised));
            w.write("y", in.read("y"));
            w.commit();
        }
        return file;
    }
}
