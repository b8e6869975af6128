package org.bitengine.engine.nn;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Tensor;

/**
 * Squeeze-and-excitation as in EfficientNet: global average pool of x [N,H,W,C] → 1×1 conv with bias
 * (C → squeeze) → swish → 1×1 conv with bias (squeeze → C) → sigmoid → x scaled per sample and channel.
 * Parameters {@code reduce/kernel} [1,1,C,squeeze], {@code reduce/bias}, {@code expand/kernel}
 * [1,1,squeeze,C], {@code expand/bias}.
 */
public final class SqueezeExcite implements Module {

    public record Config(int channels, int squeeze) {}

    private final Conv2d reduce;
    private final Conv2d expand;

    public SqueezeExcite(Config config, Params params) {
        this.reduce = new Conv2d(new Conv2d.Config(config.channels(), config.squeeze(), 1, ConvSpec.of(1, 0), true), params.at("reduce"));
        this.expand = new Conv2d(new Conv2d.Config(config.squeeze(), config.channels(), 1, ConvSpec.of(1, 0), true), params.at("expand"));
    }

    @Override
    public Tensor forward(Tensor x) {
        int n = x.shape().dim(0), c = x.shape().dim(3);
        Tensor pooled = Ops.reshape(Ops.globalAvgPool(x), n, 1, 1, c);
        Tensor s = Ops.sigmoid(expand.forward(Ops.swish(reduce.forward(pooled))));
        return Ops.scaleChannels(x, Ops.reshape(s, n, c));
    }
}
