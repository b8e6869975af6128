package org.bitengine.models.train;

import java.util.function.Consumer;

import org.bitengine.engine.BitEngineException;
import org.bitengine.models.report.Plots;

/** The run's {@code curves.png}: training / validation loss and validation accuracy by step. */
final class Curves {

    private Curves() {}

    /**
     * Draws {@code RUN_DIR/curves.png} from {@code metrics.jsonl}. The plot is a by-product: a failure
     * to draw it is reported as a note and does not fail a finished run.
     */
    static void write(RunDir run, Consumer<String> note) {
        try {
            // The one call into the plotting code (org.bitengine.models.report).
            Plots.curvesFromRun(run.root());
        } catch (BitEngineException | UnsupportedOperationException e) {
            note.accept("note: could not draw " + run.curves() + ": " + e.getMessage());
        }
    }
}
