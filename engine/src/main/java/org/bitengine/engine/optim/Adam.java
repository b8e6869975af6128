package org.bitengine.engine.optim;

import java.util.List;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;

/**
 * Adam as {@code torch.optim.Adam} computes it (no weight decay, no AMSGrad); see
 * {@link org.bitengine.engine.backend.Backend#adamInPlace}. State slots {@code adam_m} and
 * {@code adam_v}; the bias corrections use the optimizer's own step count, so a resumed run
 * continues with the right one.
 *
 * <p>Keras' Adam differs only in where ε sits ({@code lr_t·m/(√v + ε)} with the corrections folded
 * into lr_t, i.e. ε is not scaled by √(1−β2^t)), and defaults to ε = 1e-7: a difference that only
 * matters while √v is of the order of ε.
 */
public final class Adam extends SlotOptimizer {

    /** torch.optim.Adam's defaults (the Keras tutorial's learning rates are given per run). */
    public static final double BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;

    private final double beta1;
    private final double beta2;
    private final double eps;

    public Adam(Map<String, Tensor> parameters, double beta1, double beta2, double eps) {
        super(parameters, List.of("adam_m", "adam_v"));
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    @Override
    void update(String name, Tensor p, long t, double lr) {
        p.backend().adamInPlace(p, p.grad(), buffer("adam_m", name), buffer("adam_v", name), lr, beta1, beta2, eps, t);
    }

    @Override
    public String describe() {
        return "Adam, betas (" + beta1 + ", " + beta2 + "), eps " + SlotOptimizer.number(eps) + ", no weight decay";
    }
}
