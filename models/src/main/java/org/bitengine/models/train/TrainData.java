package org.bitengine.models.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.data.Datasets;
import org.bitengine.io.data.ImageDataset;
import org.bitengine.io.data.ImageFolderDataset;
import org.bitengine.io.data.NpzArrayDataset;
import org.bitengine.io.data.Split;
import org.bitengine.io.data.SubsetDataset;
import org.bitengine.io.data.Subsets;

/**
 * The training and validation sets of a run, chosen from the flags:
 * <ul>
 * <li>training: {@code --data}'s train split, minus a {@code --val-split} hold-out, reduced to
 *     {@code --examples-per-class} when asked (seeded);</li>
 * <li>validation: {@code --val PATH}, else the {@code --val-split} hold-out (stratified, seeded), else
 *     the data's own test split when it has one (idx, CIFAR, {@code train/} + {@code test/} folders), else
 *     none (then no evaluation, and early stopping is refused).</li>
 * </ul>
 */
record TrainData(ImageDataset train, ImageDataset val, String valSource, int skippedAtOpen) {

    static TrainData open(String data, String valPath, Double valSplit, Integer examplesPerClass, long seed,
                          Consumer<String> warnings, Consumer<String> notes) {
        ImageDataset all = Datasets.open(Path.of(data), Split.TRAIN, warnings);
        if (all.size() == 0) throw new BitEngineException(data + ": the training data holds no examples; check --data");
        ImageDataset train = all;
        ImageDataset val = null;
        String valSource = "none";
        int[] pool = null;
        if (valPath != null) {
            val = Datasets.open(Path.of(valPath), Split.TEST, warnings);
            valSource = "--val " + valPath;
        } else if (valSplit != null) {
            Subsets.TrainVal tv = Subsets.stratifiedSplit(all, valSplit, seed);
            if (tv.val().length == 0) {
                throw new BitEngineException("--val-split " + valSplit + " of " + all.size() + " examples holds out none; use a larger fraction");
            }
            pool = tv.train();
            train = new SubsetDataset(all, pool);
            val = new SubsetDataset(all, tv.val());
            valSource = "--val-split " + valSplit + " (" + tv.val().length + " of " + all.size() + " training examples, stratified, seed " + seed + ")";
        } else {
            ImageDataset test = null;
            String why = null;
            List<String> testWarnings = new ArrayList<>();
            try {
                test = Datasets.open(Path.of(data), Split.TEST, testWarnings::add);
            } catch (BitEngineException e) {
                why = e.getMessage();
            }
            if (test != null && !sameData(all, test)) {
                testWarnings.forEach(warnings);
                val = test;
                valSource = "the test split of " + data;
            } else {
                notes.accept("no validation data (" + (why != null ? why : data + " has no test split")
                        + "); training runs without evaluation, give --val PATH or --val-split 0.1 for one");
            }
        }
        if (val != null && val.size() == 0) {
            throw new BitEngineException("the validation data (" + valSource + ") holds no examples");
        }
        if (val != null && !val.classes().equals(all.classes())) {
            throw new BitEngineException("the validation data (" + valSource + ") has classes " + abbreviate(val.classes())
                    + " but the training data " + data + " has " + abbreviate(all.classes())
                    + "; both must have the same classes in the same order");
        }
        if (examplesPerClass != null) {
            if (pool == null) {
                pool = new int[all.size()];
                Arrays.setAll(pool, i -> i);
            }
            train = new SubsetDataset(all, Subsets.examplesPerClass(all, pool, examplesPerClass, seed));
        }
        int skipped = all instanceof ImageFolderDataset f ? f.skipped() : 0;
        if (val instanceof ImageFolderDataset f && f != all) skipped += f.skipped();
        return new TrainData(train, val, valSource, skipped);
    }

    /** Whether {@code test} is {@code train} again: formats without a split of their own ignore the split. */
    private static boolean sameData(ImageDataset train, ImageDataset test) {
        if (train instanceof NpzArrayDataset a && test instanceof NpzArrayDataset b) return a.file().equals(b.file());
        if (train instanceof ImageFolderDataset a && test instanceof ImageFolderDataset b) return a.root().equals(b.root());
        return false;
    }

    static String abbreviate(List<String> classes) {
        if (classes.size() <= 6) return classes.toString();
        return "[" + String.join(", ", classes.subList(0, 5)) + ", … " + classes.size() + " in all]";
    }
}
