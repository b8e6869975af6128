package org.bitengine.io.data;

/**
 * Which part of a dataset that ships its own train/test division to open (idx, CIFAR, an image
 * folder with {@code train/} and {@code test/} sub-folders); ignored by formats without one.
 */
public enum Split {
    TRAIN,
    TEST
}
