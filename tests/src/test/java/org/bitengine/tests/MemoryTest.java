package org.bitengine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints larger than the Java heap: {@code info} reads only the zip directory and the .npy
 * headers, and reading the arrays one at a time needs one array's worth of heap, so both run in a
 * JVM whose heap (-Xmx64m) is a fifth of the file, with a peak RSS far below the file's size. The
 * BiT-M-R152x4-sized case (3.7 GB) is opt-in: {@code -Dbitengine.bigtests=true}.
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
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx64m",
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
