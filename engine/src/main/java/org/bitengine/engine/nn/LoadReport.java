package org.bitengine.engine.nn;

import java.util.List;

import org.bitengine.engine.BitEngineException;

/**
 * What happened to each key when a model was built from a checkpoint: applied, missing from the
 * checkpoint (freshly initialised), unused (in the checkpoint, not in the model), or present with
 * the wrong shape (freshly initialised).
 */
public record LoadReport(List<String> applied, List<String> missing, List<String> unused, List<Mismatch> mismatched) {

    public record Mismatch(String key, String expected, String found) {}

    public LoadReport {
        applied = List.copyOf(applied);
        missing = List.copyOf(missing);
        unused = List.copyOf(unused);
        mismatched = List.copyOf(mismatched);
    }

    /** True when every model parameter came from the checkpoint and nothing was left over. */
    public boolean isComplete() {
        return missing.isEmpty() && unused.isEmpty() && mismatched.isEmpty();
    }

    /**
     * For inference, where every parameter must come from the checkpoint: throws a one-line error
     * naming the first missing or wrongly shaped key of {@code file} for the model {@code model}.
     */
    public void requireComplete(String file, String model) {
        if (!missing.isEmpty()) {
            throw new BitEngineException(file + ": missing key '" + missing.getFirst() + "' (" + missing.size()
                    + " missing in all) for " + model + "; is the file complete?");
        }
        if (!mismatched.isEmpty()) {
            Mismatch m = mismatched.getFirst();
            throw new BitEngineException(file + ": key '" + m.key() + "' has shape " + m.found() + ", the model expects "
                    + m.expected() + " for " + model);
        }
    }

    /** A short list of the unused keys for a warning, e.g. {@code 'a', 'b' and 3 more}. */
    public String describeUnused() {
        String shown = String.join(", ", unused.stream().limit(3).map(k -> "'" + k + "'").toList());
        int rest = unused.size() - 3;
        return rest > 0 ? shown + " and " + rest + " more" : shown;
    }

    /** One line, e.g. {@code applied 45, missing 0, unused 0, shape-mismatched 0}. */
    public String summary() {
        return "applied " + applied.size() + ", missing " + missing.size() + ", unused " + unused.size()
                + ", shape-mismatched " + mismatched.size();
    }
}
