package org.bitengine.engine.autograd;

import java.util.ArrayList;
import java.util.List;

/**
 * What one op's forward pass keeps for its backward pass. When nothing is being recorded (inference)
 * {@link #save} drops everything, so inference holds no activations.
 */
public final class Context {

    private final boolean recording;
    private final List<Object> saved = new ArrayList<>(4);

    Context(boolean recording) {
        this.recording = recording;
    }

    /** Keeps tensors, shapes or other values for the backward pass, in order. */
    public void save(Object... values) {
        if (recording) saved.addAll(List.of(values));
    }

    /** The i-th saved value. */
    @SuppressWarnings("unchecked")
    public <T> T saved(int i) {
        return (T) saved.get(i);
    }
}
