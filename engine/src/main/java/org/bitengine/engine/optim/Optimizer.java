package org.bitengine.engine.optim;

import java.util.Map;

import org.bitengine.engine.tensor.Tensor;

/**
 * A first-order optimizer over named parameters: {@link Sgd}, {@link Adam}, {@link RmsProp}. The
 * learning rate is given per step, so any {@link LrSchedule} drives it. Its whole state is a set of
 * named tensors plus the number of steps taken, which is what a checkpoint saves and restores.
 */
public interface Optimizer {

    /** Updates every parameter that has a gradient with learning rate {@code lr}; counts one step. */
    void step(double lr);

    /** Clears every parameter's gradient. */
    void zeroGrad();

    /** The state tensors by {@code <slot>/<parameter key>} (e.g. {@code momentum/resnet/...}), parameter shapes. */
    Map<String, Tensor> state();

    /**
     * Continues from a saved state: each entry of {@code saved} (named as in {@link #state()}) is
     * copied into the matching buffer, and the step counter is set to {@code stepsTaken}.
     *
     * @throws IllegalArgumentException naming the first entry that matches no trainable parameter or
     *                                  has the wrong size
     */
    void restore(Map<String, float[]> saved, long stepsTaken);

    /** One line for a person: the algorithm and its hyper-parameters. */
    String describe();
}
