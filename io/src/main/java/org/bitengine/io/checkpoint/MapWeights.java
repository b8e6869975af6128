package org.bitengine.io.checkpoint;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.npy.NpyArray;

/**
 * Arrays already in memory (a Keras file's converted variables, a state dict a test made) as a
 * {@link WeightSource} under their own names, read as float32 whatever their dtype.
 */
public final class MapWeights implements WeightSource {

    private final Map<String, NpyArray> arrays;
    private final Set<String> keys;

    private MapWeights(Map<String, NpyArray> arrays) {
        this.arrays = arrays;
        this.keys = Collections.unmodifiableSet(new LinkedHashSet<>(arrays.keySet()));
    }

    /** A view of {@code arrays}, keys in the map's order. */
    public static MapWeights of(Map<String, NpyArray> arrays) {
        return new MapWeights(arrays);
    }

    @Override
    public Set<String> keys() {
        return keys;
    }

    @Override
    public Shape shape(String key) {
        return Shape.of(array(key).shape());
    }

    @Override
    public float[] read(String key) {
        return array(key).toFloats();
    }

    private NpyArray array(String key) {
        NpyArray a = arrays.get(key);
        if (a == null) throw new IllegalArgumentException("no array '" + key + "' among " + keys.size());
        return a;
    }
}
