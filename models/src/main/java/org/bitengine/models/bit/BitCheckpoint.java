package org.bitengine.models.bit;

import java.nio.file.Path;
import java.util.stream.Collectors;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.io.checkpoint.NpzWeights;

/** Builds a {@link BitResNet} from an .npz in the official BiT naming. */
public final class BitCheckpoint {

    private BitCheckpoint() {}

    /** The model and what happened to each checkpoint key. */
    public record Loaded(BitResNet model, LoadReport report) {}

    /**
     * Loads every weight of {@code path}, with the architecture inferred from its keys. For inference
     * the checkpoint must match the model exactly; a missing or wrongly shaped key is an error that
     * names the key.
     */
    public static Loaded loadForInference(Path path, Backend backend) {
        try (NpzWeights weights = NpzWeights.open(path)) {
            BitConfig config = BitConfig.inferFrom(weights, path.toString());
            ParameterStore store = ParameterStore.from(backend, weights, 0);
            BitResNet model = new BitResNet(config, store);
            LoadReport report = store.report();
            report.requireComplete(path.toString(), config.describe());
            return new Loaded(model, report);
        }
    }

    /** A short list of unused keys for a warning, e.g. {@code 'a', 'b' and 3 more}. */
    public static String describeUnused(LoadReport report) {
        String shown = report.unused().stream().limit(3).map(k -> "'" + k + "'").collect(Collectors.joining(", "));
        int rest = report.unused().size() - 3;
        return rest > 0 ? shown + " and " + rest + " more" : shown;
    }
}
