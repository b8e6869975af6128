package org.bitengine.engine.nn;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * A fully-connected layer x [N,in] → [N,out]: {@code x · kernel + bias}. Parameters {@code kernel}
 * [in, out] (normal, std sqrt(1/in)) and, with {@code bias}, {@code bias} [out] (init 0).
 */
public final class Linear implements Module {

    public record Config(int in, int out, boolean bias) {}

    private final Tensor kernel;
    private final Tensor bias;

    public Linear(Config config, Params params) {
        this.kernel = params.get("kernel", Shape.of(config.in(), config.out()), Init.normal(Math.sqrt(1.0 / config.in())));
        this.bias = config.bias() ? params.get("bias", Shape.of(config.out()), Init.zeros()) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = Ops.matmul(x, kernel);
        return bias == null ? y : Ops.add(y, bias);
    }
}
