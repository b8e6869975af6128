package org.bitengine.io.npy;

import static org.bitengine.io.IoErrors.error;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.IoErrors;
import org.bitengine.io.ZipArchives;

/**
 * Reads the arrays of a NumPy {@code .npz} archive ({@code np.savez} / {@code np.savez_compressed})
 * one entry at a time.
 *
 * <p>Built on {@link ZipFile}, which since JDK 9 is pure Java, reads only the central directory up
 * front and handles Zip64 (numpy puts a Zip64 extra field on every local header), STORED and
 * DEFLATED entries. Nothing but the directory and the entry being read is held in memory, so
 * multi-GB checkpoints open instantly and load entry by entry. Every read verifies the entry's
 * CRC-32, which is the only thing that catches a flipped byte in a STORED entry.
 *
 * <p>Keys are the entry names without {@code .npy} and may contain {@code '/'}
 * ({@code resnet/block1/unit01/a/group_norm/gamma}); {@link #keys()} keeps the archive's order.
 * Reads of different keys may run concurrently from several threads.
 */
public final class NpzReader implements AutoCloseable {

    private static final String SUFFIX = ".npy";

    private final Path path;
    private final ZipFile zip;
    private final Map<String, ZipEntry> entries;
    private final List<String> keys;
    private final long fileSize;
    private volatile boolean closed;

    private NpzReader(Path path, ZipFile zip, Map<String, ZipEntry> entries, long fileSize) {
        this.path = path;
        this.fileSize = fileSize;
        this.zip = zip;
        this.entries = entries;
        this.keys = List.copyOf(entries.keySet());
    }

