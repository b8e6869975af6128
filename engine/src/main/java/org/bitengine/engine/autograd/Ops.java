package org.bitengine.engine.autograd;

import java.util.random.RandomGenerator;

import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/** The differentiable functions models are written with; each applies one {@link Op} of the table. */
public final class Ops {

    private Ops() {}

    /** x [N,H,W,C], w [KH,KW,C/groups,O] → [N,OH,OW,O]. */
    public static Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        return Tape.apply(new Op.Conv2d(spec), x, w);
    }

    /** w [KH,KW,I,O] standardised per output channel. */
    public static Tensor weightStandardize(Tensor w, double eps) {
        return Tape.apply(new Op.WeightStandardize(eps), w);
    }

    /** x [N,...,C] normalised in {@code groups} groups of channels, then gamma [C], beta [C]. */
    public static Tensor groupNorm(Tensor x, Tensor gamma, Tensor beta, int groups, double eps) {
        return Tape.apply(new Op.GroupNorm(groups, eps), x, gamma, beta);
    }

    /** {@code relu(groupNorm(x, gamma, beta, groups, eps))}, fused where the backend can. */
    public static Tensor groupNormRelu(Tensor x, Tensor gamma, Tensor beta, int groups, double eps) {
        return Tape.apply(new Op.GroupNormRelu(groups, eps), x, gamma, beta);
    }

    /** The batch statistics of a training-mode {@link #batchNorm}: y, and mean and unbiased variance [C]. */
    public record BatchNormOutput(Tensor y, Tensor mean, Tensor unbiasedVar) {}

    /**
     * BatchNorm in training mode of x [N,...,C] with gamma [C], beta [C], normalised with the batch
     * statistics (biased variance); also returns the batch mean and unbiased variance for
     * {@code Backend.runningStatUpdateInPlace}.
     */
    public static BatchNormOutput batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        BatchStats stats = new BatchStats();
        Tensor y = Tape.apply(new Op.BatchNorm(eps, stats), x, gamma, beta);
        return new BatchNormOutput(y, stats.mean(), stats.unbiasedVar());
    }

    /**
     * BatchNorm with running statistics: x [N,...,C], gamma, beta, runningMean, runningVar [C]. With
     * {@code affineGrad} false gamma and beta get no gradient (frozen BatchNorm).
     */
    public static Tensor batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                            double eps, boolean affineGrad) {
        return Tape.apply(new Op.BatchNormInference(eps, affineGrad), x, gamma, beta, runningMean, runningVar);
    }

    public static Tensor sigmoid(Tensor x) {
        return Tape.apply(new Op.Sigmoid(), x);
    }

    /** x·sigmoid(x) (SiLU). */
    public static Tensor swish(Tensor x) {
        return Tape.apply(new Op.Swish(), x);
    }

    /** x [N,...,C] · s [N,C] broadcast over the spatial positions. */
    public static Tensor scaleChannels(Tensor x, Tensor s) {
        return Tape.apply(new Op.ScaleChannels(), x, s);
    }

    /**
     * Inverted dropout of x (any shape): in training each value is kept with probability 1 − p and
     * scaled by 1/(1 − p), else zeroed; the mask comes from {@code rng} (one draw per element, in order),
     * so a seeded generator makes runs repeatable. Identity when not training or p = 0.
     */
    public static Tensor dropout(Tensor x, double p, boolean training, RandomGenerator rng) {
        checkProbability(p, "dropout");
        if (!training || p == 0) return x;
        return Tape.apply(new Op.Dropout(mask(x, x.shape(), p, rng)), x);
    }

    /**
     * Stochastic depth ("row" mode, torchvision's {@code StochasticDepth(p, "row")}) of a residual
     * branch x [N,...]: each sample's whole branch is dropped with probability p, kept ones scaled by
     * 1/(1 − p); one draw of {@code rng} per sample. Identity when not training or p = 0.
     */
    public static Tensor stochasticDepth(Tensor x, double p, boolean training, RandomGenerator rng) {
        checkProbability(p, "stochasticDepth");
        if (!training || p == 0) return x;
        return Tape.apply(new Op.StochasticDepth(mask(x, Shape.of(x.shape().dim(0)), p, rng)), x);
    }

    /** Values 0 (probability p) or 1/(1 − p), in x's dtype and on its backend; all 0 when p = 1. */
    private static Tensor mask(Tensor x, Shape shape, double p, RandomGenerator rng) {
        double keep = p >= 1 ? 0 : 1.0 / (1 - p);
        double[] m = new double[shape.size()];
        for (int i = 0; i < m.length; i++) m[i] = rng.nextDouble() < p ? 0 : keep;
        return x.backend().cast(x.backend().fromHost(m, shape), x.dtype());
    }

    private static void checkProbability(double p, String op) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException(op + ": drop probability " + p + " is outside [0, 1]");
    }

    public static Tensor relu(Tensor x) {
        return Tape.apply(new Op.Relu(), x);
    }

    /** a + b, b's shape a suffix of a's. */
    public static Tensor add(Tensor a, Tensor b) {
        return Tape.apply(new Op.Binary(BinaryOp.ADD), a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return Tape.apply(new Op.Binary(BinaryOp.SUB), a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return Tape.apply(new Op.Binary(BinaryOp.MUL), a, b);
    }

    public static Tensor scale(Tensor x, double alpha) {
        return Tape.apply(new Op.Scale(alpha), x);
    }

    /** Sum of all elements, shape (). */
    public static Tensor sum(Tensor x) {
        return Tape.apply(new Op.Sum(), x);
    }

    /** Mean of all elements, shape (). */
    public static Tensor mean(Tensor x) {
        return scale(sum(x), 1.0 / x.size());
    }

    public static Tensor reshape(Tensor x, int... dims) {
        return Tape.apply(new Op.Reshape(Shape.of(dims)), x);
    }

    /** x [N,H,W,C] padded on H and W with {@code value}. */
    public static Tensor pad2d(Tensor x, int top, int bottom, int left, int right, double value) {
        return Tape.apply(new Op.Pad2d(top, bottom, left, right, value), x);
    }

    public static Tensor maxPool2d(Tensor x, int kernel, int stride) {
        return Tape.apply(new Op.MaxPool2d(kernel, stride), x);
    }

    /** x [N,H,W,C] → [N,C]. */
    public static Tensor globalAvgPool(Tensor x) {
        return Tape.apply(new Op.GlobalAvgPool(), x);
    }

    /** a [M,K] · b [K,N]. */
    public static Tensor matmul(Tensor a, Tensor b) {
        return Tape.apply(new Op.MatMul(), a, b);
    }

    /** Per-sample loss [N] of logits [N,K] against labels [N] (int32) or soft labels [N,K]. */
    public static Tensor softmaxCrossEntropy(Tensor logits, Tensor target) {
        return Tape.apply(new Op.SoftmaxCrossEntropy(), logits, target);
    }
}
