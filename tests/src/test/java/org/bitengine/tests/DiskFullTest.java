package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.bitengine.tests.CliRunner.ok;
import static org.bitengine.tests.FinetuneTest.syntheticData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.bitengine.io.npy.NpzReader;
import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk fills up while a checkpoint is written: a real "No space left on device" from a tmpfs
 * sized to hold one checkpoint and a half, mounted in a private mount namespace ({@code unshare
 * -Urm}, which needs no root where user namespaces are allowed; skipped where they are not). The run
 * must stop with one line naming the checkpoint and the cause, leave the previous checkpoint intact
 * and named by {@code latest}, leave no half-written files, and resume to the uninterrupted result.
 */
class DiskFullTest {

    private static final long PAGE = 4096;

    static String[] config(Path data, Path out) {
        return CrashSafetyTest.config(data, out, 8, 2, 2);
    }

    @Test
    void aDiskFullDuringACheckpointKeepsThePreviousOneAndSaysSo(@TempDir Path dir) throws Exception {
        Path jar = Path.of("..", "models", "target", "bit-engine.jar").toAbsolutePath();
        Assumptions.assumeTrue(Files.isRegularFile(jar), "bit-engine.jar not built (run mvn package first): " + jar);
        Assumptions.assumeTrue(namespacesAllowed(), "unshare -Urm (user and mount namespaces) is not allowed here");
        Path data = syntheticData(dir, "data.npz", 32, 16, 4, 11);
        Path reference = dir.resolve("reference");
        ok(config(data, reference));

        // Room for the small files and one checkpoint and a half: the second checkpoint runs out of space.
        // Every checkpoint of a run has the same size; the reference keeps the last two.
        Path ck = reference.resolve("checkpoints/step-000008");
        long checkpoint = pages(ck.resolve("weights.npz")) + pages(ck.resolve("train_state.npz"));
        long small = pages(reference.resolve("config.json")) + pages(reference.resolve("classes.txt"))
                + pages(reference.resolve("metrics.jsonl")) + 2;
        long size = (small + checkpoint + checkpoint / 2) * PAGE;

        Path disk = Files.createDirectories(dir.resolve("disk"));
        Path copy = dir.resolve("copy");
        String script = "mnt=$1; java=$2; jar=$3; copy=$4; shift 4\n"
                + "mount -t tmpfs -o size=" + size + " none \"$mnt\" || exit 97\n"
                + "\"$java\" -jar \"$jar\" \"$@\"; rc=$?\n"
                + "cp -a \"$mnt/run\" \"$copy\"; exit $rc\n";
        List<String> cmd = new ArrayList<>(List.of("unshare", "-Urm", "sh", "-c", script, "sh", disk.toString(),
                ProcessHandle.current().info().command().orElse("java"), jar.toString(), copy.toString()));
        cmd.addAll(List.of(config(data, disk.resolve("run"))));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("stdout.txt").toFile())
                .redirectError(dir.resolve("stderr.txt").toFile()).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the run ended");
        Run run = new Run(p.exitValue(), Files.readString(dir.resolve("stdout.txt")), Files.readString(dir.resolve("stderr.txt")));

        assertUserError(run, "cannot write checkpoint", "step-000004");
        assertTrue(run.err().toLowerCase(Locale.ROOT).contains("no space left on device"), run.err());
        System.out.println("disk full after " + size / 1024 + " KiB: " + run.err().strip());

        assertEquals("step-000002", Files.readString(copy.resolve("checkpoints/latest")).strip());
        try (Stream<Path> s = Files.list(copy.resolve("checkpoints"))) {
            assertEquals(List.of("latest", "step-000002"), s.map(f -> f.getFileName().toString()).sorted().toList(),
                    "no half-written checkpoint or temporary file is left");
        }
        for (String f : List.of("weights.npz", "train_state.npz")) {
            try (NpzReader r = NpzReader.open(copy.resolve("checkpoints/step-000002").resolve(f))) {
                r.keys().forEach(r::read); // every entry's CRC-32 checks out
            }
        }

        // With space again, the run resumes from that checkpoint and ends where the uninterrupted one did,
        // bit for bit: the kept checkpoint is exactly the one the uninterrupted run had after step 2.
        ok("finetune", "--resume", copy.toString());
        FinetuneResumeTest.assertSameRun(reference, copy, 8);
    }

    private static long pages(Path f) throws IOException {
        return (Files.size(f) + PAGE - 1) / PAGE;
    }

    private static boolean namespacesAllowed() {
        try {
            Process p = new ProcessBuilder("unshare", "-Urm", "true").redirectErrorStream(true).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
