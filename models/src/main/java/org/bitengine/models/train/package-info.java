/**
 * Fine-tuning: the BiT-HyperRule ({@link org.bitengine.models.train.HyperRule}), learning-rate schedules,
 * MixUp, the training loop, checkpoints and resuming, behind the {@code finetune} command.
 *
 * <h2>Run directory</h2>
 * <pre>
 * RUN_DIR/
 *   config.json          {"version", "created", "config": the effective configuration (every flag with the
 *                        BiT-HyperRule filled in; what --resume rebuilds the run from), "data": {train_size,
 *                        val_size, val_source, nominal_size, classes}, "model": {architecture, block_units, width,
 *                        classes, parameters, init}, "sources": where each rule-driven value came from}
 *   classes.txt          class names, one per line, in label order
 *   metrics.jsonl        one JSON object per line, appended as the run goes:
 *                          {"step","loss","lr","img_per_s","elapsed_s"}     after each optimizer step
 *                          {"step","val_loss","val_top1","val_top5","n"}    after each evaluation
 *                        "step" = number of updates the measured weights had received (train lines count from 0)
 *   checkpoints/
 *     step-NNNNNN/       written into step-NNNNNN.tmp-* and renamed when complete; the newest two are kept
 *       weights.npz      every parameter in the official BiT naming (resnet/..., HWIO): predict, info,
 *                        evaluate and the official ResNetV2.load_from read it
 *       train_state.npz  "format", "step", "seed", "elapsed_s", "momentum/&lt;parameter key&gt;" (SGD buffers),
 *                        "early_stop/best_step", "early_stop/best_top1", "early_stop/evals_since_best",
 *                        "early_stop/stopped", "last_eval_step"
 *     latest             text file naming the newest complete checkpoint, replaced atomically
 *     best-step-NNNNNN.npz  with --early-stop-patience: the weights of the best validation top-1
 *   weights.npz          the final weights (with early stopping: the best ones)
 *   curves.png           training and validation loss, validation top-1, by step
 * </pre>
 *
 * <p>The random state of a run is (seed, step): the batch loader's data order and augmentation are pure
 * functions of (seed, batch number), MixUp's λ of (seed, step) and its permutation of (seed, step,
 * micro-batch). A run resumed from a checkpoint therefore ends with the same weights, bit for bit, as the
 * uninterrupted run on the same device with the same thread count.
 */
package org.bitengine.models.train;
