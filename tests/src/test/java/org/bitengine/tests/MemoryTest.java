package org.bitengine.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzReader;
import org.bitengine.io.npy.NpzWriter;
import org.bitengine.io.safetensors.SafeTensors;
import org.bitengine.models.bit.BitConfig;
import org.bitengine.models.bit.BitResNet;
import org.bitengine.models.efficientnet.EfficientNet;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.efficientnet.TorchvisionNames;
import org.bitengine.models.registry.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints larger than the Java heap: {@code info} reads only the zip directory and the .npy
 * headers, reading the arrays one at a time needs one array's worth of heap, and {@code convert}
 * copies a checkpoint array by array, so all three run in a JVM whose heap (-Xmx64m) is a fifth (a
 * fourth for the EfficientNet-B7 that convert reads) of the file, with a peak RSS far below the file's size;
 * convert of a BiT Keras .h5 runs in -Xmx32m, a third of the file. The BiT-M-R152x4-sized case (3.7 GB)
 * is opt-in: {@code -Dbitengine.bigtests=true}.
 */
@EnabledOnOs(OS.LINUX) // peak RSS from /proc/self/status
class MemoryTest {

    private static final Pattern RESULT = Pattern.compile("exit=(\\d+) peak_rss_kb=(\\d+)");

    @Test
    void infoAndStreamingReadOfA320MbCheckpointIn64MbOfHeap(@TempDir Path dir) throws Exception {
        int entries = 40;
        int floats = 2 << 20; // 8 MiB per array
        Path file = checkpoint(dir.resolve("big.npz"), entries, floats);
        assertTrue(Files.size(file) > 5 * (64L << 20), "the file is five times the forked JVM's heap");

        Forked info = fork("cli", "info", file.toString());
        assertEquals(0, info.exit(), info.output());
        assertTrue(info.output().contains(String.format("parameters:   %,d", (long) entries * floats)), info.output());
        assertTrue(info.peakRssKb() < 200 * 1024, "info's peak RSS " + info.peakRssKb() + " kB");

        Forked read = fork("read", file.toString());
        assertEquals(0, read.exit(), read.output());
        assertTrue(read.output().contains("values=" + (long) entries * floats), read.output());
        assertTrue(read.peakRssKb() < 300 * 1024, "reading's peak RSS " + read.peakRssKb() + " kB");
        System.out.printf("320 MB checkpoint, -Xmx64m: info peak RSS %d MB, read-all peak RSS %d MB%n",
                info.peakRssKb() >> 10, read.peakRssKb() >> 10);
    }

    /**
     * EfficientNet-B7, the family's largest (66M parameters), as torchvision names and lays it out
     * (OIHW kernels, [out,in] Linear, int64 num_batches_tracked) in a safetensors file: convert must
     * rename, transpose and write every array without holding the state dict.
     */
    @Test
    void convertOfAnEfficientNetB7SafetensorsFileIn64MbOfHeap(@TempDir Path dir) throws Exception {
        EfficientNetConfig b7 = EfficientNetConfig.preset("b7", 1000);
        TorchvisionNames names = TorchvisionNames.of(b7);
        ParameterStore layout = ParameterStore.shapesOnly(WeightSource.empty());
        new EfficientNet(b7, layout);
        Map<String, int[]> torchShapes = new LinkedHashMap<>();
        long parameters = 0;
        Map<String, NpyArray> stateDict = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : layout.parameters().entrySet()) {
            int[] torch = torchShape(e.getKey(), e.getValue().shape().dims());
            torchShapes.put(e.getKey(), torch);
            stateDict.put(names.torchvision(e.getKey()), NpyArray.ofFloats(torch, values(e.getKey(), e.getValue().size())));
            parameters += e.getValue().size();
        }
        for (String d : names.droppedKeys()) stateDict.put(d, NpyArray.ofLongs(new int[0], new long[] {1}));
        Path file = dir.resolve("efficientnet_b7.safetensors");
        SafeTensors.write(file, stateDict);
        stateDict.clear();
        assertTrue(Files.size(file) > 3.9 * (64L << 20), "the file is about four times the forked JVM's heap: " + Files.size(file));

