package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.cli;
import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.bitengine.engine.nn.WeightSource;
import org.bitengine.io.checkpoint.MapWeights;
import org.bitengine.io.npy.Npy;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.io.safetensors.SafeTensors;
import org.bitengine.io.torch.TorchStateDict;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.efficientnet.TimmNames;
import org.bitengine.models.efficientnet.TorchvisionNames;
import org.bitengine.models.registry.ModelMeta;
import org.bitengine.models.registry.Models;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;

/**
 * {@code convert} from Keras and timm: the Keras EfficientNet-B0 fixture of {@code golden/keras} (see its
 * README) as a TF-Keras 2 .h5 (h5py-written, imagenet-style input layers) and as the two files real
 * Keras 3 wrote (.weights.h5 and {@code model.save} .h5), converted, preprocessed from the file's own
 * constants and run through {@code predict}, against the float64 Keras-convention reference and Keras'
 * own output; timm-named
 * state dicts (plain and TF port) made from the torchvision and Keras fixtures; BiT written as the
 * official TF2 code's .h5; and one line, exit 2, nothing written for bad HDF5 input.
 */
class KerasConvertTest {

    static final Path TF_KERAS = Golden.path("keras/b0_tfkeras.h5");
    /** Real Keras 3.15.1 output, gzipped in the resources; unpacked per test. */
    static final String REAL_KERAS3 = "keras/real_b0.weights.h5.gz", REAL_LEGACY = "keras/real_b0.h5.gz";
    static final double[] MEAN = {0.485, 0.456, 0.406};
    static final double[] STD = {0.229, 0.224, 0.225};

    private static String text(NpzReader r, String key) {
        return new String(r.read(key).toBytes(), StandardCharsets.UTF_8);
    }

    /** Runs {@code predict} on the network input {@code x} [N,H,W,3] and compares logits with {@code ref}. */
    private static double predictAndCompare(String what, Path npz, float[] x, int[] shape, double[] ref, Path dir) {
        Path in = dir.resolve("x.npy"), out = dir.resolve("y.npy");
        Npy.write(in, NpyArray.ofFloats(shape, x));
        Run p = ok("predict", "--weights", npz.toString(), "--input-npy", in.toString(), "--output", out.toString());
        assertEquals("", p.err());
        double d = assertClose(what, Npy.read(out).toDoubles(), ref, 1e-4, 1e-4);
        System.out.println(what + ": max |logit - f64ref| = " + d + " (|ref| up to " + Golden.maxAbs(ref) + ")");
        return d;
    }

