package org.bitengine.models.train;

import java.util.ArrayList;
import java.util.List;

import org.bitengine.models.efficientnet.EfficientNetConfig;

/**
 * EfficientNet's layers in the order of Keras' {@code model.layers} ({@code keras.applications.efficientnet},
 * {@code include_top=True}), each with the keys of our parameters it holds: the unit that
 * {@code finetune --unfreeze-top N} counts, so that N means what it means in Keras' fine-tuning
 * tutorial ({@code for layer in model.layers[-N:]: if not BatchNormalization: layer.trainable = True}).
 *
 * <pre>
 * input_layer, rescaling, normalization                    (our pipeline does these)
 * stem_conv_pad, stem_conv, stem_bn, stem_activation
 * per block "block{stage}{a,b,…}_": [expand_conv, expand_bn, expand_activation]  (expand ratio ≠ 1)
 *     [dwconv_pad] (stride 2), dwconv, bn, activation,
 *     se_squeeze, se_reshape, se_reduce, se_expand, se_excite, project_conv, project_bn,
 *     [drop, add]  (residual blocks)
 * top_conv, top_bn, top_activation, avg_pool, top_dropout, predictions
 * </pre>
 *
 * The tutorial puts an extra BatchNormalization between the pooling and the dropout of its own head,
 * which our classifier does not have, so its {@code [-20:]} reaches one layer less deep than ours.
 */
public final class KerasLayerList {

    /** One Keras layer: its name, whether it is a BatchNormalization, and the keys of our parameters in it. */
    public record Layer(String name, boolean batchNorm, List<String> keys) {}

    private KerasLayerList() {}

    public static List<Layer> of(EfficientNetConfig config) {
        List<Layer> layers = new ArrayList<>();
        plain(layers, "input_layer", "rescaling", "normalization", "stem_conv_pad");
        conv(layers, "stem_conv", "efficientnet/stem/conv/kernel");
        bn(layers, "stem_bn", "efficientnet/stem/bn");
        plain(layers, "stem_activation");
        for (EfficientNetConfig.Block b : config.blocks()) {
            String k = "block" + b.stage() + (char) ('a' + b.layer()) + "_";
            String ours = "efficientnet/blocks/" + String.format("%02d", b.index()) + "/";
            if (b.hasExpand()) {
                conv(layers, k + "expand_conv", ours + "expand/conv/kernel");
                bn(layers, k + "expand_bn", ours + "expand/bn");
                plain(layers, k + "expand_activation");
            }
            if (b.stride() == 2) plain(layers, k + "dwconv_pad");
            conv(layers, k + "dwconv", ours + "depthwise/conv/kernel");
            bn(layers, k + "bn", ours + "depthwise/bn");
            plain(layers, k + "activation", k + "se_squeeze", k + "se_reshape");
            conv(layers, k + "se_reduce", ours + "se/reduce/kernel", ours + "se/reduce/bias");
            conv(layers, k + "se_expand", ours + "se/expand/kernel", ours + "se/expand/bias");
            plain(layers, k + "se_excite");
            conv(layers, k + "project_conv", ours + "project/conv/kernel");
            bn(layers, k + "project_bn", ours + "project/bn");
            if (b.residual()) plain(layers, k + "drop", k + "add");
        }
        conv(layers, "top_conv", "efficientnet/head/conv/kernel");
        bn(layers, "top_bn", "efficientnet/head/bn");
        plain(layers, "top_activation", "avg_pool", "top_dropout");
        conv(layers, "predictions", "efficientnet/classifier/kernel", "efficientnet/classifier/bias");
        return List.copyOf(layers);
    }

    /**
     * The parameter keys {@code --unfreeze-top n} trains: those of the last n layers, BatchNorm layers
     * excepted (they stay frozen, statistics and affine parameters).
     */
    public static List<String> trainableKeys(EfficientNetConfig config, int n) {
        List<Layer> layers = of(config);
        List<String> keys = new ArrayList<>();
        for (Layer l : layers.subList(Math.max(0, layers.size() - n), layers.size())) {
            if (!l.batchNorm()) keys.addAll(l.keys());
        }
        return keys;
    }

    private static void plain(List<Layer> layers, String... names) {
        for (String n : names) layers.add(new Layer(n, false, List.of()));
    }

    private static void conv(List<Layer> layers, String name, String... keys) {
        layers.add(new Layer(name, false, List.of(keys)));
    }

    private static void bn(List<Layer> layers, String name, String prefix) {
        layers.add(new Layer(name, true, List.of(prefix + "/weight", prefix + "/bias", prefix + "/running_mean", prefix + "/running_var")));
    }
}
