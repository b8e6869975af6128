package org.bitengine.engine.nn;

import org.bitengine.engine.tensor.Tensor;

/** A layer or a network: a function of one NHWC tensor, its parameters taken from {@link Params} at construction. */
@FunctionalInterface
public interface Module {

    Tensor forward(Tensor x);
}
