package org.bitengine.models.eval;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.data.BatchLoader;
import org.bitengine.io.data.ImageDataset;
import org.bitengine.io.image.Transform;
import org.bitengine.models.Classifier;

/**
 * One pass of a classifier over a dataset in index order, with the evaluation transform, into an
 * {@link Evaluation}. Images that fail to decode are skipped by the loader with a warning.
 */
public final class Evaluator {

    private Evaluator() {}

    /** Progress after each batch: examples done so far, of {@code total}. */
    public interface Progress {
        void update(long done, long total);
    }

    /**
     * @param names         [classes of the model] the names to report, in head order
     * @param datasetToHead head index of each dataset label (identity when they agree)
     * @param threads       image decoding threads
     */
    public static Evaluation run(Classifier model, ImageDataset data, Transform transform, int batchSize, int threads,
                                 List<String> names, int[] datasetToHead, Consumer<String> warnings, Progress progress) {
        Evaluation evaluation = new Evaluation(names);
        int h = transform.outputHeight();
        int w = transform.outputWidth();
        long total = data.size();
        try (BatchLoader loader = new BatchLoader(data, transform, batchSize, false, false, 0L, threads, 2, warnings)) {
            loader.forEachBatchOfOneEpoch(batch -> {
                int n = batch.n();
                float[] x = batch.x().length == n * h * w * 3 ? batch.x() : Arrays.copyOf(batch.x(), n * h * w * 3);
                float[] logits = model.forward(Tensor.of(x, n, h, w, 3)).toFloatArray();
                int[] labels = new int[n];
                for (int i = 0; i < n; i++) labels[i] = datasetToHead[batch.labels()[i]];
                evaluation.add(logits, labels, n);
                if (progress != null) progress.update(batch.indices()[n - 1] + 1, total);
            });
        }
        return evaluation;
    }
}
