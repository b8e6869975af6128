package org.bitengine.engine.nn;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * A plain convolution x [N,H,W,in] → [N,OH,OW,out], optionally with a bias. Parameters {@code kernel}
 * [k, k, in/groups, out] (HWIO, He-normal) and, with {@code bias}, {@code bias} [out] (init 0).
 * Depthwise when {@code spec.groups() == in == out}; a 1×1 convolution with bias on [N,1,1,C] is the
 * fully-connected layer of squeeze-and-excitation.
 */
public final class Conv2d implements Module {

    public record Config(int in, int out, int kernel, ConvSpec spec, boolean bias) {}

    private final ConvSpec spec;
    private final Tensor kernel;
    private final Tensor bias;

    public Conv2d(Config config, Params params) {
        this.spec = config.spec();
        if (config.in() % spec.groups() != 0 || config.out() % spec.groups() != 0) {
            throw new IllegalArgumentException("Conv2d: " + config.in() + " → " + config.out() + " channels not divisible by "
                    + spec.groups() + " groups");
        }
        this.kernel = params.get("kernel", Shape.of(config.kernel(), config.kernel(), config.in() / spec.groups(), config.out()),
                Init.heNormal());
        this.bias = config.bias() ? params.get("bias", Shape.of(config.out()), Init.zeros()) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = Ops.conv2d(x, kernel, spec);
        return bias == null ? y : Ops.add(y, bias);
    }
}
