package org.bitengine.models.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.IoErrors;
import org.bitengine.io.image.Preprocessing;

/**
 * The effective configuration of a fine-tuning run: every flag with the BiT-HyperRule's choices filled
 * in. It is printed when a run starts and saved as the {@code "config"} object of {@code config.json},
 * from which {@code finetune --resume} rebuilds the run exactly.
 *
 * @param data             training data (image folder, .npz, idx, CIFAR binary)
 * @param val              validation data given with {@code --val}, or null
 * @param valSplit         fraction of the training data held out for validation (stratified, seeded), or null
 * @param examplesPerClass few-shot: examples kept per class (seeded), or null for all
 * @param weights          the checkpoint fine-tuning starts from, or null for a random init
 * @param model            architecture name ({@code BiT-R50x1} …, {@code custom}, or {@code efficientnet-b0} … {@code -b7})
 * @param blockUnits       units per block (4 numbers; BiT only, empty for EfficientNet)
 * @param width            width factor (BiT only, 0 for EfficientNet)
 * @param convention       padding convention ({@code bit}, {@code torchvision}, {@code keras}; see {@code meta/convention})
 * @param input            how pixels are scaled for the model (name, mean, std; {@code meta/preprocessing})
 * @param bnEps            BatchNorm epsilon (EfficientNet), or null
 * @param keepHead         keep the checkpoint's head instead of a new zero head
 * @param augment          random crop + flip (false: resize only)
 * @param rotation         Keras RandomRotation factor (0: off; needs augment)
 * @param translation      Keras RandomTranslation factor (0: off; needs augment)
 * @param contrast         Keras RandomContrast factor (0: off; needs augment)
 * @param shuffle          shuffle the training data each epoch
 * @param batch            examples per optimizer step
 * @param batchSplit       micro-batches per step (gradients accumulate; batch / batchSplit each)
 * @param evalBatch        examples per forward pass during evaluation and feature extraction
 * @param schedule         learning rate of each step and the step count
 * @param mixup            MixUp α (0: off)
 * @param resolution       images are resized to resolution² before the random crop (BiT's precrop)
 * @param crop             the network's input size; evaluation resizes to crop²
 * @param lrScaleByBatch   whether lr·B/512 and steps·512/B were applied
 * @param mode             full fine-tuning, head only on cached features, a closed-form linear probe, or the top layers
 * @param unfreezeTop      with {@link Mode#UNFREEZE_TOP}: how many of Keras' layers from the top train
 * @param ridgeLambda      L2 penalty of the linear probe
 * @param optimizer        {@code sgd} (momentum 0.9), {@code adam} or {@code rmsprop}
 * @param evalEvery        evaluate every this many steps (0: only at the end)
 * @param checkpointEvery  checkpoint every this many steps (0: only at the end)
 * @param earlyStopPatience stop after this many evaluations without a better top-1 (0: off)
 * @param seed             seeds data order, augmentation, MixUp, splits and a random init
 * @param threads          CPU threads (bit-identical resumes need the same count)
 * @param device           the device that runs the model ({@code cpu})
 */
