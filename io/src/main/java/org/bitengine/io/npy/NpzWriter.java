package org.bitengine.io.npy;

import static org.bitengine.io.IoErrors.error;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.IoErrors;

/**
 * Writes a NumPy {@code .npz} archive as {@code np.savez} does: one STORED (uncompressed) entry
 * {@code <key>.npy} per array, loadable with {@code np.load}.
 *
 * <p>The archive is written to a temporary file beside the target and renamed onto it by
 * {@link #commit()}; until then an existing target is untouched. {@link #close()} without a commit
 * (an exception between writes, say) discards the temporary file, so a half-written archive can
 * never replace a good one:
 *
 * <pre>{@code
 * try (NpzWriter w = NpzWriter.create(path)) {
 *     for (...) w.write(key, array);
 *     w.commit();
 * }
 * }</pre>
 *
 * <p>Archives past 4 GB get Zip64 records from {@link ZipOutputStream}. Entry timestamps are fixed
 * at 1980-01-01 00:00 (the zip epoch) so that the same arrays always give the same bytes.
 * Not thread-safe.
 */
public final class NpzWriter implements AutoCloseable {

    private static final LocalDateTime FIXED_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private final Path target;
    private final AtomicFile file;
    private final ZipOutputStream zip;
    private final Set<String> keys = new HashSet<>();
    private boolean finished;

    private NpzWriter(Path target, AtomicFile file) {
        this.target = target;
        this.file = file;
        this.zip = new ZipOutputStream(new BufferedOutputStream(file.stream(), 1 << 20));
    }

    /**
     * Starts an archive that will replace {@code target} on {@link #commit()}.
     *
     * @throws org.bitengine.engine.BitEngineException if the directory does not exist or is not writable
     */
    public static NpzWriter create(Path target) {
        Objects.requireNonNull(target, "target");
        return new NpzWriter(target, AtomicFile.create(target));
    }

    /** The path the archive will have once committed. */
    public Path target() {
        return target;
    }

    /**
     * Adds one array as entry {@code key + ".npy"}.
     *
     * @throws IllegalArgumentException if the key is empty or was already written
     * @throws IllegalStateException    after commit(), close() or abort()
     * @throws org.bitengine.engine.BitEngineException on an I/O failure (the archive is then aborted)
     */
    public void write(String key, NpyArray array) {
        Objects.requireNonNull(array, "array");
        byte[] data = array.bytesRef();
        put(key, array.dtype(), array.shapeRef(), data.length, sink -> sink.accept(data, data.length));
    }

    /**
     * Adds float32 values of {@code shape} as entry {@code key + ".npy"}, encoded in small chunks rather than copied
     * into an {@link NpyArray} first: a converter then holds one copy of its largest array, not two.
     *
     * @throws IllegalArgumentException if the key is empty or was already written, or the shape does not hold the values
     * @throws IllegalStateException    after commit(), close() or abort()
     * @throws org.bitengine.engine.BitEngineException on an I/O failure (the archive is then aborted)
     */
    public void writeFloats(String key, int[] shape, float[] values) {
        Objects.requireNonNull(values, "values");
        if (Shapes.elementCount(shape) != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not hold " + values.length + " values");
        }
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        put(key, NpyDType.F4, shape, 4L * values.length, sink -> {
            for (int at = 0; at < values.length;) {
                int n = Math.min(values.length - at, chunk.capacity() / 4);
                chunk.clear();
                chunk.asFloatBuffer().put(values, at, n);
                sink.accept(chunk.array(), 4 * n);
                at += n;
            }
        });
    }

    /** An array's data as bytes, handed over in order; produced twice, for the CRC and then for the file. */
    private interface Data {
        void to(Sink sink) throws IOException;
    }

    private interface Sink {
        void accept(byte[] bytes, int length) throws IOException;
    }

    private void put(String key, NpyDType dtype, int[] shape, long dataLength, Data data) {
        Objects.requireNonNull(key, "key");
        ensureOpen();
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty npz key");
        }
        if (!keys.add(key)) {
            throw new IllegalArgumentException("duplicate npz key '" + key + "' for " + target);
        }
        byte[] header = NpyFormat.encodeHeader(dtype, shape);
        try {
            // A STORED entry needs size and CRC before its local header is written: that avoids a data
            // descriptor after the data, which numpy's writer never produces either.
            CRC32 crc = new CRC32();
            crc.update(header);
            data.to((bytes, length) -> crc.update(bytes, 0, length));
            ZipEntry e = new ZipEntry(key + ".npy");
            e.setMethod(ZipEntry.STORED);
            e.setSize(header.length + dataLength);
            e.setCompressedSize(header.length + dataLength);
            e.setCrc(crc.getValue());
            e.setTimeLocal(FIXED_TIME);
            zip.putNextEntry(e);
            zip.write(header);
            data.to((bytes, length) -> zip.write(bytes, 0, length));
            zip.closeEntry();
        } catch (IOException ex) {
            abort();
            throw error(target + ": writing key '" + key + "' failed: " + IoErrors.reason(ex)
                    + "; check free disk space and permissions", ex);
        }
    }

    /** Discards everything written: deletes the temporary file, leaves the target as it was. Idempotent. */
    public void abort() {
        if (!finished) {
            finished = true;
            file.abort();
            try {
                // Only to release the ZipOutputStream's native Deflater; the channel is already
                // closed, so the central directory it tries to write goes nowhere.
                zip.close();
            } catch (IOException ignored) {
                // Expected: the file is gone.
            }
        }
    }

    /**
     * Finishes the archive (central directory, Zip64 records where needed), syncs it to disk and
     * renames it onto the target.
     *
     * @throws IllegalStateException after abort() or close()
     */
    public void commit() {
        ensureOpen();
        finished = true;
        try {
            // Writes the central directory and flushes into the temporary file; the stream's close
            // leaves the file open for the commit.
            zip.close();
        } catch (IOException ex) {
            file.abort();
            throw error(target + ": finishing the archive failed: " + IoErrors.reason(ex)
                    + "; check free disk space and permissions", ex);
        }
        file.commit();
    }

    /** Discards the archive unless it was committed (see {@link #abort()}). Idempotent. */
    @Override
    public void close() {
        abort();
    }

    /** The temporary file's path, for tests. */
    Path tempPath() {
        return file.tempPath();
    }

    private void ensureOpen() {
        if (finished) {
            throw new IllegalStateException("NpzWriter for " + target + " is already closed or aborted");
        }
    }
}
