package org.bitengine.engine.optim;

import java.util.List;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;

/**
 * SGD with momentum in PyTorch's form ({@code buf = m·buf + g; p −= lr·buf}, no dampening, no
 * Nesterov, no weight decay): the form the official BiT code trains with. State slot {@code momentum}.
 */
public final class Sgd extends SlotOptimizer {

    private final double momentum;

    /** {@code parameters}: the trainable tensors by name (their gradients are read at each step). */
    public Sgd(Map<String, Tensor> parameters, double momentum) {
        super(parameters, List.of("momentum"));
        this.momentum = momentum;
    }

    @Override
    void update(String name, Tensor p, long t, double lr) {
        p.backend().sgdMomentumInPlace(p, p.grad(), buffer("momentum", name), lr, momentum);
    }

    @Override
    public String describe() {
        return "SGD, momentum " + momentum + ", no weight decay";
    }
}
