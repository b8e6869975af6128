package org.bitengine.engine.autograd;

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
