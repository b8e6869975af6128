package org.bitengine.engine.autograd;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * The table of differentiable operations: each record is one op, its forward and its derivative rule
 * side by side, both delegating the arithmetic to the {@link Backend} of the first input.
 *
 * <p>The interface is sealed, so this file is the complete list; the gradient-check test walks the
 * same list and fails for an op that has no finite-difference case.
 */
public sealed interface Op {

    /** Computes the output; saves in {@code ctx} what {@link #backward} needs. */
    Tensor forward(Context ctx, Tensor... in);

    /** The gradient for each input, given the gradient of the output; null for an input with none. */
    Tensor[] backward(Context ctx, Tensor dy);

    /** x [N,H,W,C], w [KH,KW,C/groups,O] → [N,OH,OW,O]. */
    record Conv2d(ConvSpec spec) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0], in[1]);
            return in[0].backend().conv2d(in[0], in[1], spec);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Tensor x = ctx.saved(0);
            Tensor w = ctx.saved(1);
            Backend b = dy.backend();
            return new Tensor[] {
                ctx.needsInputGrad(0) ? b.conv2dBackwardData(dy, w, x.shape(), spec) : null,
                ctx.needsInputGrad(1) ? b.conv2dBackwardFilter(x, dy, w.shape(), spec) : null
            };
        }
    }

    /** w [KH,KW,I,O] → per-output-channel standardised kernel (biased variance, eps inside the sqrt). */
    record WeightStandardize(double eps) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0]);
            return in[0].backend().weightStandardize(in[0], eps);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().weightStandardizeBackward(ctx.saved(0), dy, eps)};
        }
    }

    /** x [N,...,C], gamma [C], beta [C] → GroupNorm(x)·gamma + beta. */
    record GroupNorm(int groups, double eps) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            Backend.GroupNormResult r = in[0].backend().groupNorm(in[0], in[1], in[2], groups, eps);
            ctx.save(in[0], in[1], r.mean(), r.rstd());
            return r.y();
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Backend.GroupNormGrads g = dy.backend().groupNormBackward(dy, ctx.saved(0), ctx.saved(1), ctx.saved(2), ctx.saved(3), groups);
            return new Tensor[] {g.dx(), g.dgamma(), g.dbeta()};
        }
    }

    /** x [N,...,C], gamma [C], beta [C] → max(GroupNorm(x)·gamma + beta, 0), in one pass where the backend fuses it. */
    record GroupNormRelu(int groups, double eps) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            Backend.GroupNormResult r = in[0].backend().groupNormRelu(in[0], in[1], in[2], groups, eps);
            ctx.save(in[0], in[1], r.mean(), r.rstd(), r.y());
            return r.y();
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Backend.GroupNormGrads g = dy.backend().groupNormReluBackward(dy, ctx.saved(4), ctx.saved(0), ctx.saved(1), ctx.saved(2),
                    ctx.saved(3), groups);
            return new Tensor[] {g.dx(), g.dgamma(), g.dbeta()};
        }
    }

    /**
     * BatchNorm in training mode: x [N,...,C], gamma [C], beta [C] → y like x, normalised with the batch
     * statistics. When {@code stats} is not null it receives the batch mean and unbiased variance [C]
     * for the running-statistics update (the op's output is y alone).
     */
    record BatchNorm(double eps, BatchStats stats) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            Backend.BatchNormResult r = in[0].backend().batchNorm(in[0], in[1], in[2], eps);
            if (stats != null) stats.set(r.mean(), r.unbiasedVar());
            ctx.save(in[0], in[1], r.mean(), r.rstd());
            return r.y();
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Backend.BatchNormGrads g = dy.backend().batchNormBackward(dy, ctx.saved(0), ctx.saved(1), ctx.saved(2), ctx.saved(3));
            return new Tensor[] {g.dx(), g.dgamma(), g.dbeta()};
        }
    }

    /**
     * BatchNorm with given statistics: x [N,...,C], gamma, beta, runningMean, runningVar [C] → y like x.
     * The statistics get no gradient; with {@code affineGrad} false neither do gamma and beta (a frozen
     * BatchNorm when fine-tuning).
     */
    record BatchNormInference(double eps, boolean affineGrad) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0], in[1], in[3], in[4]);
            return in[0].backend().batchNormInference(in[0], in[1], in[2], in[3], in[4], eps);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Backend.BatchNormGrads g = dy.backend().batchNormInferenceBackward(dy, ctx.saved(0), ctx.saved(1), ctx.saved(2), ctx.saved(3), eps);
            return affineGrad
                    ? new Tensor[] {g.dx(), g.dgamma(), g.dbeta(), null, null}
                    : new Tensor[] {g.dx(), null, null, null, null};
        }
    }

    /** 1/(1 + exp(−x)), any shape. */
    record Sigmoid() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            Tensor y = in[0].backend().sigmoid(in[0]);
            ctx.save(y);
            return y;
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().sigmoidBackward(ctx.saved(0), dy)};
        }
    }

    /** Swish / SiLU x·sigmoid(x), any shape. */
    record Swish() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0]);
            return in[0].backend().swish(in[0]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().swishBackward(ctx.saved(0), dy)};
        }
    }

    /** x [N,...,C] · s [N,C], s repeated over each sample's spatial positions (squeeze-and-excitation). */
    record ScaleChannels() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0], in[1]);
            return in[0].backend().scaleChannels(in[0], in[1]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Tensor x = ctx.saved(0);
            Tensor s = ctx.saved(1);
            Backend b = dy.backend();
            return new Tensor[] {b.scaleChannels(dy, s), b.scaleChannelsBackwardScale(dy, x, s.shape())};
        }
    }

    /**
     * Inverted dropout with a given mask: x times {@code mask} (like x; each value 0 or 1/(1 − p)). The
     * mask is drawn by the caller ({@link Ops#dropout}); the backward multiplies by the same mask.
     */
    record Dropout(Tensor mask) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            return in[0].backend().binary(BinaryOp.MUL, in[0], mask);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().binary(BinaryOp.MUL, dy, mask)};
        }
    }

    /**
     * Stochastic depth ("row" mode): x [N,...] times {@code mask} [N] (each value 0 or 1/(1 − p)), one
     * value per sample. The mask is drawn by the caller ({@link Ops#stochasticDepth}).
     */
    record StochasticDepth(Tensor mask) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0].shape());
            return in[0].backend().scaleChannels(rows(in[0]), mask.view(Shape.of(mask.size(), 1))).view(in[0].shape());
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Shape xShape = ctx.saved(0);
            return new Tensor[] {dy.backend().scaleChannels(rows(dy), mask.view(Shape.of(mask.size(), 1))).view(xShape)};
        }

        /** x [N,...] seen as [N, rest, 1]: one "channel" per sample. */
        private static Tensor rows(Tensor x) {
            int n = x.shape().dim(0);
            return x.view(Shape.of(n, x.size() / Math.max(1, n), 1));
        }
    }

    record Relu() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0]);
            return in[0].backend().relu(in[0]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().reluBackward(ctx.saved(0), dy)};
        }
    }

    /** a ⊕ b with b's shape a suffix of a's (e.g. a bias [C] added to [N,C]). */
    record Binary(BinaryOp op) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0], in[1]);
            return in[0].backend().binary(op, in[0], in[1]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Tensor a = ctx.saved(0);
            Tensor b = ctx.saved(1);
            Backend be = dy.backend();
            return switch (op) {
                case ADD -> new Tensor[] {dy, be.sumToSuffix(dy, b.shape())};
                case SUB -> new Tensor[] {dy, be.scale(be.sumToSuffix(dy, b.shape()), -1)};
                case MUL -> new Tensor[] {be.binary(BinaryOp.MUL, dy, b), be.sumToSuffix(be.binary(BinaryOp.MUL, dy, a), b.shape())};
            };
        }
    }

    /** alpha·x. */
    record Scale(double alpha) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            return in[0].backend().scale(in[0], alpha);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().scale(dy, alpha)};
        }
    }

    /** Sum of all elements → shape (). */
    record Sum() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0].shape());
            return in[0].backend().sum(in[0]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Shape xShape = ctx.saved(0);
            return new Tensor[] {dy.backend().full(dy.dtype(), xShape, dy.item())};
        }
    }

    /** Same values, another shape of the same size. */
    record Reshape(Shape shape) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0].shape());
            return in[0].view(shape);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Shape xShape = ctx.saved(0);
            return new Tensor[] {dy.view(xShape)};
        }
    }

    /** x [N,H,W,C] padded with a constant on each side of H and W. */
    record Pad2d(int top, int bottom, int left, int right, double value) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            return in[0].backend().pad2d(in[0], top, bottom, left, right, value);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().crop2d(dy, top, bottom, left, right)};
        }
    }

    /** Max-pool with a square window and no padding. */
    record MaxPool2d(int kernel, int stride) implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0]);
            return in[0].backend().maxPool2d(in[0], kernel, stride);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().maxPool2dBackward(ctx.saved(0), dy, kernel, stride)};
        }
    }

    /** x [N,H,W,C] → mean over H and W, [N,C]. */
    record GlobalAvgPool() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0].shape());
            return in[0].backend().globalAvgPool(in[0]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().globalAvgPoolBackward(dy, ctx.saved(0))};
        }
    }

    /** a [M,K] · b [K,N] → [M,N]. */
    record MatMul() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0], in[1]);
            return in[0].backend().matmul(in[0], in[1], false, false);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            Tensor a = ctx.saved(0);
            Tensor b = ctx.saved(1);
            Backend be = dy.backend();
            return new Tensor[] {be.matmul(dy, b, false, true), be.matmul(a, dy, true, false)};
        }
    }

    /** logits [N,K] and labels [N] (int32) or soft labels [N,K] → per-sample loss [N]; labels get no gradient. */
    record SoftmaxCrossEntropy() implements Op {
        public Tensor forward(Context ctx, Tensor... in) {
            ctx.save(in[0], in[1]);
            return in[0].backend().softmaxCrossEntropy(in[0], in[1]);
        }

        public Tensor[] backward(Context ctx, Tensor dy) {
            return new Tensor[] {dy.backend().softmaxCrossEntropyBackward(ctx.saved(0), ctx.saved(1), dy), null};
        }
    }
}