    /**
     * Opens an .npz and reads its central directory.
     *
     * @throws BitEngineException if the file is missing, not a zip, truncated, or holds an entry
     *                            that is not a {@code .npy} array
     */
    public static NpzReader open(Path path) {
        ZipFile zf = ZipArchives.open(path, "not an .npz file; pass the path of the .npz file", e -> notAZip(path, e));
        try {
            Map<String, ZipEntry> map = new LinkedHashMap<>();
            for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String name = e.getName();
                if (e.isDirectory()) {
                    continue; // zip tools add these; they hold no data
                }
                if (!name.endsWith(SUFFIX)) {
                    throw error(path + ": entry '" + name + "' is not a .npy array, so this zip is not an .npz;"
                            + " write .npz files with numpy.savez (every entry is <key>.npy)");
                }
                map.put(name.substring(0, name.length() - SUFFIX.length()), e);
            }
            return new NpzReader(path, zf, Collections.unmodifiableMap(map), path.toFile().length());
        } catch (RuntimeException e) {
            closeQuietly(zf);
            if (e instanceof BitEngineException) {
                throw e;
            }
            // ZipFile reports some malformed directory entries (bad names, bad extra fields)
            // only while iterating, as unchecked exceptions.
            throw error(path + ": corrupt .npz (zip) directory: " + e.getMessage()
                    + "; re-create the file with numpy.savez", e);
        }
    }

    /** The archive's path. */
    public Path path() {
        return path;
    }

    /** The keys (entry names without {@code .npy}) in archive order; unmodifiable. */
    public List<String> keys() {
        return keys;
    }

    /** Whether the archive holds {@code key} (also accepted with its {@code .npy} suffix, as numpy does). */
    public boolean contains(String key) {
        return resolve(key) != null;
    }

    /**
     * Reads and validates only the header of an entry: dtype, shape, and that the entry is exactly
     * as long as they say. For DEFLATED entries only the first bytes are inflated.
     */
    public NpyHeader header(String key) {
        ZipEntry e = entry(key);
        String source = source(e);
        try (InputStream in = zip.getInputStream(e)) {
            return NpyFormat.readHeader(in, source, e.getSize());
        } catch (ZipException ex) {
            throw corrupt(source, ex);
        } catch (IOException ex) {
            throw readFailed(source, ex);
        }
    }

    /** Reads one array; its CRC-32 is checked against the archive's directory. */
    public NpyArray read(String key) {
        ZipEntry e = entry(key);
        String source = source(e);
        try (InputStream raw = zip.getInputStream(e)) {
            CheckedInputStream in = new CheckedInputStream(raw, new CRC32());
            // A STORED entry's size is bytes that ZipFile found inside the file; a DEFLATED entry's
            // uncompressed size is only a claim of the directory, so its buffer grows as data inflates.
            boolean onDisk = e.getMethod() == ZipEntry.STORED && e.getCompressedSize() == e.getSize()
                    && e.getSize() <= fileSize;
            NpyArray array = NpyFormat.readArray(in, source, e.getSize(), onDisk);
            long want = e.getCrc();
            if (want != -1 && in.getChecksum().getValue() != want) {
                throw error(source + ": corrupt entry (CRC-32 mismatch: the data is damaged);"
                        + " copy the file again or re-create it with numpy.savez");
            }
            return array;
        } catch (ZipException ex) {
            throw corrupt(source, ex);
        } catch (IOException ex) {
            throw readFailed(source, ex);
        }
    }

    /** Closes the file; later calls fail with IllegalStateException. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(zip);
    }

    @Override
    public String toString() {
        return "NpzReader[" + path + ", " + keys.size() + " keys]";
    }

    // ---------------------------------------------------------------------------------------------

    private ZipEntry resolve(String key) {
        Objects.requireNonNull(key, "key");
        ZipEntry e = entries.get(key);
        if (e == null && key.endsWith(SUFFIX)) {
            e = entries.get(key.substring(0, key.length() - SUFFIX.length()));
        }
        return e;
    }

    private ZipEntry entry(String key) {
        if (closed) {
            throw new IllegalStateException("NpzReader for " + path + " is closed");
        }
        ZipEntry e = resolve(key);
        if (e == null) {
            throw error(path + ": no key '" + key + "' (the file has " + keys.size() + " keys" + examples(key)
                    + "); check the key name, numpy lists them with np.load(path).files");
        }
        return e;
    }

    /** A hint for a missing key: a key that ends the same way, or else the first few keys. */
    private String examples(String key) {
        if (keys.isEmpty()) {
            return "";
        }
        String tail = key.substring(key.lastIndexOf('/') + 1);
        for (String k : keys) {
            if (k.equalsIgnoreCase(key) || (!tail.isEmpty() && (k.endsWith("/" + tail) || k.equals(tail)))) {
                return ", e.g. '" + k + "'";
            }
        }
        List<String> first = new ArrayList<>();
        for (int i = 0; i < Math.min(3, keys.size()); i++) {
            first.add("'" + keys.get(i) + "'");
        }
        return ", e.g. " + String.join(", ", first);
    }

    private String source(ZipEntry e) {
        String name = e.getName();
        return path + ": key '" + name.substring(0, name.length() - SUFFIX.length()) + "'";
    }

    private static BitEngineException corrupt(String source, ZipException e) {
        // The message already says "corrupt entry"; the zip's own message says what is wrong.
        return error(source + ": corrupt entry (" + IoErrors.message(e) + "); copy the file again or re-create it"
                + " with numpy.savez", e);
    }

    private static BitEngineException readFailed(String source, IOException e) {
        // EOFException here means the compressed stream ended early, i.e. damaged data.
        String reason = e instanceof java.io.EOFException ? "compressed data ends early, the entry is damaged"
                : IoErrors.reason(e);
        return error(source + ": cannot read: " + reason + "; copy the file again or re-create it with numpy.savez", e);
    }

    private static BitEngineException notAZip(Path path, ZipException e) {
        byte[] start = new byte[0];
        try (InputStream in = Files.newInputStream(path)) {
            start = in.readNBytes(6);
        } catch (IOException ignored) {
            // Only used to refine the message.
        }
        if (start.length == 6 && (start[0] & 0xFF) == 0x93 && start[1] == 'N' && start[2] == 'U') {
            return error(path + ": is a single .npy array, not an .npz archive; read it with Npy.read", e);
        }
        return error(path + ": not a readable .npz (zip) archive (" + IoErrors.message(e) + "): it is truncated,"
                + " corrupt or not an .npz; copy it again or re-create it with numpy.savez", e);
    }

    private static void closeQuietly(ZipFile zf) {
        try {
            zf.close();
        } catch (IOException ignored) {
            // Read-only file: nothing can be lost by a failed close.
        }
    }
}
