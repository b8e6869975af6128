package org.bitengine.io.keras;

import java.util.List;
import java.util.Map;

import org.bitengine.io.npy.NpyArray;

/**
 * The contents of a Keras weight file, layer by layer, in the file's order.
 *
 * <p>{@link Layout#TF_KERAS} ({@code model.save_weights("x.h5")} or {@code model.save("x.h5")} in
 * TF-Keras 2.x): layers in the order of the root's {@code layer_names} attribute, named as the model
 * names them ({@code stem_conv}, {@code block1a_dwconv}, …), layers without weights included; each
 * variable under its TF name, e.g. {@code block1a_dwconv/depthwise_kernel:0} (a nested model's
 * layer holds the variables of all its inner layers, each under the inner layer's name).
 *
 * <p>{@link Layout#KERAS3} ({@code model.save_weights("x.weights.h5")} in Keras 3, and TF-Keras 2.13+'s
 * new format): one entry per group that holds a {@code vars} group, named by its path without
 * {@code /vars}, e.g. {@code layers/conv2d_3} or {@code layers/functional/layers/batch_normalization};
 * Keras 3 names layers by class and position, not by their model name. Variables are named
 * {@code "0"}, {@code "1"}, … in the layer's own order (kernel then bias; gamma, beta, moving mean,
 * moving variance).
 *
 * @param layout     which of the two layouts the file has
 * @param layers     every layer in file order (TF-Keras) or path order (Keras 3), with or without variables
 * @param attributes the root's string attributes of interest ({@code keras_version}, {@code backend}), when present
 */
public record KerasWeights(Layout layout, List<Layer> layers, Map<String, String> attributes) {

    public enum Layout { TF_KERAS, KERAS3 }

    /** One variable: its name within the layer (see {@link KerasWeights}) and its value as stored. */
    public record Variable(String name, NpyArray value) {}

    /** One layer (or Keras 3 object) and its variables in stored order. */
    public record Layer(String name, List<Variable> variables) {

        public Layer {
            variables = List.copyOf(variables);
        }
    }

    public KerasWeights {
        layers = List.copyOf(layers);
        attributes = Map.copyOf(attributes);
    }

    /** How many variables the file holds. */
    public int variableCount() {
        return layers.stream().mapToInt(l -> l.variables().size()).sum();
    }
}
