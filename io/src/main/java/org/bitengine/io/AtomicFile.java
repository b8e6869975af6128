package org.bitengine.io;

import static org.bitengine.io.IoErrors.error;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file written under a temporary name beside its target, synced and renamed onto it on
 * {@link #commit()}, so readers and crashes never see a half-written file (DESIGN.md §5): they see
 * the old file or the whole new one.
 *
 * <p>Nothing replaces the target unless {@link #commit()} is called: {@link #close()} without a
 * commit deletes the temporary file, so in try-with-resources an exception before the commit leaves
 * the target untouched and nothing behind. For a whole file in one go there are
 * {@link #writeBytes}, {@link #writeString} and {@link #write(Path, Body)}.
 *
 * <p>The temporary file is created with the default permissions of a new file (the umask), not
 * owner-only like {@link Files#createTempFile}: the target keeps the temporary file's permissions
 * after the rename.
 */
public final class AtomicFile implements AutoCloseable {

    /** Largest single write to the channel; see {@link ChannelStream#write(byte[], int, int)}. */
    private static final int CHUNK = 1 << 20;

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final OutputStream stream;
    private boolean done;

    private AtomicFile(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.stream = new ChannelStream(channel);
    }

    /** What fills the file; an {@link IOException} it throws is reported as a failed write of the target. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Creates the temporary file beside {@code target}.
     *
     * @throws org.bitengine.engine.BitEngineException if the target is a directory, or its directory
     *                                                 does not exist or is not writable
     */
    public static AtomicFile create(Path target) {
        Objects.requireNonNull(target, "target");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw error(target + ": is a directory; pass a file path to write to");
        }
        // Random suffix so that two writers of the same target do not share a temporary file; the
        // name stays visible (not a dot file) so a leftover from a killed JVM is easy to spot.
        String name = abs.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        Path temp = dir.resolve(name);
        try {
            // CREATE_NEW rather than Files.createTempFile: the latter makes the file owner-only
            // (0600), and the target would inherit that after the rename.
            FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return new AtomicFile(target, temp, ch);
        } catch (NoSuchFileException e) {
            throw error(target + ": cannot create the file, directory " + dir + " does not exist; create it first", e);
        } catch (IOException e) {
            throw error(target + ": cannot create " + temp.getFileName() + " in " + dir + ": " + IoErrors.reason(e)
                    + "; check that the directory is writable", e);
        }
    }

    /**
     * Writes {@code bytes} to {@code target} atomically.
     *
     * @throws org.bitengine.engine.BitEngineException if the file cannot be written; the target is then untouched
     */
    public static void writeBytes(Path target, byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        write(target, out -> out.write(bytes));
    }

    /** Writes {@code text} as UTF-8 to {@code target} atomically (see {@link #writeBytes}). */
    public static void writeString(Path target, String text) {
        writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Runs {@code body} on a (buffered) stream into a temporary file beside {@code target}, then
     * commits it. If {@code body} throws, the target is untouched and the temporary file deleted.
     *
     * @throws org.bitengine.engine.BitEngineException if the file cannot be written or {@code body}
     *                                                 throws an {@link IOException}
     */
    public static void write(Path target, Body body) {
        Objects.requireNonNull(body, "body");
        try (AtomicFile file = create(target)) {
            try (OutputStream out = new BufferedOutputStream(file.stream(), 1 << 16)) {
                body.writeTo(out);
            } catch (IOException e) {
                throw error(target + ": cannot write: " + IoErrors.reason(e) + "; check free disk space and permissions", e);
            }
            file.commit();
        }
    }

    /** The temporary file's path (for tests and messages). */
    public Path tempPath() {
        return temp;
    }

    /** A stream into the temporary file; closing it only flushes, the file stays open. */
    public OutputStream stream() {
        return stream;
    }

    /**
     * Syncs the data to disk and renames the temporary file onto the target.
     *
     * @throws IllegalStateException if already committed or aborted
     * @throws org.bitengine.engine.BitEngineException if syncing or renaming fails; the temporary
     *                                                 file is then deleted and the target untouched
     */
    public void commit() {
        if (done) {
            throw new IllegalStateException("already committed or aborted: " + target);
        }
        try {
            channel.force(true);
            channel.close();
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // Same directory, so this only happens on unusual file systems; a plain replace is
                // the best they offer.
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (IOException e) {
            abort();
            throw error(target + ": cannot write: " + IoErrors.reason(e) + "; check free disk space and permissions", e);
        }
        syncDirectory(target.toAbsolutePath().getParent());
    }

    /** Deletes the temporary file; the target is untouched. Idempotent. */
    public void abort() {
        done = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing is best effort; deleting the file is what matters.
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // Nothing better to do: the caller is already reporting the original failure.
        }
    }

    /** Aborts unless committed. */
    @Override
    public void close() {
        if (!done) {
            abort();
        }
    }

    /** Makes the rename itself durable; not every platform allows opening a directory, so best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException ignored) {
            // The data is synced; only the directory entry's durability is at stake.
        }
    }

    /** Writes straight to the channel; close() flushes nothing and leaves the channel to commit(). */
    private static final class ChannelStream extends OutputStream {
        private final FileChannel channel;

        ChannelStream(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            // Chunked: one huge write of a heap array makes NIO copy it into an equally huge
            // temporary direct buffer.
            while (len > 0) {
                int n = Math.min(len, CHUNK);
                ByteBuffer buf = ByteBuffer.wrap(b, off, n);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
                off += n;
                len -= n;
            }
        }

        @Override
        public void close() {
            // The channel belongs to the AtomicFile.
        }
    }
}
