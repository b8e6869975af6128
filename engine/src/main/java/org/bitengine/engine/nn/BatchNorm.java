package org.bitengine.engine.nn;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * BatchNorm over channels-last input x [N,...,C]. Parameters {@code weight} (gamma, init 1) and
 * {@code bias} (beta, init 0), each [C]; buffers {@code running_mean} (init 0) and {@code running_var}
 * (init 1), each [C], which never require a gradient.
 *
 * <p>Modes: {@link Mode#TRAIN} normalises with the batch statistics (biased variance) and updates the
 * running statistics PyTorch's way, {@code running = (1 − momentum)·running + momentum·batch} with the
 * <em>unbiased</em> batch variance; {@link Mode#EVAL} uses the running statistics, gradients still flow
 * to gamma and beta; {@link Mode#FROZEN} uses the running statistics and gives gamma and beta no
 * gradient (Keras' BatchNorm kept in inference mode while fine-tuning).
 */
public final class BatchNorm implements Module {

    public enum Mode { TRAIN, EVAL, FROZEN }

    /**
     * {@code momentum} in PyTorch's convention (default 0.1). Keras' {@code momentum=0.99} is
     * {@code 1 − 0.99 = 0.01} here: Keras weights the old running value by its momentum, PyTorch the new
     * batch value.
     */
    public record Config(int channels, double eps, double momentum) {
        /** PyTorch's defaults: eps 1e-5, momentum 0.1. */
        public static Config pytorch(int channels) {
            return new Config(channels, 1e-5, 0.1);
        }

        /** A Keras configuration, converted: {@code kerasMomentum} 0.99 becomes momentum 0.01. */
        public static Config keras(int channels, double eps, double kerasMomentum) {
            return new Config(channels, eps, 1 - kerasMomentum);
        }
    }

    private final Config config;
    private final Tensor gamma;
    private final Tensor beta;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private Mode mode = Mode.TRAIN;

    public BatchNorm(Config config, Params params) {
        this.config = config;
        Shape c = Shape.of(config.channels());
        this.gamma = params.get("weight", c, Init.constant(1f));
        this.beta = params.get("bias", c, Init.zeros());
        this.runningMean = params.buffer("running_mean", c, Init.zeros());
        this.runningVar = params.buffer("running_var", c, Init.constant(1f));
    }

    public Mode mode() {
        return mode;
    }

    public BatchNorm mode(Mode mode) {
        this.mode = mode;
        return this;
    }

    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    @Override
    public Tensor forward(Tensor x) {
        return switch (mode) {
            case TRAIN -> {
                Ops.BatchNormOutput out = Ops.batchNorm(x, gamma, beta, config.eps());
                runningMean.backend().runningStatUpdateInPlace(runningMean, out.mean(), config.momentum());
                runningVar.backend().runningStatUpdateInPlace(runningVar, out.unbiasedVar(), config.momentum());
                yield out.y();
            }
            case EVAL -> Ops.batchNormInference(x, gamma, beta, runningMean, runningVar, config.eps(), true);
            case FROZEN -> Ops.batchNormInference(x, gamma, beta, runningMean, runningVar, config.eps(), false);
        };
    }
}
