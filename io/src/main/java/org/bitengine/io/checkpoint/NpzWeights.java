package org.bitengine.io.checkpoint;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.io.npy.NpyHeader;
import org.bitengine.io.npy.NpzReader;

/**
 * An .npz checkpoint as a {@link WeightSource}: keys and shapes come from the entry headers, and
 * each array is read only when the model asks for it, so a checkpoint of several GB is never held
 * whole in memory. Entries under {@link #META_PREFIX} describe the file (architecture, convention,
 * preprocessing) and are not weights: {@link #keys()} leaves them out.
 */
public final class NpzWeights implements WeightSource, AutoCloseable {

    /** Prefix of the entries that describe the checkpoint rather than hold weights. */
    public static final String META_PREFIX = "meta/";

    private final Path path;
    private final NpzReader reader;
    private final Set<String> keys;

    private NpzWeights(Path path, NpzReader reader) {
        this.path = path;
        this.reader = reader;
        Set<String> weights = new LinkedHashSet<>();
        for (String k : reader.keys()) if (!k.startsWith(META_PREFIX)) weights.add(k);
        this.keys = Collections.unmodifiableSet(weights);
    }

    public static NpzWeights open(Path path) {
        return new NpzWeights(path, NpzReader.open(path));
    }

    public Path path() {
        return path;
    }

    @Override
    public Set<String> keys() {
        return keys;
    }

    @Override
    public Shape shape(String key) {
        return Shape.of(reader.header(key).shape());
    }

    /** The stored element type of {@code key}. */
    public NpyDType dtype(String key) {
        return reader.header(key).dtype();
    }

    @Override
    public float[] read(String key) {
        NpyHeader header = reader.header(key);
        if (header.dtype() != NpyDType.F4 && header.dtype() != NpyDType.F8) {
            throw new BitEngineException(path + ": key '" + key + "' holds " + header.dtype().descr()
                    + " values; model weights must be float32 (<f4) or float64 (<f8)");
        }
        return reader.read(key).toFloats();
    }

    @Override
    public void close() {
        reader.close();
    }
}
