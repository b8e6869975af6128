package org.bitengine.engine.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;

/**
 * What the optimizers share: the trainable parameters by name, per-parameter state buffers in named
 * slots (created at zero on first use), the step counter, and saving/restoring that state.
 */
abstract class SlotOptimizer implements Optimizer {

    private final Map<String, Tensor> parameters;
    private final List<String> slots;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private long steps;

    /** {@code parameters}: the trainable tensors by name; {@code slots}: the names of the per-parameter buffers. */
    SlotOptimizer(Map<String, Tensor> parameters, List<String> slots) {
        this.parameters = new LinkedHashMap<>(parameters);
        this.slots = List.copyOf(slots);
    }

    /** Updates one parameter that has a gradient; {@code t} is this step's number, counted from 1. */
    abstract void update(String name, Tensor param, long t, double lr);

    @Override
    public final void step(double lr) {
        steps++;
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            if (e.getValue().grad() != null) update(e.getKey(), e.getValue(), steps, lr);
        }
    }

    /** The buffer of {@code slot} for parameter {@code name}, zero until the first update. */
    final Tensor buffer(String slot, String name) {
        Tensor p = parameters.get(name);
        return buffers.computeIfAbsent(slot + "/" + name, k -> p.backend().zeros(p.dtype(), p.shape()));
    }

    /** A hyper-parameter as a person writes it: {@code 1e-08} rather than Java's {@code 1.0E-8}. */
    static String number(double v) {
        return v != 0 && Math.abs(v) < 1e-3 ? String.format(java.util.Locale.ROOT, "%.3e", v).replaceFirst("\\.?0+e", "e") : Double.toString(v);
    }

    @Override
    public final void zeroGrad() {
        for (Tensor p : parameters.values()) p.zeroGrad();
    }

    @Override
    public final Map<String, Tensor> state() {
        return Collections.unmodifiableMap(buffers);
    }

    @Override
    public final void restore(Map<String, float[]> saved, long stepsTaken) {
        for (Map.Entry<String, float[]> e : saved.entrySet()) {
            String key = e.getKey();
            int slash = key.indexOf('/');
            String slot = slash < 0 ? "" : key.substring(0, slash);
            String name = slash < 0 ? key : key.substring(slash + 1);
            Tensor p = parameters.get(name);
            if (!slots.contains(slot) || p == null) {
                throw new IllegalArgumentException("optimizer state '" + key + "' matches no " + String.join("/", slots)
                        + " buffer of a trainable parameter");
            }
            if (e.getValue().length != p.size()) {
                throw new IllegalArgumentException("optimizer state '" + key + "' has " + e.getValue().length
                        + " values, the parameter " + p.size());
            }
            Tensor buf = buffer(slot, name);
            buf.backend().copyInPlace(buf, p.backend().fromHost(e.getValue(), p.shape()));
        }
        steps = stepsTaken;
    }
}