public record TrainConfig(String data, String val, Double valSplit, Integer examplesPerClass,
                          String weights, String model, List<Integer> blockUnits, int width,
                          String convention, Preprocessing input, Double bnEps, boolean keepHead,
                          boolean augment, double rotation, double translation, double contrast, boolean shuffle,
                          int batch, int batchSplit, int evalBatch,
                          Schedule schedule, double mixup, int resolution, int crop, boolean lrScaleByBatch,
                          Mode mode, int unfreezeTop, double ridgeLambda, String optimizer,
                          int evalEvery, int checkpointEvery, int earlyStopPatience,
                          long seed, int threads, String device) {

    /** What is trained. */
    public enum Mode {
        /** Every parameter, by SGD. */
        FULL("full"),
        /** The head only, by SGD on pre-logit features computed once ({@code --freeze-backbone}). */
        FROZEN_BACKBONE("freeze-backbone"),
        /** The head in closed form (ridge regression) on the cached features ({@code --linear-probe}). */
        LINEAR_PROBE("linear-probe"),
        /** The last N Keras layers of an EfficientNet, BatchNorms frozen ({@code --unfreeze-top N}). */
        UNFREEZE_TOP("unfreeze-top");

        private final String flag;

        Mode(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }

        static Mode ofFlag(String s) {
            for (Mode m : values()) if (m.flag.equals(s)) return m;
            throw new IllegalArgumentException(s);
        }
    }

    public TrainConfig {
        blockUnits = List.copyOf(blockUnits);
    }

    /** Whether the model is an EfficientNet (else BiT). */
    public boolean efficientNet() {
        return model.startsWith("efficientnet-");
    }

    /** Examples per forward/backward pass during training. */
    public int microBatch() {
        return batch / batchSplit;
    }

    /** The config as the {@code "config"} object of config.json (key order fixed, doubles exact). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data);
        m.put("val", val);
        m.put("val_split", valSplit);
        m.put("examples_per_class", examplesPerClass);
        m.put("weights", weights);
        m.put("model", model);
        m.put("block_units", blockUnits);
        m.put("width", width);
        m.put("convention", convention);
        m.put("preprocessing", input.name());
        m.put("input_mean", java.util.Arrays.stream(input.mean()).boxed().toList());
        m.put("input_std", java.util.Arrays.stream(input.std()).boxed().toList());
        m.put("bn_eps", bnEps);
        m.put("keep_head", keepHead);
        m.put("augment", augment);
        m.put("random_rotation", rotation);
        m.put("random_translation", translation);
        m.put("random_contrast", contrast);
        m.put("shuffle", shuffle);
        m.put("batch", batch);
        m.put("batch_split", batchSplit);
        m.put("eval_batch", evalBatch);
        m.put("schedule", schedule.kind().flag());
        m.put("schedule_supports", schedule.supports());
        m.put("lr", schedule.baseLr());
        m.put("steps", schedule.totalSteps());
        m.put("mixup", mixup);
        m.put("resolution", resolution);
        m.put("crop", crop);
        m.put("lr_scale_by_batch", lrScaleByBatch);
        m.put("mode", mode.flag());
        m.put("unfreeze_top", unfreezeTop);
        m.put("ridge_lambda", ridgeLambda);
        m.put("optimizer", optimizer);
        m.put("eval_every", evalEvery);
        m.put("checkpoint_every", checkpointEvery);
        m.put("early_stop_patience", earlyStopPatience);
        m.put("seed", seed);
        m.put("threads", threads);
        m.put("device", device);
        return m;
    }

    /** Reads the {@code "config"} object of a run's config.json; {@code source} names the file in errors. */
    public static TrainConfig fromMap(Map<String, Object> m, String source) {
        Reader r = new Reader(m, source);
        Schedule.Kind kind = switch (r.string("schedule")) {
            case "bit" -> Schedule.Kind.BIT;
            case "constant" -> Schedule.Kind.CONSTANT;
            default -> throw r.bad("schedule");
        };
        List<Integer> supports = r.ints("schedule_supports");
        int[] s = supports.stream().mapToInt(Integer::intValue).toArray();
        Schedule schedule;
        try {
            schedule = new Schedule(kind, s, r.number("lr"));
        } catch (IllegalArgumentException e) {
            throw r.bad("schedule_supports");
        }
        Mode mode;
        try {
            mode = Mode.ofFlag(r.string("mode"));
        } catch (IllegalArgumentException e) {
            throw r.bad("mode");
        }
        Double valSplit = r.optionalNumber("val_split");
        Double epc = r.optionalNumber("examples_per_class");
        return new TrainConfig(r.string("data"), r.optionalString("val"), valSplit, epc == null ? null : epc.intValue(),
                r.optionalString("weights"), r.string("model"), r.ints("block_units"), r.integer("width"),
                r.stringOr("convention", "bit"), r.input(), m.containsKey("bn_eps") ? r.optionalNumber("bn_eps") : null,
                r.bool("keep_head"), r.bool("augment"), r.numberOr("random_rotation", 0), r.numberOr("random_translation", 0),
                r.numberOr("random_contrast", 0), r.bool("shuffle"),
                r.integer("batch"), r.integer("batch_split"), r.integer("eval_batch"),
                schedule, r.number("mixup"), r.integer("resolution"), r.integer("crop"), r.bool("lr_scale_by_batch"),
                mode, (int) r.numberOr("unfreeze_top", 0), r.number("ridge_lambda"), r.stringOr("optimizer", "sgd"),
                r.integer("eval_every"), r.integer("checkpoint_every"), r.integer("early_stop_patience"),
                (long) r.number("seed"), r.integer("threads"), r.string("device"));
    }

    /** Typed access to a parsed JSON object, with one-line errors naming the file and key. */
    private record Reader(Map<String, Object> m, String source) {

        BitEngineException bad(String key) {
            // Quoted: an edited file may hold any text, and the message must stay one line.
            return new BitEngineException(source + ": key \"config\"." + key + " is missing or has the wrong type (found "
                    + IoErrors.quote(String.valueOf(m.get(key)), 60) + "); the file was not written by this version of bit-engine or was edited");
        }

        String string(String key) {
            if (m.get(key) instanceof String s) return s;
            throw bad(key);
        }

        String optionalString(String key) {
            Object v = m.get(key);
            if (v == null && m.containsKey(key)) return null;
            return string(key);
        }

        /** The input scaling: its name and constants; runs written before they were saved used BiT's. */
        Preprocessing input() {
            String name = stringOr("preprocessing", Preprocessing.MINUS1_1.name());
            if (!m.containsKey("input_mean")) {
                Preprocessing named = Preprocessing.named(name);
                if (named == null) throw bad("input_mean");
                return named;
            }
            try {
                return new Preprocessing(name, doubles("input_mean"), doubles("input_std"));
            } catch (IllegalArgumentException e) {
                throw bad("input_std");
            }
        }

        double[] doubles(String key) {
            if (!(m.get(key) instanceof List<?> list)) throw bad(key);
            double[] out = new double[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Double d)) throw bad(key);
                out[i] = d;
            }
            return out;
        }

        /** Keys added after the first release default to what runs without them did. */
        String stringOr(String key, String fallback) {
            return m.containsKey(key) ? string(key) : fallback;
        }

        double numberOr(String key, double fallback) {
            return m.containsKey(key) ? number(key) : fallback;
        }

        double number(String key) {
            if (m.get(key) instanceof Double d) return d;
            throw bad(key);
        }

        Double optionalNumber(String key) {
            Object v = m.get(key);
            if (v == null && m.containsKey(key)) return null;
            return number(key);
        }

        int integer(String key) {
            double d = number(key);
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) throw bad(key);
            return (int) d;
        }

        boolean bool(String key) {
            if (m.get(key) instanceof Boolean b) return b;
            throw bad(key);
        }

        List<Integer> ints(String key) {
            if (!(m.get(key) instanceof List<?> list)) throw bad(key);
            List<Integer> out = new ArrayList<>();
            for (Object o : list) {
                if (!(o instanceof Double d) || d != Math.rint(d)) throw bad(key);
                out.add(d.intValue());
            }
            return out;
        }
    }
}
