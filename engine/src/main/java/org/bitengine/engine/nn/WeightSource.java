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
}
