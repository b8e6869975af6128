package org.bitengine.io.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.bitengine.engine.BitEngineException;

/**
 * An in-memory dataset for the loader and subset tests: example i is an h×w image whose pixel values
 * are a function of (i, y, x, c) in 0..255, with label labels[i]. Chosen indices fail to decode
 * (BitEngineException) or throw a bug; decoding can be slowed down by an index-dependent delay so that
 * work finishes out of order on several threads.
 */
final class SyntheticDataset implements ImageDataset {

    final int[] labels;
    final int h;
    final int w;
    final int classes;
    final Set<Integer> broken;
    final Set<Integer> buggy;
    final boolean jitter;

    SyntheticDataset(int[] labels, int classes, int h, int w, Set<Integer> broken, Set<Integer> buggy, boolean jitter) {
        this.labels = labels;
        this.classes = classes;
        this.h = h;
        this.w = w;
        this.broken = broken;
        this.buggy = buggy;
        this.jitter = jitter;
    }

    /** n examples with label i % classes. */
    static SyntheticDataset of(int n, int classes, int h, int w) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
        }
        return new SyntheticDataset(labels, classes, h, w, Set.of(), Set.of(), false);
    }

    SyntheticDataset withBroken(Set<Integer> indices) {
        return new SyntheticDataset(labels, classes, h, w, indices, buggy, jitter);
    }

    SyntheticDataset withBug(Set<Integer> indices) {
        return new SyntheticDataset(labels, classes, h, w, broken, indices, jitter);
    }

    SyntheticDataset withJitter() {
        return new SyntheticDataset(labels, classes, h, w, broken, buggy, true);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public List<String> classes() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add("class" + i);
        }
        return names;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    static float value(int i, int y, int x, int c) {
        return (i * 37 + y * 11 + x * 5 + c * 71) % 256;
    }

    @Override
    public Image image(int index) {
        if (jitter) {
            LockSupport.parkNanos((index * 7919L % 13) * 100_000L);
        }
        if (broken.contains(index)) {
            throw new BitEngineException("synthetic/" + index + ".png: cannot decode image: damaged; replace or remove it");
        }
        if (buggy.contains(index)) {
            throw new IllegalStateException("synthetic bug at " + index);
        }
        float[] px = new float[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    px[(y * w + x) * 3 + c] = value(index, y, x, c);
                }
            }
        }
        return new Image(h, w, px, false);
    }

    @Override
    public String describe(int index) {
        return "synthetic/" + index + ".png";
    }

    @Override
    public int[] nominalSize() {
        return new int[] {h, w};
    }

    @Override
    public String toString() {
        return "synthetic dataset of " + labels.length;
    }
}
