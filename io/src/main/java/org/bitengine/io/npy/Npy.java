package org.bitengine.io.npy;

import static org.bitengine.io.IoErrors.error;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.AtomicFile;
import org.bitengine.io.IoErrors;

/**
 * Reads and writes single arrays in NumPy's {@code .npy} format.
 *
 * <p>Reading accepts format versions 1.0, 2.0 and 3.0 with the dtypes of {@link NpyDType}; writing
 * produces version 1.0 byte-identical to numpy 2's {@code np.save} of the same C-order array, so
 * files can be compared by hash with ones numpy wrote. Every failure a user can cause (missing,
 * truncated or unsupported file) is a one-line {@link BitEngineException} naming the file.
 */
public final class Npy {

    private Npy() {
    }

    /**
     * Reads the array in a .npy file.
     *
     * <p>The file's size is checked against its header before any data buffer is allocated, so a
     * corrupt header cannot trigger a huge allocation, and bytes after the data are an error.
     */
    public static NpyArray read(Path path) {
        String source = path.toString();
        long size = fileSize(path);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 8192)) {
            return NpyFormat.readArray(in, source, size, true);
        } catch (IOException e) {
            throw error(source + ": cannot read: " + IoErrors.reason(e) + "; check the path and permissions", e);
        }
    }

    /**
     * Reads one array from a stream positioned at the start of a .npy; leaves the stream just after
     * the array's data (numpy allows several arrays one after another in one stream) and does not
     * close it.
     *
     * @param nameForErrors what to call the stream in messages, e.g. a file or entry name
     */
    public static NpyArray read(InputStream in, String nameForErrors) {
        Objects.requireNonNull(in, "in");
        String source = Objects.requireNonNullElse(nameForErrors, "stream");
        try {
            return NpyFormat.readArray(in, source, -1, false);
        } catch (IOException e) {
            throw error(source + ": cannot read: " + IoErrors.reason(e) + "; check the source of the data", e);
        }
    }

    /** Reads and validates only the header of a .npy file (including the size check), not its data. */
    public static NpyHeader readHeader(Path path) {
        String source = path.toString();
        long size = fileSize(path);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 4096)) {
            return NpyFormat.readHeader(in, source, size);
        } catch (IOException e) {
            throw error(source + ": cannot read: " + IoErrors.reason(e) + "; check the path and permissions", e);
        }
    }

    /**
     * Writes {@code array} to {@code path} as a version 1.0 .npy, byte-identical to {@code np.save}.
     *
     * <p>The bytes go to a temporary file in the same directory that is then renamed onto
     * {@code path}, so a crash leaves either the old file or the complete new one, never half of one.
     */
    public static void write(Path path, NpyArray array) {
        Objects.requireNonNull(array, "array");
        try (AtomicFile file = AtomicFile.create(path)) {
            try (OutputStream out = new BufferedOutputStream(file.stream(), 1 << 16)) {
                NpyFormat.write(out, array);
            } catch (IOException e) {
                throw error(path + ": cannot write " + array.dtype().descr() + " " + array.shapeString() + ": "
                        + IoErrors.reason(e) + "; check free disk space and permissions", e);
            }
            file.commit();
        }
    }

    /** Writes {@code array} as .npy bytes to {@code out}; flushes but does not close it. */
    public static void write(OutputStream out, NpyArray array) {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(array, "array");
        try {
            NpyFormat.write(out, array);
            out.flush();
        } catch (IOException e) {
            throw error("cannot write " + array.dtype().descr() + " " + array.shapeString() + " as .npy: "
                    + IoErrors.reason(e) + "; check the destination stream", e);
        }
    }

    /**
     * The header bytes {@code np.save} writes for a C-order array of this dtype and shape; the data
     * follows them directly. Useful to stream data too large to hold as one {@link NpyArray}.
     */
    public static byte[] headerBytes(NpyDType dtype, int[] shape) {
        Objects.requireNonNull(dtype, "dtype");
        Shapes.elementCount(shape);
        return NpyFormat.encodeHeader(dtype, shape.clone());
    }

    private static long fileSize(Path path) {
        try {
            if (Files.isDirectory(path)) {
                throw error(path + ": is a directory, not a .npy file; pass the path of the .npy file");
            }
            return Files.size(path);
        } catch (IOException e) {
            throw error(path + ": cannot read: " + IoErrors.reason(e) + "; check the path", e);
        }
    }
}
