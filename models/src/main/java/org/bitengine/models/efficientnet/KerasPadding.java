package org.bitengine.models.efficientnet;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.tensor.Tensor;

/**
 * The zero padding Keras puts before EfficientNet's stride-2 convolutions (the stem and the first
 * depthwise conv of stages 2, 3, 4 and 6), which are then run with {@code padding="valid"}.
 *
 * <p>Keras' {@code imagenet_utils.correct_pad(inputs, kernel_size)} (keras
 * {@code keras/src/applications/imagenet_utils.py}): with {@code adjust = 1 − size % 2} and
 * {@code correct = k // 2}, the padding is {@code (correct − adjust, correct)}: for an even size one
 * row/column less at the top/left than at the bottom/right ({@code (0, 1)} for k = 3, {@code (1, 2)}
 * for k = 5), for an odd size {@code (k//2, k//2)}. Keras takes the size from the layer's static input
 * shape; a model built for an unknown size ({@code None}) always uses {@code adjust = 1}, i.e. the
 * even-size padding. Here the size is the actual input's, which is what a Keras model built for that
 * input size does.
 *
 * <p>TensorFlow's {@code padding="SAME"} (used by timm's {@code tf_efficientnet_*} through its
 * {@code Conv2dSame}/{@code pad_same}) pads {@code total = max((ceil(n/s) − 1)·s + k − n, 0)} split as
 * {@code (total // 2, total − total // 2)}. For s = 2 and odd k: n even gives total = k − 2, i.e.
 * {@code (k//2 − 1, k//2)}; n odd gives total = k − 1, i.e. {@code (k//2, k//2)} — exactly correct_pad,
 * and the valid convolution after it yields the same {@code ceil(n/2)} outputs. For s = 1 both are
 * symmetric {@code (k−1)/2}. So one implementation serves Keras and timm's TF ports.
 */
final class KerasPadding {

    private KerasPadding() {}

    /** Rows (or columns) added before the input: {@code k//2 − (1 − size % 2)}. */
    static int before(int size, int kernel) {
        return kernel / 2 - (1 - size % 2);
    }

    /** Rows (or columns) added after the input: {@code k//2}. */
    static int after(int kernel) {
        return kernel / 2;
    }

    /** x [N,H,W,C] zero-padded for a stride-2 k×k valid convolution → [N, H+pads, W+pads, C]. */
    static Tensor pad(Tensor x, int kernel) {
        int h = x.shape().dim(1), w = x.shape().dim(2);
        return Ops.pad2d(x, before(h, kernel), after(kernel), before(w, kernel), after(kernel), 0.0);
    }
}
