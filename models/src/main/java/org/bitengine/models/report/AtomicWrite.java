package org.bitengine.models.report;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

import org.bitengine.engine.BitEngineException;

/** Reports (PNG, CSV) are written under a temporary name beside the target and renamed onto it (DESIGN.md §5). */
public final class AtomicWrite {

    private AtomicWrite() {}

    /** What fills the temporary file. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes {@code bytes} to {@code target}; readers see the old file or the whole new one, never a part. */
    public static void bytes(Path target, byte[] bytes) {
        with(target, out -> out.write(bytes));
    }

    /** Runs {@code body} on a stream into a temporary file beside {@code target}, then renames it onto the target. */
    public static void with(Path target, Body body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new BitEngineException(target + ": directory " + dir + " does not exist; create it or write elsewhere");
        }
        if (Files.isDirectory(abs)) {
            throw new BitEngineException(target + ": is a directory; give a file path to write to");
        }
        // Not Files.createTempFile: that makes the file owner-only (0600) and the target would keep it.
        Path temp = dir.resolve(abs.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
        try {
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(out);
            }
            try {
                Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new BitEngineException(target + ": cannot write: " + e + "; check free disk space and that " + dir + " is writable", e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // Only a leftover temporary file is at stake; the failure itself is already reported.
            }
        }
    }
}
