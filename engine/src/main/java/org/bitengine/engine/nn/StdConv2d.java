package org.bitengine.engine.nn;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * A bias-free convolution whose kernel is weight-standardised on every forward pass (BiT's
 * {@code StdConv2d}): the raw kernel is the parameter, gradients flow back through the standardisation.
 * Parameter: {@code standardized_conv2d/kernel} [k, k, in/groups, out] (HWIO).
 */
public final class StdConv2d implements Module {

    /** BiT's epsilon, inside the square root of the biased variance. */
    public static final double EPS = 1e-10;

    public record Config(int in, int out, int kernel, ConvSpec spec) {}

    private final Tensor kernel;
    private final ConvSpec spec;

    public StdConv2d(Config config, Params params) {
        this.spec = config.spec();
        this.kernel = params.get("standardized_conv2d/kernel",
                Shape.of(config.kernel(), config.kernel(), config.in() / spec.groups(), config.out()), Init.heNormal());
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.conv2d(x, Ops.weightStandardize(kernel, EPS), spec);
    }
}
