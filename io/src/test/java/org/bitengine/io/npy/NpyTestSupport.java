package org.bitengine.io.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bitengine.io.IoTestSupport;
import org.junit.jupiter.api.Assumptions;

/** Fixtures, python3 access and assertion helpers shared by the npy tests. */
final class NpyTestSupport {

    private NpyTestSupport() {
    }

    /** A file of src/test/resources/npy. */
    static Path fixture(String name) {
        return IoTestSupport.resource("npy/" + name);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // python3 + numpy, used only where the machine has them

    private static Boolean pythonOk;

    /** Skips the calling test, with a message, unless python3 can import numpy. */
    static synchronized void assumeNumpy() {
        if (pythonOk == null) {
            try {
                Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                pythonOk = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                pythonOk = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pythonOk = false;
            }
        }
        Assumptions.assumeTrue(pythonOk, "python3 with numpy is not available on this machine; numpy interop check skipped");
    }

    /** Runs {@code python3 -c script args...}, asserts exit code 0 and returns stdout lines. */
    static List<String> python(String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python3 timed out");
            assertEquals(0, p.exitValue(), () -> "python3 failed:\n" + out);
            return out.lines().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Bytes allocated on the heap by the current thread so far, or -1 where the JVM cannot say;
     * lets a test prove that reading did not allocate what a header claimed.
     */
    static long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
            return t.getCurrentThreadAllocatedBytes();
        }
        return -1;
    }
}
