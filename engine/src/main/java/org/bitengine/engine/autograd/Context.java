package org.bitengine.engine.autograd;

import java.util.ArrayList;
import java.util.List;

/**
 * What one op's forward pass keeps for its backward pass. When nothing is being recorded (inference)
 * {@link #save} drops everything, so inference holds no activations.
 */
public final class Context {

    private final boolean recording;
    private final boolean[] inputNeedsGrad;
    private final List<Object> saved = new ArrayList<>(4);

    /** {@code inputNeedsGrad}: which inputs the backward pass must differentiate; null means all. */
    Context(boolean recording, boolean[] inputNeedsGrad) {
        this.recording = recording;
        this.inputNeedsGrad = inputNeedsGrad;
    }

    Context(boolean recording) {
        this(recording, null);
    }

    /**
     * Whether the gradient of input {@code i} is wanted; a derivative rule may skip (return null for)
     * an expensive gradient nobody reads, such as the image's gradient under the first convolution.
     */
    public boolean needsInputGrad(int i) {
        return inputNeedsGrad == null || inputNeedsGrad[i];
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
