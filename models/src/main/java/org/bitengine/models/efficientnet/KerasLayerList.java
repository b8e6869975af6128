package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * EfficientNet's layers in the order of Keras' {@code model.layers} ({@code keras.applications.efficientnet},
 * {@code include_top=True}), each with the keys of our parameters it holds: the unit that
 * {@code finetune --unfreeze-top N} counts, so that N means what it means in Keras' fine-tuning
 * tutorial ({@code for layer in model.layers[-N:]: if not BatchNormalization: layer.trainable = True}),
 * and the order in which a Keras 3 file numbers its class-named layers ({@link KerasNames}).
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

    /** One Keras layer: its name, its Keras class (snake case, as Keras 3 names objects), and the keys of our parameters in it. */
    public record Layer(String name, String kerasClass, List<String> keys) {
        public boolean batchNorm() {
            return kerasClass.equals(BATCH_NORM);
        }

        /** Whether Keras stores variables for it (Normalization's mean/variance/count have no key of ours). */
        public boolean weighted() {
            return WEIGHTED.contains(kerasClass);
        }
    }

    private static final String BATCH_NORM = "batch_normalization";
    private static final Set<String> WEIGHTED = Set.of("normalization", "conv2d", "depthwise_conv2d", BATCH_NORM, "dense");

    private KerasLayerList() {}

    public static List<Layer> of(EfficientNetConfig config) {
        List<Layer> layers = new ArrayList<>();
        plain(layers, "input_layer", "input_layer");
        plain(layers, "rescaling", "rescaling");
        plain(layers, "normalization", "normalization");
        plain(layers, "zero_padding2d", "stem_conv_pad");
        weighted(layers, "conv2d", "stem_conv", "efficientnet/stem/conv/kernel");
        bn(layers, "stem_bn", "efficientnet/stem/bn");
        plain(layers, "activation", "stem_activation");
        for (EfficientNetConfig.Block b : config.blocks()) {
            String k = "block" + b.stage() + (char) ('a' + b.layer()) + "_";
            String ours = "efficientnet/blocks/" + String.format("%02d", b.index()) + "/";
            if (b.hasExpand()) {
                weighted(layers, "conv2d", k + "expand_conv", ours + "expand/conv/kernel");
                bn(layers, k + "expand_bn", ours + "expand/bn");
                plain(layers, "activation", k + "expand_activation");
            }
            if (b.stride() == 2) plain(layers, "zero_padding2d", k + "dwconv_pad");
            weighted(layers, "depthwise_conv2d", k + "dwconv", ours + "depthwise/conv/kernel");
            bn(layers, k + "bn", ours + "depthwise/bn");
            plain(layers, "activation", k + "activation");
            plain(layers, "global_average_pooling2d", k + "se_squeeze");
            plain(layers, "reshape", k + "se_reshape");
            weighted(layers, "conv2d", k + "se_reduce", ours + "se/reduce/kernel", ours + "se/reduce/bias");
            weighted(layers, "conv2d", k + "se_expand", ours + "se/expand/kernel", ours + "se/expand/bias");
            plain(layers, "multiply", k + "se_excite");
            weighted(layers, "conv2d", k + "project_conv", ours + "project/conv/kernel");
            bn(layers, k + "project_bn", ours + "project/bn");
            if (b.residual()) {
                plain(layers, "dropout", k + "drop");
                plain(layers, "add", k + "add");
            }
        }
        weighted(layers, "conv2d", "top_conv", "efficientnet/head/conv/kernel");
        bn(layers, "top_bn", "efficientnet/head/bn");
        plain(layers, "activation", "top_activation");
        plain(layers, "global_average_pooling2d", "avg_pool");
        plain(layers, "dropout", "top_dropout");
        weighted(layers, "dense", "predictions", "efficientnet/classifier/kernel", "efficientnet/classifier/bias");
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

    private static void plain(List<Layer> layers, String kerasClass, String name) {
        layers.add(new Layer(name, kerasClass, List.of()));
    }

    private static void weighted(List<Layer> layers, String kerasClass, String name, String... keys) {
        layers.add(new Layer(name, kerasClass, List.of(keys)));
    }

    private static void bn(List<Layer> layers, String name, String prefix) {
        layers.add(new Layer(name, BATCH_NORM, List.of(prefix + "/weight", prefix + "/bias", prefix + "/running_mean",
                prefix + "/running_var")));
    }
}
