package org.bitengine.engine.backend;

import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * The primitive operations every device implements, forward and backward side by side.
 *
 * <p>Layouts: activations are NHWC, convolution kernels HWIO. Every method returns a new tensor and
 * leaves its arguments unchanged, except the ones named {@code ...InPlace}. Rarely used operations are
 * composed from these in {@code autograd.Ops} rather than getting their own primitive.
 */
public interface Backend {

    String name();

    // ---- memory ----------------------------------------------------------------------------

    Tensor zeros(DType dtype, Shape shape);

    /** A tensor of {@code shape} filled with {@code value}. */
    Tensor full(DType dtype, Shape shape, double value);

    /** Host data copied onto this backend. */
    Tensor fromHost(float[] data, Shape shape);

    Tensor fromHost(double[] data, Shape shape);

    Tensor fromHost(int[] data, Shape shape);

    float[] toFloatArray(Tensor t);

    double[] toDoubleArray(Tensor t);

    Tensor cast(Tensor x, DType to);

    /** A new tensor with x's values. */
    Tensor copy(Tensor x);

    // ---- convolution -----------------------------------------------------------------------

    /** x [N,H,W,C], w [KH,KW,C/groups,O] → y [N,OH,OW,O]. */
    Tensor conv2d(Tensor x, Tensor w, ConvSpec spec);

    /** dy [N,OH,OW,O], w [KH,KW,C/groups,O] → dx [N,H,W,C] with {@code xShape}. */
    Tensor conv2dBackwardData(Tensor dy, Tensor w, Shape xShape, ConvSpec spec);

    /** x [N,H,W,C], dy [N,OH,OW,O] → dw [KH,KW,C/groups,O] with {@code wShape}. */
    Tensor conv2dBackwardFilter(Tensor x, Tensor dy, Shape wShape, ConvSpec spec);

    // ---- normalisation ---------------------------------------------------------------------

    /**
     * Weight standardisation of w [KH,KW,I,O] per output channel over (KH,KW,I):
     * {@code (w − mean) / sqrt(var + eps)} with the biased variance.
     */
    Tensor weightStandardize(Tensor w, double eps);

    /** w [KH,KW,I,O] (the raw kernel), dwHat [KH,KW,I,O] (gradient of the standardised kernel) → dw. */
    Tensor weightStandardizeBackward(Tensor w, Tensor dwHat, double eps);

    /**
     * GroupNorm of x [N,...,C] (channels last) over each sample's (spatial × C/groups) elements,
     * then the per-channel affine gamma [C], beta [C].
     */
    GroupNormResult groupNorm(Tensor x, Tensor gamma, Tensor beta, int groups, double eps);

