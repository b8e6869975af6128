package org.bitengine.io.npy;

import static org.bitengine.io.npy.NpyErrors.error;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file written under a temporary name beside its target and renamed onto it on
 * {@link #commit()}, so readers and crashes never see a half-written file (DESIGN.md §5).
 *
 * <p>{@link #close()} without a commit deletes the temporary file: in try-with-resources an
 * exception before the commit leaves the target untouched and nothing behind.
 */
final class AtomicFile implements AutoCloseable {

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

    /** Creates the temporary file beside {@code target}. */
    static AtomicFile create(Path target) {
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
            throw error(target + ": cannot create " + temp.getFileName() + " in " + dir + ": " + NpyErrors.reason(e)
                    + "; check that the directory is writable", e);
        }
    }

    /** The temporary file's path (for tests and messages). */
    Path tempPath() {
        return temp;
    }

    /** A stream into the temporary file; closing it only flushes, the file stays open. */
    OutputStream stream() {
        return stream;
    }

    /** Syncs the data to disk and renames the temporary file onto the target. */
    void commit() {
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
            throw error(target + ": cannot write: " + NpyErrors.reason(e) + "; check free disk space and permissions", e);
        }
        syncDirectory(target.toAbsolutePath().getParent());
    }

    /** Deletes the temporary file; the target is untouched. Idempotent. */
    void abort() {
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
                int n = Math.min(len, NpyFormat.CHUNK);
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
