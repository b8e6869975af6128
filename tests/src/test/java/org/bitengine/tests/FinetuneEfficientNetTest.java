package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserErrorAndNoOutput;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.FinetuneTest.args;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.bitengine.io.npy.NpzReader;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.efficientnet.KerasLayerList;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EfficientNet fine-tuning the Keras way through the CLI: the torchvision B0 fixture converted, then
 * a new head trained on cached features ({@code --freeze-backbone}), the top Keras layers trained with
 * BatchNorm frozen ({@code --unfreeze-top}) by Adam with the Keras augmentations, a full fine-tune by
 * RMSprop, and a resumed Adam run that ends bit-identical to an uninterrupted one.
 */
class FinetuneEfficientNetTest {

    @TempDir
    static Path dir;
    static Path weights;
    static Path data;

    @BeforeAll
    static void convertAndMakeData() {
        weights = dir.resolve("b0.npz");
        ok("convert", ConvertTest.PTH.toString(), weights.toString());
        data = FinetuneTest.syntheticData(dir, "bands.npz", 24, 32, 4, 5);
    }

    /** Short runs: 3 steps of 4 images at 32x32, 12 held out. */
    private static String[] run(Path out, Object... extra) {
        return args("finetune", "--data", data.toString(), "--val-split", "0.5", "--weights", weights.toString(),
                "--resolution", "32", "--crop", "32", "--batch", "4", "--steps", "3", "--mixup", "0", "--eval-batch", "6",
                "--out", out.toString(), extra);
    }

    private static float[] read(Path npz, String key) {
        try (NpzReader r = NpzReader.open(npz)) {
            return r.read(key).toFloats();
        }
    }

    private static Set<String> keys(Path npz) {
        try (NpzReader r = NpzReader.open(npz)) {
            return Set.copyOf(r.keys());
        }
    }

    @Test
    void kerasLayerListOfB0() {
        List<KerasLayerList.Layer> layers = KerasLayerList.of(EfficientNetConfig.b0(10));
        // keras.applications.EfficientNetB0(include_top=False) has 237 layers (input, rescaling,
        // normalization and the rest); include_top adds avg_pool, top_dropout and predictions.
        assertEquals(240, layers.size());
        List<String> top = layers.subList(layers.size() - 20, layers.size()).stream().map(KerasLayerList.Layer::name).toList();
        assertEquals(List.of("block6d_add", "block7a_expand_conv", "block7a_expand_bn", "block7a_expand_activation",
                "block7a_dwconv", "block7a_bn", "block7a_activation", "block7a_se_squeeze", "block7a_se_reshape",
                "block7a_se_reduce", "block7a_se_expand", "block7a_se_excite", "block7a_project_conv", "block7a_project_bn",
                "top_conv", "top_bn", "top_activation", "avg_pool", "top_dropout", "predictions"), top);
        assertEquals(List.of("efficientnet/blocks/15/expand/conv/kernel", "efficientnet/blocks/15/depthwise/conv/kernel",
                "efficientnet/blocks/15/se/reduce/kernel", "efficientnet/blocks/15/se/reduce/bias",
                "efficientnet/blocks/15/se/expand/kernel", "efficientnet/blocks/15/se/expand/bias",
                "efficientnet/blocks/15/project/conv/kernel", "efficientnet/head/conv/kernel",
                "efficientnet/classifier/kernel", "efficientnet/classifier/bias"),
                KerasLayerList.trainableKeys(EfficientNetConfig.b0(10), 20));
    }

    @Test
    void freezeBackboneTrainsOnlyTheNewHead() {
        Path out = dir.resolve("frozen");
        Run r = ok(run(out, "--freeze-backbone", "--optimizer", "adam", "--lr", "0.01"));
        assertTrue(r.out().contains("Adam, betas (0.9, 0.999)"), r.out());
        Path w = out.resolve("weights.npz");
        assertArrayEquals(new int[] {1280, 4}, headerShape(w, "efficientnet/classifier/kernel"));
        for (String k : List.of("efficientnet/stem/conv/kernel", "efficientnet/blocks/15/project/bn/running_var",
                "efficientnet/head/conv/kernel")) {
            assertArrayEquals(read(weights, k), read(w, k), 0f, k);
        }
        try (NpzReader reader = NpzReader.open(w)) {
            assertEquals("efficientnet-b0", new String(reader.read("meta/arch").toBytes(), StandardCharsets.UTF_8));
            assertEquals(4L, reader.read("meta/classes").toLongs()[0]);
        }
    }

    @Test
    void unfreezeTopTrainsTheTopLayersWithBatchNormFrozen() throws Exception {
        Path out = dir.resolve("top");
        Run r = ok(run(out, "--unfreeze-top", "20", "--optimizer", "adam", "--lr", "0.001", "--keras-augment"));
        assertTrue(r.out().contains("train the last 20 Keras layers, BatchNorm frozen (--unfreeze-top): 10 parameter tensors"), r.out());
        assertTrue(r.out().contains("rotation 0.15, translation 0.1, contrast 0.1"), r.out());
        assertTrue(r.out().contains("pixels imagenet-mean-std"), r.out());
        Path w = out.resolve("weights.npz");
        for (String k : List.of("efficientnet/blocks/15/depthwise/conv/kernel", "efficientnet/head/conv/kernel")) {
            assertFalse(java.util.Arrays.equals(read(weights, k), read(w, k)), k + " trains");
        }
        for (String k : List.of("efficientnet/stem/conv/kernel", "efficientnet/blocks/14/project/conv/kernel",
                "efficientnet/head/bn/weight", "efficientnet/head/bn/running_mean", "efficientnet/blocks/15/depthwise/bn/running_var",
                "efficientnet/blocks/15/depthwise/bn/bias")) {
            assertArrayEquals(read(weights, k), read(w, k), 0f, k + " stays frozen");
        }
        Path state = out.resolve("checkpoints").resolve(Files.readString(out.resolve("checkpoints/latest")).strip()).resolve("train_state.npz");
        Set<String> stateKeys = keys(state);
        assertTrue(stateKeys.contains("adam_m/efficientnet/head/conv/kernel") && stateKeys.contains("adam_v/efficientnet/classifier/bias"),
                stateKeys.toString());
        assertFalse(stateKeys.contains("adam_m/efficientnet/stem/conv/kernel"), "frozen parameters have no optimizer state");

        // The run's weights predict and evaluate without flags: the pipeline comes from meta/*.
        Run eval = ok("evaluate", "--weights", w.toString(), "--data", data.toString(), "--split", "train");
        assertTrue(eval.out().contains("EfficientNet-B0"), eval.out());
        assertTrue(eval.out().contains("crop:     32"), eval.out());
    }

