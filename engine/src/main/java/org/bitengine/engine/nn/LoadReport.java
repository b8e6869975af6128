package org.bitengine.engine.nn;

import java.util.List;

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

    /** One line, e.g. {@code applied 45, missing 0, unused 0, shape-mismatched 0}. */
    public String summary() {
        return "applied " + applied.size() + ", missing " + missing.size() + ", unused " + unused.size()
                + ", shape-mismatched " + mismatched.size();
    }
}
