package org.bitengine.engine.optim;

import java.util.List;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;

/**
 * RMSprop as {@code torch.optim.RMSprop} computes it (not centred, no momentum, no weight decay);
 * see {@link org.bitengine.engine.backend.Backend#rmspropInPlace}. State slot {@code rmsprop_v}.
 *
 * <p>Defaults: Keras' ρ = 0.9 (the EfficientNet paper's decay; PyTorch's default α is 0.99) and
 * PyTorch's ε = 1e-8 (Keras: 1e-7). Keras and PyTorch place ε the same way, outside the root.
 */
public final class RmsProp extends SlotOptimizer {

    public static final double ALPHA = 0.9, EPS = 1e-8;

    private final double alpha;
    private final double eps;

    public RmsProp(Map<String, Tensor> parameters, double alpha, double eps) {
        super(parameters, List.of("rmsprop_v"));
        this.alpha = alpha;
        this.eps = eps;
    }

    @Override
    void update(String name, Tensor p, long t, double lr) {
        p.backend().rmspropInPlace(p, p.grad(), buffer("rmsprop_v", name), lr, alpha, eps);
    }

    @Override
    public String describe() {
        return "RMSprop, rho " + alpha + ", eps " + SlotOptimizer.number(eps) + ", no momentum, no weight decay";
    }
}
