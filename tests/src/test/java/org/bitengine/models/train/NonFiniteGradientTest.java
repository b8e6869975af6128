package org.bitengine.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The check the training loop runs on the gradients before every update: it names the first
 * parameter (in the optimizer's order) whose gradient holds a NaN or an infinity.
 */
class NonFiniteGradientTest {

    private static Tensor param(float... grad) {
        Tensor p = Tensor.of(new float[grad.length], grad.length).requiresGrad(true);
        p.setGrad(Tensor.of(grad, grad.length));
        return p;
    }

    @Test
    void namesTheFirstParameterWithANonFiniteGradient() {
        Map<String, Tensor> trainable = new LinkedHashMap<>();
        trainable.put("resnet/root_block/standardized_conv2d/kernel", param(0.5f, -1e30f));
        trainable.put("head/conv2d/bias", Tensor.of(new float[2], 2).requiresGrad(true)); // no gradient yet
        assertNull(Trainer.nonFiniteGradient(trainable));

        trainable.put("resnet/block1/unit01/a/group_norm/gamma", param(1f, Float.NaN, 2f));
        trainable.put("head/conv2d/kernel", param(Float.POSITIVE_INFINITY));
        assertEquals("resnet/block1/unit01/a/group_norm/gamma", Trainer.nonFiniteGradient(trainable));

        trainable.remove("resnet/block1/unit01/a/group_norm/gamma");
        assertEquals("head/conv2d/kernel", Trainer.nonFiniteGradient(trainable));
        trainable.put("head/conv2d/kernel", param(Float.NEGATIVE_INFINITY, 0f));
        assertEquals("head/conv2d/kernel", Trainer.nonFiniteGradient(trainable));
    }
}
