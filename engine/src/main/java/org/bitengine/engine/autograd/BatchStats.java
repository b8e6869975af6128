package org.bitengine.engine.autograd;

import org.bitengine.engine.tensor.Tensor;

/**
 * Receives the batch statistics of an {@link Op.BatchNorm} forward pass (the op's output is y alone):
 * mean and unbiased variance, each [C], for the running-statistics update.
 */
public final class BatchStats {

    private Tensor mean;
    private Tensor unbiasedVar;

    void set(Tensor mean, Tensor unbiasedVar) {
        this.mean = mean;
        this.unbiasedVar = unbiasedVar;
    }

    /** The batch mean [C] of the last forward pass, or null before one. */
    public Tensor mean() {
        return mean;
    }

    /** The unbiased batch variance [C] of the last forward pass, or null before one. */
    public Tensor unbiasedVar() {
        return unbiasedVar;
    }
}
