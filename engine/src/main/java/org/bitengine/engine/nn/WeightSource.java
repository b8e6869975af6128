package org.bitengine.engine.nn;

import java.util.Set;

import org.bitengine.engine.tensor.Shape;

/**
 * Named arrays a model can be built from, read one at a time (a checkpoint of several GB is never
 * held whole). The io module adapts .npz files to this.
 */
public interface WeightSource {

    Set<String> keys();

    /** The stored shape of {@code key}, read without its data. */
    Shape shape(String key);

    /** The values of {@code key} as float32, row-major. */
    float[] read(String key);

    /** This source with {@code hidden} keys left out, so a model initialises those itself (a new head). */
    default WeightSource without(Set<String> hidden) {
        WeightSource source = this;
        Set<String> visible = new java.util.HashSet<>(keys());
        visible.removeAll(hidden);
        Set<String> keys = Set.copyOf(visible);
        return new WeightSource() {
            @Override
            public Set<String> keys() {
                return keys;
            }

            @Override
            public Shape shape(String key) {
                return source.shape(key);
            }

            @Override
            public float[] read(String key) {
                return source.read(key);
            }
        };
    }

    /** A source with no keys: a model built over it is entirely a fresh initialisation. */
    static WeightSource empty() {
        return new WeightSource() {
            @Override
            public Set<String> keys() {
                return Set.of();
            }

            @Override
            public Shape shape(String key) {
                throw new IllegalArgumentException("no weight '" + key + "' in an empty source");
            }

            @Override
            public float[] read(String key) {
                throw new IllegalArgumentException("no weight '" + key + "' in an empty source");
            }
        };
    }
}
