package org.bitengine.engine.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.Storage;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * Creates a model's parameters by name, in the order its modules ask for them: from a
 * {@link WeightSource} when the key is there with the right shape, otherwise from the module's
 * {@link Init}. Random values depend only on the seed and the key, not on construction order.
 */
public final class ParameterStore {

    private final Backend backend;
    private final WeightSource source;
    private final long seed;
    private final DType dtype;
    /** No values: neither read from the source nor initialised (see {@link #shapesOnly}). */
    private final boolean shapesOnly;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final List<String> applied = new ArrayList<>();
    private final List<String> missing = new ArrayList<>();
    private final List<LoadReport.Mismatch> mismatched = new ArrayList<>();

    private ParameterStore(Backend backend, WeightSource source, long seed, DType dtype, boolean shapesOnly) {
        this.backend = backend;
        this.source = source;
        this.seed = seed;
        this.dtype = dtype;
        this.shapesOnly = shapesOnly;
    }

    /** Every parameter initialised from {@code seed}, float32. */
    public static ParameterStore random(Backend backend, long seed) {
        return new ParameterStore(backend, null, seed, DType.F32, false);
    }

    /** Parameters read from {@code source}; keys it lacks are initialised from {@code seed}. Float32. */
    public static ParameterStore from(Backend backend, WeightSource source, long seed) {
        return from(backend, source, seed, DType.F32);
    }

    /** As {@link #from(Backend, WeightSource, long)} with parameters of {@code dtype} (float64 for reference runs). */
    public static ParameterStore from(Backend backend, WeightSource source, long seed, DType dtype) {
        return new ParameterStore(backend, source, seed, dtype, false);
    }

    /**
     * Parameters with shapes but no values: nothing is read from {@code source} and nothing is
     * initialised, so a model built over this store costs a few bytes per parameter tensor and tells
     * which keys it asks for with which shapes, and what {@link #report()} would say when loading
     * {@code source}. That is how a checkpoint larger than the heap is checked before it is copied
     * array by array. The tensors handed out cannot be computed with.
     */
    public static ParameterStore shapesOnly(WeightSource source) {
        return new ParameterStore(null, source, 0, DType.F32, true);
    }

    /** The root scope: {@code root().at("resnet").get("root_block/standardized_conv2d/kernel", ...)}. */
    public Params root() {
        return new Params(this, "");
    }

    /** {@code trainable} false makes a buffer: listed in {@link #parameters()}, never requiring a gradient. */
    Tensor get(String key, Shape shape, Init init, boolean trainable) {
        if (parameters.containsKey(key)) throw new IllegalStateException("parameter '" + key + "' requested twice");
        float[] data = null;
        if (source != null && source.keys().contains(key)) {
            Shape stored = source.shape(key);
            if (stored.equals(shape)) {
                if (!shapesOnly) data = source.read(key);
                applied.add(key);
            } else {
                mismatched.add(new LoadReport.Mismatch(key, shape.toString(), stored.toString()));
            }
        } else if (source != null) {
            missing.add(key);
        }
        if (shapesOnly) {
            Tensor t = new Tensor(shape, new NoValues(dtype, shape.size())).requiresGrad(trainable);
            parameters.put(key, t);
            return t;
        }
        if (data == null) {
            data = new float[shape.size()];
            init.fill(data, shape, new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * key.hashCode())));
        }
        Tensor t = backend.cast(backend.fromHost(data, shape), dtype).requiresGrad(trainable);
        parameters.put(key, t);
        return t;
    }

    /** Every parameter and buffer by its full key, in creation order (buffers do not require a gradient). */
    public Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** What came from the source; call after the model is built. */
    public LoadReport report() {
        List<String> unused = new ArrayList<>();
        if (source != null) {
            for (String k : new TreeSet<>(source.keys())) if (!parameters.containsKey(k)) unused.add(k);
        }
        return new LoadReport(applied, missing, unused, mismatched);
    }

    /** The storage of a {@link #shapesOnly} parameter: a size and no memory; any backend op on it fails. */
    private record NoValues(DType dtype, int size) implements Storage {
        @Override
        public Backend backend() {
            throw new UnsupportedOperationException("a parameter of a shapes-only ParameterStore has no values to compute with");
        }
    }
}
