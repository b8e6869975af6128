package org.bitengine.io;

import static org.bitengine.io.IoErrors.error;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

import org.bitengine.engine.BitEngineException;

/** Opening the zip containers behind .npz and .pth files, with the same one-line errors for both. */
public final class ZipArchives {

    private ZipArchives() {}

    /**
     * Opens {@code path} for random access to its entries (nothing is read but the central directory).
     *
     * @param notDirectoryHint what the message says when {@code path} is a directory, e.g.
     *                         {@code "not an .npz file; pass the path of the .npz file"}
     * @param notAZip          the error for a file that is not a readable zip (the caller knows its format)
     */
    public static ZipFile open(Path path, String notDirectoryHint, Function<ZipException, BitEngineException> notAZip) {
        Objects.requireNonNull(path, "path");
        if (Files.isDirectory(path)) {
            throw error(path + ": is a directory, " + notDirectoryHint);
        }
        if (!Files.exists(path)) {
            throw error(path + ": no such file; check the path");
        }
        try {
            return new ZipFile(path.toFile(), ZipFile.OPEN_READ, StandardCharsets.UTF_8);
        } catch (ZipException e) {
            throw notAZip.apply(e);
        } catch (IOException e) {
            throw error(path + ": cannot read: " + IoErrors.reason(e) + "; check the path and permissions", e);
        }
    }
}