    /** dy and x [N,...,C], gamma [C], mean and rstd [N,groups] from the forward pass. */
    GroupNormGrads groupNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, int groups);

    /**
     * {@code max(groupNorm(x), 0)}: GroupNorm followed by ReLU, as every GroupNorm of a pre-activation
     * ResNet is. The result's y is the ReLU's output; mean and rstd are the GroupNorm's. This default runs
     * the two ops; a backend may fuse them into one pass over the data.
     */
    default GroupNormResult groupNormRelu(Tensor x, Tensor gamma, Tensor beta, int groups, double eps) {
        GroupNormResult r = groupNorm(x, gamma, beta, groups, eps);
        return new GroupNormResult(relu(r.y()), r.mean(), r.rstd());
    }

    /**
     * Backward of {@link #groupNormRelu}: dy of its output, y that output (whose sign is the ReLU's mask:
     * {@code y > 0} exactly where the normalised value is), x, gamma, mean and rstd as for
     * {@link #groupNormBackward}.
     */
    default GroupNormGrads groupNormReluBackward(Tensor dy, Tensor y, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, int groups) {
        return groupNormBackward(reluBackward(y, dy), x, gamma, mean, rstd, groups);
    }

    /** y [N,...,C], mean and rstd [N,G]: the statistics the backward pass needs. */
    record GroupNormResult(Tensor y, Tensor mean, Tensor rstd) {}

    /** dx like x, dgamma and dbeta [C]. */
    record GroupNormGrads(Tensor dx, Tensor dgamma, Tensor dbeta) {}

    /**
     * BatchNorm in training mode of x [N,...,C] (channels last): each channel is normalised with the
     * batch statistics over N and the spatial positions (biased variance), then gamma [C], beta [C].
     * The result also carries the batch mean [C] and the <em>unbiased</em> variance [C] that PyTorch
     * feeds into the running statistics (see {@link #runningStatUpdateInPlace}).
     */
    BatchNormResult batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps);

    /**
     * dy and x [N,...,C], gamma [C], mean and rstd [C] from {@link #batchNorm} → dx like x, dgamma and
     * dbeta [C], differentiating through the batch statistics.
     */
    BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd);

    /**
     * BatchNorm in inference mode: x [N,...,C], gamma, beta, runningMean, runningVar [C] →
     * {@code y = (x − runningMean) / sqrt(runningVar + eps) · gamma + beta}, like x.
     */
    Tensor batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps);

    /**
     * dy and x [N,...,C], gamma, runningMean, runningVar [C] → dx like x, dgamma and dbeta [C] of
     * {@link #batchNormInference} (the statistics are constants here).
     */
    BatchNormGrads batchNormInferenceBackward(Tensor dy, Tensor x, Tensor gamma, Tensor runningMean, Tensor runningVar, double eps);

    /**
     * running [C] = (1 − momentum)·running + momentum·batch [C], in place: PyTorch's convention
     * (momentum 0.1 by default). Keras' {@code momentum=0.99} is the same update with
     * {@code momentum = 1 − 0.99}.
     */
    void runningStatUpdateInPlace(Tensor running, Tensor batch, double momentum);

    /** y like x [N,...,C]; mean, rstd = 1/sqrt(biased var + eps) and the unbiased variance, each [C]. */
    record BatchNormResult(Tensor y, Tensor mean, Tensor rstd, Tensor unbiasedVar) {}

    /** dx like x, dgamma and dbeta [C]. */
    record BatchNormGrads(Tensor dx, Tensor dgamma, Tensor dbeta) {}

    // ---- element-wise ----------------------------------------------------------------------

    Tensor relu(Tensor x);

    /** dx = dy where x > 0, else 0. */
    Tensor reluBackward(Tensor x, Tensor dy);

    /** 1/(1 + exp(−x)), like x (any shape). */
    Tensor sigmoid(Tensor x);

    /** y = sigmoid(x) and dy, both like x → dx = dy·y·(1 − y). Takes the output, not the input. */
    Tensor sigmoidBackward(Tensor y, Tensor dy);

    /** Swish / SiLU: x·sigmoid(x), like x (any shape). */
    Tensor swish(Tensor x);

    /** x and dy, both like x → dx = dy·(s + x·s·(1 − s)) with s = sigmoid(x). */
    Tensor swishBackward(Tensor x, Tensor dy);

    /**
     * Channel scaling (squeeze-and-excitation): x [N,...,C] times s [N,C], s repeated over the spatial
     * positions of each sample. With C = 1 and s [N,1] it scales whole samples (stochastic depth).
     */
    Tensor scaleChannels(Tensor x, Tensor s);

    /** dy and x [N,...,C], s [N,C] → ds [N,C] = Σ over the spatial positions of dy·x (dx is {@code scaleChannels(dy, s)}). */
    Tensor scaleChannelsBackwardScale(Tensor dy, Tensor x, Shape sShape);

    /**
     * a ⊕ b where b's shape equals a's or a suffix of it (b is repeated over a's leading
     * dimensions), or b has one element.
     */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** alpha · x. */
    Tensor scale(Tensor x, double alpha);

    /** Sums x over its leading dimensions down to {@code target}, a suffix of x's shape (the adjoint of broadcasting). */
    Tensor sumToSuffix(Tensor x, Shape target);

    /** Sum of all elements, shape (). */
    Tensor sum(Tensor x);

    /** acc += x, element-wise, in place; shapes equal. */
    void addInPlace(Tensor acc, Tensor x);

    /** dst = src, element-wise, in place (converting the dtype); shapes equal. Restores saved state. */
    void copyInPlace(Tensor dst, Tensor src);

    // ---- spatial ---------------------------------------------------------------------------

    /** x [N,H,W,C] → [N,H+top+bottom,W+left+right,C], the border filled with {@code value}. */
    Tensor pad2d(Tensor x, int top, int bottom, int left, int right, double value);

    /** The adjoint of {@link #pad2d}: dy [N,H',W',C] → the interior [N,H'−top−bottom,W'−left−right,C]. */
    Tensor crop2d(Tensor dy, int top, int bottom, int left, int right);

    /** Max-pool without padding: x [N,H,W,C] → [N,(H−k)/s+1,(W−k)/s+1,C]. */
    Tensor maxPool2d(Tensor x, int kernel, int stride);

    /** dy goes to the first maximum of each window (scan order h, then w). */
    Tensor maxPool2dBackward(Tensor x, Tensor dy, int kernel, int stride);

    /** Mean over H and W: x [N,H,W,C] → [N,C]. */
    Tensor globalAvgPool(Tensor x);

    /** dy [N,C] → dx [N,H,W,C] of {@code xShape}, each position getting dy/(H·W). */
    Tensor globalAvgPoolBackward(Tensor dy, Shape xShape);

    // ---- dense -----------------------------------------------------------------------------

    /** op(a) [M,K] · op(b) [K,N] → [M,N], where op transposes a 2-D tensor when asked. */
    Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB);

    // ---- loss ------------------------------------------------------------------------------

    /**
     * Per-sample softmax cross-entropy: logits [N,K] and either integer labels [N] (I32) or a
     * probability distribution per sample [N,K] (soft labels, e.g. MixUp) → loss [N].
     */
    Tensor softmaxCrossEntropy(Tensor logits, Tensor target);

    /** dLoss [N] → dLogits [N,K] = dLoss · (softmax(logits) − target). */
    Tensor softmaxCrossEntropyBackward(Tensor logits, Tensor target, Tensor dLoss);

    // ---- optimiser -------------------------------------------------------------------------

    /**
     * SGD with momentum in PyTorch's form, in place: {@code buf = momentum·buf + grad;
     * param −= lr·buf}. The caller starts buf at zero, so the first step uses the gradient itself.
     */
    void sgdMomentumInPlace(Tensor param, Tensor grad, Tensor buf, double lr, double momentum);

    /**
     * Adam in PyTorch's form ({@code torch.optim.Adam}: no weight decay, no AMSGrad), in place, for
     * the {@code t}-th step (t ≥ 1): {@code m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
     * param −= lr/(1−β1^t) · m / (√v / √(1−β2^t) + eps)}. m and v start at zero; all four tensors
     * have the parameter's shape.
     */
    void adamInPlace(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, long t);

    /**
     * RMSprop in PyTorch's form ({@code torch.optim.RMSprop}: not centred, no momentum, no weight
     * decay), in place: {@code v = α·v + (1−α)·g²; param −= lr · g / (√v + eps)}. v starts at zero.
     */
    void rmspropInPlace(Tensor param, Tensor grad, Tensor v, double lr, double alpha, double eps);
}
