package org.bitengine.io.data;

/**
 * A batch ready for the network: {@code x} is [n, height, width, 3] NHWC float32 scaled as the model
 * expects, {@code labels} [n]. {@code indices} are the dataset indices of the examples, in order.
 */
public record Batch(float[] x, int[] labels, int[] indices, int n, int height, int width) {}
