package org.bitengine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import org.bitengine.engine.backend.cpu.CpuParallel;
import org.bitengine.models.cli.Main;

/** The CLI run in process, and what every test expects of a command that fails on bad input (DESIGN.md §5). */
final class CliRunner {

    private CliRunner() {
    }

    /** A finished command: its exit code and everything it printed. */
    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // --threads sets the process-wide pool size; the test that ran the command must not inherit it.
        int threads = CpuParallel.threads();
        int code;
        try {
            code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        } finally {
            CpuParallel.setThreads(threads);
        }
        return new Run(code, out.toString(), err.toString());
    }

    /** Runs a command that must succeed (exit 0). */
    static Run ok(String... args) {
        Run r = cli(args);
        assertEquals(0, r.code(), "exit code; stdout:\n" + r.out() + "\nstderr:\n" + r.err());
        return r;
    }

    /**
     * Exit 2, exactly one line on stderr ({@code bit-engine: error: ...}), no stack trace, and the line
     * names what it should. Output on stdout before the failure (progress of a run) is allowed.
     */
    static void assertUserError(Run r, String... mentions) {
        assertEquals(2, r.code(), "exit code; stdout: " + r.out() + "\nstderr: " + r.err());
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), "one line on stderr, got: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(lines.getFirst().startsWith("bit-engine: error: "), lines.getFirst());
        for (String m : mentions) assertTrue(lines.getFirst().contains(m), "'" + m + "' in: " + lines.getFirst());
    }

    /** {@link #assertUserError}, and nothing on stdout: the command was refused before it did anything. */
    static void assertUserErrorAndNoOutput(Run r, String... mentions) {
        assertUserError(r, mentions);
        assertEquals("", r.out(), "nothing on stdout");
    }
}
