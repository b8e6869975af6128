package org.bitengine.io.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bitengine.engine.BitEngineException;

/**
 * The contract every fuzz target checks: a reader given any bytes either succeeds or fails with our
 * own one-line {@link BitEngineException}; nothing else escapes (a RuntimeException or an Error is a
 * finding, which Jazzer then minimises and saves), and it allocates no more than the bytes can back.
 *
 * <p>Allocation is measured per thread ({@code com.sun.management.ThreadMXBean}), so a header that
 * asks for gigabytes is caught even when the JVM could satisfy it. A failure caused by an
 * {@link OutOfMemoryError} that a reader turned into a message is also a finding: it means a size
 * field was trusted.
 */
public final class FuzzSupport {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Allocation any input may cause regardless of its length: parsers' buffers, ImageIO, zip. */
    static final long BASE_ALLOWANCE = 48L << 20;

    private FuzzSupport() {
    }

    /** What a target does with the file; may throw {@link BitEngineException} only. */
    @FunctionalInterface
    public interface Target {
        void run() throws Exception;
    }

    /**
     * Runs {@code target}: a {@link BitEngineException} is the accepted outcome for a bad file, and
     * it must be one line; any other throwable fails. Allocation above {@code BASE_ALLOWANCE +
     * perInputByte × inputLength} fails too.
     *
     * @param perInputByte bytes the reader may legitimately allocate per byte of input (1 for a
     *                     stored format read once; about 1032 where deflate can expand the input)
     */
    public static void expectOwnErrors(int inputLength, long perInputByte, Target target) {
        long allowed = BASE_ALLOWANCE + perInputByte * inputLength;
        long allocated = run(inputLength, target);
        if (allocated > allowed) {
            // The first run of a code path also counts loading (and, when fuzzing, instrumenting) its
            // classes; a reader is deterministic, so the second run measures the reader alone.
            allocated = run(inputLength, target);
        }
        if (allocated > allowed) {
            throw new AssertionError("a " + inputLength + "-byte input made the reader allocate " + allocated
                    + " bytes (allowed " + allowed + "): a size field was trusted beyond what the file holds");
        }
    }

    /** Runs the target once, checks how it ended, and returns the bytes this thread allocated. */
    private static long run(int inputLength, Target target) {
        long tid = Thread.currentThread().threadId();
        long before = THREADS.getThreadAllocatedBytes(tid);
        try {
            target.run();
        } catch (BitEngineException e) {
            if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
                throw new AssertionError("error message is not one non-empty line: " + e.getMessage(), e);
            }
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof OutOfMemoryError) {
                    throw new AssertionError("a " + inputLength + "-byte input ran out of memory: " + e.getMessage(), e);
                }
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError("checked exception escaped: " + e, e);
        }
        return THREADS.getThreadAllocatedBytes(tid) - before;
    }

    /** Writes {@code bytes} to {@code dir/name} (replacing it) and returns the path. */
    public static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
