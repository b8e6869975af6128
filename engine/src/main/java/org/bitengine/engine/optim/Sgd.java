package org.bitengine.engine.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;

/**
 * SGD with momentum in PyTorch's form ({@code buf = m·buf + g; p −= lr·buf}, no dampening, no
 * Nesterov, no weight decay): the form the official BiT code trains with. The learning rate is given
 * per step, so any {@link LrSchedule} drives it.
 */
public final class Sgd {

    private final Map<String, Tensor> parameters;
    private final double momentum;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();

    /** {@code parameters}: the trainable tensors by name (their gradients are read at each step). */
    public Sgd(Map<String, Tensor> parameters, double momentum) {
        this.parameters = new LinkedHashMap<>(parameters);
        this.momentum = momentum;
    }

    /** Updates every parameter that has a gradient; a parameter's buffer starts at zero. */
    public void step(double lr) {
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            Tensor p = e.getValue();
            if (p.grad() == null) continue;
            Tensor buf = buffers.computeIfAbsent(e.getKey(), k -> p.backend().zeros(p.dtype(), p.shape()));
            p.backend().sgdMomentumInPlace(p, p.grad(), buf, lr, momentum);
        }
    }

    public void zeroGrad() {
        for (Tensor p : parameters.values()) p.zeroGrad();
    }

    /**
     * Sets the momentum buffer of {@code name} (a trainable parameter) to {@code values}, as saved by
     * a checkpoint; the next step continues exactly where the saved run was.
     */
    public void restoreMomentum(String name, Tensor values) {
        Tensor p = parameters.get(name);
        if (p == null) throw new IllegalArgumentException("no trainable parameter '" + name + "'");
        Tensor buf = buffers.computeIfAbsent(name, k -> p.backend().zeros(p.dtype(), p.shape()));
        buf.backend().copyInPlace(buf, values);
    }

    /** The momentum buffers by parameter name (the optimizer state a checkpoint saves). */
    public Map<String, Tensor> momentumBuffers() {
        return Collections.unmodifiableMap(buffers);
    }
}
