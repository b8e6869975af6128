package org.bitengine.models.train;

import java.nio.file.Path;
import java.util.List;

/**
 * The {@code finetune} flags as given; null where a flag was not given (the BiT-HyperRule or a default
 * then decides). {@link Finetune#start} checks and resolves them into a {@link TrainConfig}.
 */
public record FinetuneOptions(Path data, Path val, Double valSplit, Path out, Path weights, String model,
                              List<Integer> blockUnits, Integer width, String device, boolean keepHead,
                              boolean noAugment, boolean noShuffle, Integer examplesPerClass,
                              Integer steps, Double lr, Integer batch, Integer batchSplit, Schedule.Kind schedule,
                              Double mixup, Integer resolution, Integer crop, boolean lrScaleByBatch,
                              boolean freezeBackbone, Integer unfreezeTop, boolean linearProbe, Double ridgeLambda,
                              String optimizer, boolean kerasAugment, Double rotation, Double translation, Double contrast,
                              Integer earlyStopPatience,
                              Integer evalEvery, Integer checkpointEvery, Integer evalBatch, Long seed, Integer threads,
                              boolean overwrite, Integer stopAfterStep) {}
