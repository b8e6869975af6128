package org.bitengine.models.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpyDType;
import org.bitengine.io.npy.NpzReader;

/**
 * What a checkpoint holds besides the weights ({@code train_state.npz}):
 *
 * <ul>
 * <li>{@code format} int64: 1;</li>
 * <li>{@code step} int64: optimizer steps done; the next step to run;</li>
 * <li>{@code seed} int64: the run seed. Data order, augmentation and MixUp draws are pure functions of
 *     (seed, step, micro-batch), so (seed, step) is the complete random state of the run;</li>
 * <li>{@code elapsed_s} float64: training time so far (for metrics.jsonl after a resume);</li>
 * <li>{@code <slot>/<parameter key>} float32, the parameter's shape: the optimizer's buffers
 *     ({@code momentum/} for SGD, {@code adam_m/} and {@code adam_v/} for Adam, {@code rmsprop_v/} for
 *     RMSprop); every key not listed here is one. The optimizer's step count is {@code step};</li>
 * <li>{@code early_stop/best_step} int64 (−1: no evaluation yet), {@code early_stop/best_top1} float64,
 *     {@code early_stop/evals_since_best} int64: the early-stopping bookkeeping;
 *     {@code early_stop/stopped} int64 1 when early stopping ended the run at this step;</li>
 * <li>{@code last_eval_step} int64: the step of the last evaluation logged (−1: none), so a resume
 *     does not log one twice.</li>
 * </ul>
 */
public record TrainState(int step, long seed, double elapsedSeconds, Map<String, float[]> optimizer,
                         Map<String, int[]> optimizerShapes, int bestStep, double bestTop1, int evalsSinceBest,
                         int lastEvalStep, boolean earlyStopped) {

    private static final long FORMAT = 1;
    private static final java.util.List<String> BOOKKEEPING = java.util.List.of("format", "step", "seed", "elapsed_s",
            "early_stop/best_step", "early_stop/best_top1", "early_stop/evals_since_best", "early_stop/stopped", "last_eval_step");

    public Map<String, NpyArray> toArrays() {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("format", scalar(FORMAT));
        m.put("step", scalar(step));
        m.put("seed", scalar(seed));
        m.put("elapsed_s", NpyArray.ofDoubles(new int[0], new double[] {elapsedSeconds}));
        for (Map.Entry<String, float[]> e : optimizer.entrySet()) {
            m.put(e.getKey(), NpyArray.ofFloats(optimizerShapes.get(e.getKey()), e.getValue()));
        }
        m.put("early_stop/best_step", scalar(bestStep));
        m.put("early_stop/best_top1", NpyArray.ofDoubles(new int[0], new double[] {bestTop1}));
        m.put("early_stop/evals_since_best", scalar(evalsSinceBest));
        m.put("early_stop/stopped", scalar(earlyStopped ? 1 : 0));
        m.put("last_eval_step", scalar(lastEvalStep));
        return m;
    }

    private static NpyArray scalar(long v) {
        return NpyArray.ofLongs(new int[0], new long[] {v});
    }

    public static TrainState read(Path file) {
        try (NpzReader r = NpzReader.open(file)) {
            for (String k : BOOKKEEPING) {
                if (!r.contains(k)) {
                    throw new BitEngineException(file + ": key '" + k + "' is missing; this is not a bit-engine train state");
                }
            }
            long format = scalar(r, file, "format").toLongs()[0];
            if (format != FORMAT) {
                throw new BitEngineException(file + ": train state format " + format + ", this bit-engine reads format " + FORMAT
                        + "; resume with the version that wrote it");
            }
            Map<String, float[]> optimizer = new LinkedHashMap<>();
            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (String k : r.keys()) {
                if (BOOKKEEPING.contains(k)) continue;
                NpyArray a = r.read(k);
                if (a.dtype() != NpyDType.F4) throw new BitEngineException(file + ": key '" + k + "' is not float32");
                optimizer.put(k, a.toFloats());
                shapes.put(k, a.shape());
            }
            return new TrainState((int) scalar(r, file, "step").toLongs()[0], scalar(r, file, "seed").toLongs()[0],
                    scalar(r, file, "elapsed_s").toDoubles()[0], optimizer, shapes,
                    (int) scalar(r, file, "early_stop/best_step").toLongs()[0], scalar(r, file, "early_stop/best_top1").toDoubles()[0],
                    (int) scalar(r, file, "early_stop/evals_since_best").toLongs()[0],
                    (int) scalar(r, file, "last_eval_step").toLongs()[0], scalar(r, file, "early_stop/stopped").toLongs()[0] != 0);
        }
    }

    /** A bookkeeping entry, which holds exactly one value (an empty array would have no [0]). */
    private static NpyArray scalar(NpzReader r, Path file, String key) {
        NpyArray a = r.read(key);
        if (a.size() != 1) {
            throw new BitEngineException(file + ": key '" + key + "' holds " + a.size() + " values instead of one;"
                    + " this is not a bit-engine train state");
        }
        return a;
    }
}
