package org.bitengine.engine.nn;

import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * A path-scoped view of a {@link ParameterStore}: modules take one and ask for their parameters by
 * local name, so checkpoint keys mirror the module tree
 * ({@code params.at("block1").at("unit01").at("a").get("standardized_conv2d/kernel", shape, init)}).
 */
public final class Params {

    private final ParameterStore store;
    private final String prefix;

    Params(ParameterStore store, String prefix) {
        this.store = store;
        this.prefix = prefix;
    }

    /** The scope {@code name} inside this one. */
    public Params at(String name) {
        return new Params(store, prefix + name + "/");
    }

    /** The parameter {@code name} of this scope, with the given shape. */
    public Tensor get(String name, Shape shape, Init init) {
        return store.get(prefix + name, shape, init, true);
    }

    /**
     * A buffer {@code name} of this scope: state saved and loaded with the parameters (BatchNorm's
     * running statistics) that never requires a gradient, so optimisers leave it alone.
     */
    public Tensor buffer(String name, Shape shape, Init init) {
        return store.get(prefix + name, shape, init, false);
    }
}
