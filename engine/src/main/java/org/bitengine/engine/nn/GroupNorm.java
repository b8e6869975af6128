package org.bitengine.engine.nn;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * GroupNorm over channels-last input with a per-channel affine. Parameters {@code gamma} [C] (init 1)
 * and {@code beta} [C] (init 0).
 */
public final class GroupNorm implements Module {

    public record Config(int channels, int groups, double eps) {
        /** BiT's setting: 32 groups, eps 1e-5. */
        public static Config bit(int channels) {
            return new Config(channels, 32, 1e-5);
        }
    }

    private final Config config;
    private final Tensor gamma;
    private final Tensor beta;

    public GroupNorm(Config config, Params params) {
        this.config = config;
        this.gamma = params.get("gamma", Shape.of(config.channels()), Init.constant(1f));
        this.beta = params.get("beta", Shape.of(config.channels()), Init.zeros());
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.groupNorm(x, gamma, beta, config.groups(), config.eps());
    }

    /** {@code relu(forward(x))} in one op, which the CPU backend runs as one pass. */
    public Tensor forwardRelu(Tensor x) {
        return Ops.groupNormRelu(x, gamma, beta, config.groups(), config.eps());
    }
}
