package org.bitengine.models.train;

import java.util.List;
import java.util.Map;

import org.bitengine.engine.optim.Adam;
import org.bitengine.engine.optim.Optimizer;
import org.bitengine.engine.optim.RmsProp;
import org.bitengine.engine.optim.Sgd;
import org.bitengine.engine.tensor.Tensor;

/** The optimizers {@code finetune --optimizer} offers, by name, with the hyper-parameters a run uses. */
final class Optimizers {

    static final List<String> NAMES = List.of("sgd", "adam", "rmsprop");

    private Optimizers() {}

    /** {@code name} (one of {@link #NAMES}) over the trainable {@code parameters}. */
    static Optimizer create(String name, Map<String, Tensor> parameters) {
        return switch (name) {
            case "sgd" -> new Sgd(parameters, HyperRule.MOMENTUM);
            case "adam" -> new Adam(parameters, Adam.BETA1, Adam.BETA2, Adam.EPS);
            case "rmsprop" -> new RmsProp(parameters, RmsProp.ALPHA, RmsProp.EPS);
            default -> throw new IllegalArgumentException("unknown optimizer " + name);
        };
    }

    static String describe(String name) {
        return create(name, Map.of()).describe();
    }
}
