package org.bitengine.models.eval;

import java.nio.file.Path;
import java.util.function.Consumer;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.io.image.Preprocessing;
import org.bitengine.models.Classifier;
import org.bitengine.models.efficientnet.EfficientNetConfig;
import org.bitengine.models.registry.Models;

/**
 * A checkpoint loaded for {@code predict --images} and {@code evaluate}: BiT or EfficientNet as its
 * keys and {@code meta/*} entries say, with the pixel scaling it was trained with.
 *
 * @param model   every weight applied, in evaluation mode
 * @param spec    what the checkpoint holds
 * @param scaling the last step of the image pipeline ({@code meta/preprocessing})
 */
public record InferenceModel(Classifier model, Models.Spec spec, Preprocessing scaling) {

    /** Loads {@code weights}; keys the model does not use are reported through {@code warn}. */
    public static InferenceModel load(Path weights, Consumer<String> warn) {
        Models.Loaded loaded = Models.load(weights, CpuBackend.get());
        if (!loaded.report().unused().isEmpty()) {
            warn.accept(weights + ": " + loaded.report().unused().size() + " key(s) not used by the model: "
                    + loaded.report().describeUnused());
        }
        return new InferenceModel(loaded.model(), loaded.spec(), loaded.spec().input());
    }

    /** The input side the architecture was designed for (EfficientNet), or null (BiT: by the BiT-HyperRule). */
    public Integer nativeResolution() {
        return spec.config() instanceof EfficientNetConfig c ? c.resolution() : null;
    }
}