    @Test
    void fullFineTuneUpdatesBatchNormStatistics() {
        Path out = dir.resolve("full");
        ok(run(out, "--optimizer", "rmsprop", "--lr", "0.0001"));
        Path w = out.resolve("weights.npz");
        String stat = "efficientnet/stem/bn/running_mean";
        assertFalse(java.util.Arrays.equals(read(weights, stat), read(w, stat)), "training-mode BatchNorm updates its statistics");
        assertFalse(java.util.Arrays.equals(read(weights, "efficientnet/stem/conv/kernel"), read(w, "efficientnet/stem/conv/kernel")));
    }

    @Test
    void resumedAdamRunEndsIdentical() {
        Path whole = dir.resolve("whole");
        ok(run(whole, "--unfreeze-top", "30", "--optimizer", "adam", "--lr", "0.001", "--keras-augment", "--checkpoint-every", "1"));
        Path parts = dir.resolve("parts");
        ok(run(parts, "--unfreeze-top", "30", "--optimizer", "adam", "--lr", "0.001", "--keras-augment", "--checkpoint-every", "1",
                "--stop-after-step", "2"));
        assertFalse(Files.exists(parts.resolve("weights.npz")));
        ok("finetune", "--resume", parts.toString());
        for (String k : keys(whole.resolve("weights.npz"))) {
            if (k.startsWith("meta/")) continue;
            assertArrayEquals(read(whole.resolve("weights.npz"), k), read(parts.resolve("weights.npz"), k), 0f, k);
        }
    }

    /** A real Keras 3 file, converted: Keras padding and Keras' folded input scaling carry through finetune. */
    @Test
    void kerasConvertedModelFineTunesWithItsOwnConventions() throws Exception {
        Path keras = dir.resolve("keras.npz");
        ok("convert", KerasConvertTest.gunzip("keras/real_b0.weights.h5.gz", dir).toString(), keras.toString());
        Path out = dir.resolve("keras-top");
        Run r = ok("finetune", "--data", data.toString(), "--val-split", "0.5", "--weights", keras.toString(), "--resolution", "32",
                "--crop", "32", "--batch", "4", "--steps", "2", "--mixup", "0", "--unfreeze-top", "3", "--optimizer", "adam",
                "--lr", "0.001", "--out", out.toString());
        assertTrue(r.out().contains("keras padding"), r.out());
        assertTrue(r.out().contains("pixels keras-builtin"), r.out());
        Path w = out.resolve("weights.npz");
        try (NpzReader a = NpzReader.open(keras); NpzReader b = NpzReader.open(w)) {
            assertEquals("keras", new String(b.read("meta/convention").toBytes(), StandardCharsets.UTF_8));
            assertArrayEquals(a.read("meta/input_mean").toDoubles(), b.read("meta/input_mean").toDoubles(), 0);
            assertArrayEquals(a.read("meta/input_std").toDoubles(), b.read("meta/input_std").toDoubles(), 0);
        }
        String config = Files.readString(out.resolve("config.json"));
        assertTrue(config.contains("\"preprocessing\": \"keras-builtin\""), config);
        ok("evaluate", "--weights", w.toString(), "--data", data.toString());
    }

    @Test
    void badCombinationsAreOneLine() {
        assertUserErrorAndNoOutput(cli(run(dir.resolve("e1"), "--unfreeze-top", "0")), "--unfreeze-top must be at least 1");
        assertUserErrorAndNoOutput(cli(run(dir.resolve("e2"), "--optimizer", "adagrad")), "--optimizer must be one of sgd, adam, rmsprop");
        assertUserErrorAndNoOutput(cli(run(dir.resolve("e3"), "--freeze-backbone", "--keras-augment")), "without augmentation");
        assertUserErrorAndNoOutput(cli(run(dir.resolve("e4"), "--random-rotation", "2")), "--random-rotation is a fraction");
        assertUserErrorAndNoOutput(cli(run(dir.resolve("e5"), "--unfreeze-top", "5", "--freeze-backbone")), "give one of them");
        Run bit = cli("finetune", "--data", data.toString(), "--block-units", "1,1,1,1", "--unfreeze-top", "5", "--steps", "1",
                "--out", dir.resolve("e6").toString());
        assertUserErrorAndNoOutput(bit, "--unfreeze-top counts the layers of Keras' EfficientNet");
        assertUserErrorAndNoOutput(cli("finetune", "--data", data.toString(), "--model", "efficientnet-b9", "--out",
                dir.resolve("e7").toString()), "unknown EfficientNet");
    }

    private static int[] headerShape(Path npz, String key) {
        try (NpzReader r = NpzReader.open(npz)) {
            return r.header(key).shape();
        }
    }
}
