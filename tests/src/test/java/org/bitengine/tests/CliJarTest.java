package org.bitengine.tests;

import static org.bitengine.tests.CliRunner.assertUserError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bitengine.tests.CliRunner.Run;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged bit-engine.jar as a user runs it: exit codes and stderr of a real process. */
class CliJarTest {

    private static final Path JAR = Path.of("..", "models", "target", "bit-engine.jar");

    private static Run java(String... args) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isRegularFile(JAR), "bit-engine.jar not built (run mvn package first): " + JAR.toAbsolutePath());
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out, err);
    }

    @Test
    void infoRunsFromTheJar() throws Exception {
        Run r = java("info", Golden.path("bit/forward/weights_bit.npz").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("8,022,599"), r.out());
        assertFalse(r.err().contains("WARNING"), "no JVM warnings (native access is enabled in the manifest): " + r.err());
    }

    @Test
    void badFileExitsWithTwoAndOneLine(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.npz");
        Files.writeString(bad, "not a checkpoint");
        Run r = java("info", bad.toString());
        assertUserError(r, "bad.npz");
    }

    @Test
    void helpListsTheCommands() throws Exception {
        Run r = java("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("info") && r.out().contains("predict"), r.out());
    }
}