    /** The Keras fixture's network input from the converted file's own preprocessing, checked against the reference. */
    private static float[] kerasInput(Path npz) {
        Preprocessing p = Models.meta(npz).inputPreprocessing();
        float[] x = p.apply(Golden.npy("keras/input_rgb.npy").toFloats());
        double[] ref = Golden.npy("keras/input_net_f64ref.npy").toDoubles();
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) xd[i] = x[i];
        assertClose("Preprocessing.apply vs the Keras input layers", xd, ref, 1e-5, 1e-6);
        return x;
    }

    /** A gzipped fixture unpacked into {@code dir}. */
    static Path gunzip(String resource, Path dir) {
        Path src = Golden.path(resource);
        Path out = dir.resolve(src.getFileName().toString().replaceFirst("\\.gz$", ""));
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(src))) {
            Files.copy(in, out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    private static void checkKeras(Path src, Path dir, String inputNote) {
        Path npz = dir.resolve("keras.npz");
        Run r = ok("convert", src.toString(), npz.toString());
        assertTrue(r.out().contains("applied 311, missing 0, unused 0, shape-mismatched 0"), r.out());
        assertTrue(r.out().contains(inputNote), r.out());
        try (NpzReader z = NpzReader.open(npz)) {
            assertEquals("efficientnet-b0", text(z, "meta/arch"));
            assertEquals("keras", text(z, "meta/convention"));
            assertEquals("keras-builtin", text(z, "meta/preprocessing"));
            assertEquals(1e-3, z.read("meta/bn_eps").toDoubles()[0]);
            assertEquals(5L, z.read("meta/classes").toLongs()[0]);
            assertClose("meta/input_mean", z.read("meta/input_mean").toDoubles(), MEAN, 1e-7, 0);
            assertClose("meta/input_std", z.read("meta/input_std").toDoubles(), STD, 1e-7, 1e-6);
            assertArrayEquals(new int[] {3, 3, 1, 32}, z.header("efficientnet/blocks/00/depthwise/conv/kernel").shape(), "(k,k,C,1) → (k,k,1,C)");
            assertArrayEquals(new int[] {1280, 5}, z.header("efficientnet/classifier/kernel").shape());
        }
        Run info = ok("info", npz.toString());
        assertTrue(info.out().contains("keras (keras padding)"), info.out());
        assertTrue(info.out().contains("keras-builtin"), info.out());

        float[] x = kerasInput(npz);
        predictAndCompare("convert " + src.getFileName(), npz, x, new int[] {2, 64, 75, 3}, Golden.npy("keras/logits_f64ref.npy").toDoubles(), dir);
        predictAndCompare("convert " + src.getFileName() + " vs Keras' own output", npz, x, new int[] {2, 64, 75, 3},
                Golden.npy("keras/logits_keras.npy").toDoubles(), dir);
        Path f = dir.resolve("f.npy");
        ok("predict", "--weights", npz.toString(), "--input-npy", dir.resolve("x.npy").toString(), "--output", f.toString(), "--features");
        double[] fref = Golden.npy("keras/features_f64ref.npy").toDoubles();
        System.out.println("convert " + src.getFileName() + ": max |feature - f64ref| = "
                + assertClose("features " + src.getFileName(), Npy.read(f).toDoubles(), fref, 1e-4, 1e-4));
    }

    @Test
    void tfKerasH5ConvertsAndMatchesTheKerasReference(@TempDir Path dir) {
        checkKeras(TF_KERAS, dir, "Rescaling(1/255), Normalization, Rescaling(1/sqrt(IMAGENET_STDDEV_RGB))");
    }

    @Test
    void realKeras3WeightsH5ConvertsAndMatchesTheKerasReference(@TempDir Path dir) {
        checkKeras(gunzip(REAL_KERAS3, dir), dir, "keras input:  Rescaling(1/255), Normalization\n");
    }

    @Test
    void realKeras3ModelSaveH5ConvertsAndMatchesTheKerasReference(@TempDir Path dir) {
        // model.save("x.h5"): the TF-Keras layout under model_weights/, variable names without ":0".
        checkKeras(gunzip(REAL_LEGACY, dir), dir, "keras input:  Rescaling(1/255), Normalization\n");
    }

    /** Our arrays back to a timm state dict (OIHW kernels, Linear [out,in]), with timm's num_batches_tracked. */
    private static Map<String, NpyArray> toTimm(EfficientNetConfig config, Map<String, NpyArray> ours) {
        TimmNames names = TimmNames.of(config);
        Map<String, NpyArray> sd = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> e : ours.entrySet()) {
            String t = names.timm(e.getKey());
            if (t == null) continue;
            int[] s = e.getValue().shape();
            int[] torchShape = !e.getKey().endsWith("/kernel") ? s : s.length == 2 ? new int[] {s[1], s[0]} : new int[] {s[3], s[2], s[0], s[1]};
            sd.put(t, NpyArray.ofFloats(torchShape, TorchvisionNames.convertBack(e.getKey(), torchShape, e.getValue().toFloats())));
            if (t.endsWith(".running_var")) sd.put(t.replace(".running_var", ".num_batches_tracked"), NpyArray.ofLongs(new int[0], new long[] {7}));
        }
        return sd;
    }

    private static Map<String, NpyArray> weightsOf(WeightSource w) {
        Map<String, NpyArray> m = new TreeMap<>();
        for (String k : w.keys()) m.put(k, NpyArray.ofFloats(w.shape(k).dims(), w.read(k)));
        return m;
    }

    @Test
    void timmNamesAreTimmsModuleTree() {
        TimmNames n = TimmNames.of(EfficientNetConfig.b0(7));
        assertEquals("conv_stem.weight", n.timm("efficientnet/stem/conv/kernel"));
        assertEquals("bn1.running_var", n.timm("efficientnet/stem/bn/running_var"));
        // Stage 0 is a DepthwiseSeparableConv: conv_dw, bn1, se, conv_pw, bn2.
        assertEquals("blocks.0.0.conv_dw.weight", n.timm("efficientnet/blocks/00/depthwise/conv/kernel"));
        assertEquals("blocks.0.0.bn1.weight", n.timm("efficientnet/blocks/00/depthwise/bn/weight"));
        assertEquals("blocks.0.0.se.conv_reduce.bias", n.timm("efficientnet/blocks/00/se/reduce/bias"));
        assertEquals("blocks.0.0.conv_pw.weight", n.timm("efficientnet/blocks/00/project/conv/kernel"));
        assertEquals("blocks.0.0.bn2.bias", n.timm("efficientnet/blocks/00/project/bn/bias"));
        // Later stages are InvertedResidual: conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3.
        assertEquals("blocks.1.0.conv_pw.weight", n.timm("efficientnet/blocks/01/expand/conv/kernel"));
        assertEquals("blocks.1.1.bn2.running_mean", n.timm("efficientnet/blocks/02/depthwise/bn/running_mean"));
        assertEquals("blocks.1.1.se.conv_expand.weight", n.timm("efficientnet/blocks/02/se/expand/kernel"));
        assertEquals("blocks.6.0.conv_pwl.weight", n.timm("efficientnet/blocks/15/project/conv/kernel"));
        assertEquals("blocks.6.0.bn3.weight", n.timm("efficientnet/blocks/15/project/bn/weight"));
        assertEquals("conv_head.weight", n.timm("efficientnet/head/conv/kernel"));
        assertEquals("bn2.weight", n.timm("efficientnet/head/bn/weight"));
        assertEquals("classifier.weight", n.timm("efficientnet/classifier/kernel"));
    }

    @Test
    void timmStateDictConvertsAndMatchesTorchvision(@TempDir Path dir) {
        // timm's efficientnet_b0 and torchvision's compute the same function; only the names differ.
        Map<String, NpyArray> tv = TorchStateDict.read(EfficientNetGoldenTest.STATE_DICT);
        Map<String, NpyArray> sd = toTimm(EfficientNetConfig.b0(7), weightsOf(TorchvisionNames.weights(MapWeights.of(tv))));
        assertEquals(tv.size(), sd.size(), "as many keys as torchvision's, num_batches_tracked included");
        Path st = dir.resolve("efficientnet_b0.safetensors");
        SafeTensors.write(st, sd);
        Path npz = dir.resolve("timm.npz");
        Run r = ok("convert", st.toString(), npz.toString());
        assertTrue(r.out().contains("applied 311, missing 0, unused 0, shape-mismatched 0, dropped 49 num_batches_tracked"), r.out());
        try (NpzReader z = NpzReader.open(npz)) {
            assertEquals("timm", text(z, "meta/convention"));
            assertEquals(1e-5, z.read("meta/bn_eps").toDoubles()[0]);
            assertEquals("imagenet-mean-std", text(z, "meta/preprocessing"));
        }
        NpyArray x = Golden.npy("efficientnet/input_nhwc.npy");
        predictAndCompare("timm efficientnet_b0", npz, x.toFloats(), x.shape(), Golden.npy("efficientnet/logits_f64ref.npy").toDoubles(), dir);
    }

    @Test
    void timmTfPortConvertsAndMatchesTheKerasReference(@TempDir Path dir) {
        // tf_efficientnet_b0 is the Keras network (TF "SAME" = correct_pad, eps 1e-3) under timm's names.
        Path keras = dir.resolve("keras.npz");
        ok("convert", TF_KERAS.toString(), keras.toString());
        Map<String, NpyArray> ours = new TreeMap<>();
        try (NpzReader z = NpzReader.open(keras)) {
            for (String k : z.keys()) if (!ModelMeta.isMeta(k)) ours.put(k, z.read(k));
        }
        Path st = dir.resolve("tf_efficientnet_b0.safetensors");
        SafeTensors.write(st, toTimm(EfficientNetConfig.b0(5), ours));
        Path npz = dir.resolve("timm-tf.npz");
        Run r = ok("convert", st.toString(), npz.toString());
        assertTrue(r.out().contains("missing 0, unused 0, shape-mismatched 0"), r.out());
        try (NpzReader z = NpzReader.open(npz)) {
            assertEquals("timm-tf", text(z, "meta/convention"));
            assertEquals(1e-3, z.read("meta/bn_eps").toDoubles()[0]);
        }
        // The fixture's Keras constants fold to ImageNet's mean and std, timm's preprocessing.
        float[] x = Preprocessing.IMAGENET.apply(Golden.npy("keras/input_rgb.npy").toFloats());
        predictAndCompare("timm tf_efficientnet_b0", npz, x, new int[] {2, 64, 75, 3}, Golden.npy("keras/logits_f64ref.npy").toDoubles(), dir);

        // The same file under another name is a plain efficientnet_b0 unless --arch says otherwise.
        Path plain = dir.resolve("b0.safetensors");
        SafeTensors.write(plain, toTimm(EfficientNetConfig.b0(5), ours));
        ok("convert", plain.toString(), dir.resolve("plain.npz").toString(), "--arch", "tf_efficientnet_b0");
        try (NpzReader z = NpzReader.open(dir.resolve("plain.npz"))) {
            assertEquals("timm-tf", text(z, "meta/convention"));
        }
    }

    /** A flat row-major array as the nested Java array jhdf writes with that shape. */
    private static Object nested(float[] flat, int[] shape, int dim, int offset) {
        if (dim == shape.length - 1) return Arrays.copyOfRange(flat, offset, offset + shape[dim]);
        int stride = 1;
        for (int d = dim + 1; d < shape.length; d++) stride *= shape[d];
        Object out = Array.newInstance(nested(new float[stride], Arrays.copyOfRange(shape, dim, shape.length), 1, 0).getClass(), shape[dim]);
        for (int i = 0; i < shape[dim]; i++) Array.set(out, i, nested(flat, shape, dim + 1, offset + i * stride));
        return out;
    }

    /**
     * The official BiT TF2 layout ({@code bit_tf2/models.py} saved by TF-Keras' {@code save_weights}): top-level
     * layers root_block, block1…4, group_norm, head/dense; variables {@code resnet/<path>:0} in nested groups; the
     * head a Dense [features, classes].
     */
    static void writeBitH5(Path npz, Path h5) {
        Map<String, List<String>> layers = new LinkedHashMap<>();
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        try (NpzReader z = NpzReader.open(npz)) {
            for (String k : z.keys()) {
                String rest = k.substring("resnet/".length());
                String layer = rest.startsWith("head/") ? "head/dense" : rest.substring(0, rest.indexOf('/'));
                NpyArray a = z.read(k);
                if (rest.startsWith("head/conv2d/kernel")) {
                    a = NpyArray.ofFloats(new int[] {a.shape()[2], a.shape()[3]}, a.toFloats());
                    rest = "head/dense/kernel";
                } else if (rest.startsWith("head/conv2d/bias")) {
                    rest = "head/dense/bias";
                }
                String weight = "resnet/" + rest + ":0";
                layers.computeIfAbsent(layer, l -> new ArrayList<>()).add(weight);
                arrays.put(layer + "/" + weight, a);
            }
        }
        try (WritableHdfFile f = HdfFile.write(h5)) {
            f.putAttribute("layer_names", layers.keySet().toArray(String[]::new));
            f.putAttribute("keras_version", "2.4.0");
            Map<String, WritableGroup> groups = new TreeMap<>();
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                String[] parts = e.getKey().split("/");
                WritableGroup g = f;
                StringBuilder path = new StringBuilder();
                for (int i = 0; i < parts.length - 1; i++) {
                    path.append('/').append(parts[i]);
                    WritableGroup parent = g;
                    String name = parts[i];
                    g = groups.computeIfAbsent(path.toString(), p -> parent.putGroup(name));
                }
                g.putDataset(parts[parts.length - 1], nested(e.getValue().toFloats(), e.getValue().shape(), 0, 0));
            }
            layers.forEach((layer, weights) -> groups.get("/" + layer).putAttribute("weight_names", weights.toArray(String[]::new)));
        }
    }

    @Test
    void bitKerasH5ConvertsToTheOfficialNaming(@TempDir Path dir) {
        Path h5 = dir.resolve("BiT-tiny.h5");
        writeBitH5(Golden.path("bit/forward/weights_bit.npz"), h5);
        Path npz = dir.resolve("bit.npz");
        Run r = ok("convert", h5.toString(), npz.toString());
        assertTrue(r.out().contains("missing 0, unused 0, shape-mismatched 0"), r.out());
        try (NpzReader z = NpzReader.open(npz); NpzReader ref = Golden.npz("bit/forward/weights_bit.npz")) {
            for (String k : ref.keys()) {
                assertTrue(z.keys().contains(k), "official key " + k);
                assertArrayEquals(ref.read(k).toFloats(), z.read(k).toFloats(), k);
            }
            assertEquals("bit", text(z, "meta/arch"));
        }
        Path logits = dir.resolve("y.npy");
        ok("predict", "--weights", npz.toString(), "--input-npy", Golden.path("bit/forward/input_nhwc.npy").toString(), "--output", logits.toString());
        assertClose("BiT from Keras .h5", Npy.read(logits).toDoubles(), Golden.npy("bit/forward/logits.npy").toDoubles(), 1e-4, 1e-4);
    }

    private static void assertNothingWritten(Path dir, Path out) throws IOException {
        assertFalse(Files.exists(out), out + " written");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("out")).toList(), "no temporary files");
        }
    }

    @Test
    void badHdf5InputIsOneLineAndWritesNothing(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.npz");

        byte[] h5 = Files.readAllBytes(TF_KERAS);
        Path truncated = dir.resolve("truncated.h5");
        Files.write(truncated, Arrays.copyOf(h5, h5.length / 3));
        assertUserError(cli("convert", truncated.toString(), out.toString()), "truncated.h5");
        assertNothingWritten(dir, out);

        Path headerOnly = dir.resolve("header.h5");
        Files.write(headerOnly, Arrays.copyOf(h5, 600));
        assertUserError(cli("convert", headerOnly.toString(), out.toString()), "header.h5");
        assertNothingWritten(dir, out);

        Path notKeras = dir.resolve("plain.h5");
        try (WritableHdfFile f = HdfFile.write(notKeras)) {
            f.putDataset("x", new float[] {1, 2, 3});
        }
        assertUserError(cli("convert", notKeras.toString(), out.toString()), "plain.h5", "not Keras weights");
        assertNothingWritten(dir, out);

        Path strings = dir.resolve("strings.h5");
        try (WritableHdfFile f = HdfFile.write(strings)) {
            f.putAttribute("layer_names", new String[] {"stem_conv"});
            WritableGroup g = f.putGroup("stem_conv");
            g.putAttribute("weight_names", new String[] {"kernel:0"});
            g.putDataset("kernel:0", new String[] {"not", "numbers"});
        }
        assertUserError(cli("convert", strings.toString(), out.toString()), "strings.h5", "kernel:0", "unsupported datatype");
        assertNothingWritten(dir, out);

        Path dense = dir.resolve("dense.h5");
        try (WritableHdfFile f = HdfFile.write(dense)) {
            f.putAttribute("layer_names", new String[] {"dense"});
            WritableGroup g = f.putGroup("dense");
            g.putAttribute("weight_names", new String[] {"dense/kernel:0"});
            g.putGroup("dense").putDataset("kernel:0", new float[][] {{1, 2}, {3, 4}});
        }
        assertUserError(cli("convert", dense.toString(), out.toString()), "dense.h5", "unknown architecture");
        assertNothingWritten(dir, out);

        Path missing = dir.resolve("missing.h5");
        try (WritableHdfFile f = HdfFile.write(missing)) {
            f.putAttribute("layer_names", new String[] {"stem_conv"});
            f.putGroup("stem_conv").putAttribute("weight_names", new String[] {"stem_conv/kernel:0"});
        }
        assertUserError(cli("convert", missing.toString(), out.toString()), "missing.h5", "stem_conv/kernel:0", "no dataset");
        assertNothingWritten(dir, out);

        // A Keras B0 file forced to another variant is refused (shapes do not fit), and --from keras on a non-HDF5 file too.
        Path keras3 = gunzip(REAL_KERAS3, dir);
        assertUserError(cli("convert", keras3.toString(), out.toString(), "--arch", "efficientnet-b1"), "efficientnet-b1", "--allow-partial");
        assertNothingWritten(dir, out);
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "not hdf5\n");
        assertUserError(cli("convert", text.toString(), out.toString(), "--from", "keras"), "notes.txt", "not an HDF5 file");
        assertNothingWritten(dir, out);
    }
}