        Path out = dir.resolve("b7.npz");
        Forked convert = fork("cli", "convert", file.toString(), out.toString());
        assertEquals(0, convert.exit(), convert.output());
        assertTrue(convert.output().contains("applied " + layout.parameters().size() + ", missing 0, unused 0, shape-mismatched 0, dropped "
                + names.droppedKeys().size() + " num_batches_tracked"), convert.output());
        assertTrue(convert.peakRssKb() < 200 * 1024, "convert's peak RSS " + convert.peakRssKb() + " kB");
        System.out.printf("%.0f MB EfficientNet-B7 safetensors, -Xmx64m: convert peak RSS %d MB%n", Files.size(file) / 1e6,
                convert.peakRssKb() >> 10);

        assertEquals("efficientnet-b7", Models.inspect(out).arch());
        try (NpzReader z = NpzReader.open(out)) {
            long written = z.keys().stream().filter(k -> !k.startsWith("meta/")).mapToLong(k -> z.header(k).elementCount()).sum();
            assertEquals(parameters, written, "every parameter written");
            for (String key : List.of("efficientnet/stem/conv/kernel", "efficientnet/blocks/00/depthwise/conv/kernel",
                    "efficientnet/blocks/54/project/conv/kernel", "efficientnet/head/bn/running_var", EfficientNet.CLASSIFIER_KERNEL)) {
                int[] torch = torchShapes.get(key);
                float[] expected = TorchvisionNames.convert(key, torch, values(key, z.header(key).elementCount()));
                assertArrayEquals(expected, z.read(key).toFloats(), key);
            }
        }
        Models.Loaded loaded = Models.load(out, CpuBackend.get());
        assertTrue(loaded.report().isComplete(), loaded.report().summary());
    }

    /**
     * BiT-R50x1 as the official TF2 code saves it (a TF-Keras .h5; the published BiT-M-R152x4 is 3.7 GB): convert
     * must read each array from the file on request, rename it and reshape the Dense head, in a heap a third of the file: its largest array (a 3×3×512×512
     * kernel, 9.4 MB) is held once, as read, and written to the .npz in small chunks.
     */
    @Test
    void convertOfABitR50x1KerasH5FileIn32MbOfHeap(@TempDir Path dir) throws Exception {
        ParameterStore layout = ParameterStore.shapesOnly(WeightSource.empty());
        new BitResNet(BitConfig.named("BiT-R50x1", 1000, false), layout);
        Path npz = dir.resolve("official.npz");
        long parameters = 0;
        try (NpzWriter w = NpzWriter.create(npz)) {
            for (Map.Entry<String, Tensor> e : layout.parameters().entrySet()) {
                w.write(e.getKey(), NpyArray.ofFloats(e.getValue().shape().dims(), values(e.getKey(), e.getValue().size())));
                parameters += e.getValue().size();
            }
            w.commit();
        }
        Path file = dir.resolve("BiT-R50x1.h5");
        KerasConvertTest.writeBitH5(npz, file);
        Files.delete(npz);
        assertTrue(Files.size(file) > 3 * (32L << 20), "the file is three times the forked JVM's heap: " + Files.size(file));

        Path out = dir.resolve("bit.npz");
        Forked convert = forkWithHeap("32m", "cli", "convert", file.toString(), out.toString());
        assertEquals(0, convert.exit(), convert.output());
        assertTrue(convert.output().contains("applied " + layout.parameters().size() + ", missing 0, unused 0, shape-mismatched 0"),
                convert.output());
        // The file is mapped (it is under 2 GB), and the pages read count towards the RSS though they are the page cache's.
        assertTrue(convert.peakRssKb() < Files.size(file) / 1024 + 200 * 1024, "convert's peak RSS " + convert.peakRssKb() + " kB");
        System.out.printf("%.0f MB BiT-R50x1 Keras .h5, -Xmx32m: convert peak RSS %d MB%n", Files.size(file) / 1e6, convert.peakRssKb() >> 10);

        try (NpzReader z = NpzReader.open(out)) {
            long written = z.keys().stream().filter(k -> !k.startsWith("meta/")).mapToLong(k -> z.header(k).elementCount()).sum();
            assertEquals(parameters, written, "every parameter written");
            for (String key : List.of(BitConfig.ROOT_KERNEL, "resnet/block4/unit03/b/standardized_conv2d/kernel",
                    "resnet/block1/unit01/a/proj/standardized_conv2d/kernel", "resnet/group_norm/gamma", BitConfig.HEAD_KERNEL)) {
                assertArrayEquals(layout.parameters().get(key).shape().dims(), z.header(key).shape(), key);
                assertArrayEquals(values(key, z.header(key).elementCount()), z.read(key).toFloats(), key);
            }
        }
        assertTrue(Models.load(out, CpuBackend.get()).report().isComplete());
    }

    /** torchvision's layout of one of our parameters: HWIO kernels as OIHW, the [in,out] Linear as [out,in]. */
    private static int[] torchShape(String key, int[] ours) {
        if (!key.endsWith("/kernel")) return ours;
        return ours.length == 4 ? new int[] {ours[3], ours[2], ours[0], ours[1]} : new int[] {ours[1], ours[0]};
    }

    /** Values that differ from key to key and along each array, so a wrong name or layout shows. */
    private static float[] values(String key, int size) {
        int seed = key.hashCode() & 0xFFFF;
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = ((i * 31L + seed) % 2001 - 1000) / 1000f;
        return v;
    }

    /** BiT-M-R152x4 is 936M parameters, 3.7 GB of float32. Needs 4 GB of free disk. */
    @Test
    @EnabledIfSystemProperty(named = "bitengine.bigtests", matches = "true")
    void infoOnABitMR152x4SizedCheckpoint(@TempDir Path dir) throws Exception {
        int entries = 446;
        int floats = 2 << 20; // 446 x 8 MiB = 3.74 GB
        Path file = checkpoint(dir.resolve("r152x4.npz"), entries, floats);
        Forked info = fork("cli", "info", file.toString());
        assertEquals(0, info.exit(), info.output());
        assertTrue(info.output().contains(String.format("parameters:   %,d", (long) entries * floats)), info.output());
        assertTrue(info.peakRssKb() < 200 * 1024, "info's peak RSS " + info.peakRssKb() + " kB");
        System.out.printf("%.2f GB checkpoint, -Xmx64m: info peak RSS %d MB%n", Files.size(file) / 1e9, info.peakRssKb() >> 10);
    }

    /** An .npz of {@code entries} float32 arrays of {@code floats} values under BiT-like keys. */
    static Path checkpoint(Path file, int entries, int floats) {
        float[] values = new float[floats];
        for (int i = 0; i < floats; i++) values[i] = i % 1000 / 1000f;
        NpyArray a = NpyArray.ofFloats(new int[] {floats / 1024, 1024}, values);
        try (NpzWriter w = NpzWriter.create(file)) {
            for (int i = 0; i < entries; i++) {
                w.write(String.format("resnet/block%d/unit%02d/a/standardized_conv2d/kernel", 1 + i % 4, 1 + i / 4), a);
            }
            w.commit();
        }
        return file;
    }

    record Forked(int exit, long peakRssKb, String output) {}

    static Forked fork(String... args) throws IOException, InterruptedException {
        return forkWithHeap("64m", args);
    }

    /** Runs {@link PeakRss} with {@code args} in a JVM of {@code -Xmx<heap>}. */
    static Forked forkWithHeap(String heap, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx" + heap,
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), PeakRss.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the forked JVM ended");
        Matcher m = RESULT.matcher(out);
        assertTrue(m.find(), "no result line in: " + out);
        assertEquals(p.exitValue(), Integer.parseInt(m.group(1)), out);
        return new Forked(p.exitValue(), Long.parseLong(m.group(2)), out);
    }
}
