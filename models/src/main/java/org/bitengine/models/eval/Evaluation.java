package org.bitengine.models.eval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bitengine.io.AtomicFile;
import org.bitengine.io.json.Json;

/**
 * Classification metrics accumulated batch by batch: top-1, top-k (k = min(5, classes)), per-class
 * accuracy, the confusion matrix and the mean softmax cross-entropy.
 *
 * <p>Ranking follows {@code torch.topk}/{@code argmax}: among equal logits the lower class index ranks
 * first, and NaN ranks above every number (a diverged model is then simply wrong, not a crash).
 * Sums are kept in {@code long}/{@code double}, so a million examples lose nothing to rounding.
 */
public final class Evaluation {

    private final List<String> classNames;
    private final int classes;
    private final int k;
    private final int[][] confusion;
    private final long[] perClassTotal;
    private final long[] perClassCorrect;
    private long n;
    private long top1Correct;
    private long topKCorrect;
    private double lossSum;

    /** An evaluation over {@code classNames.size()} classes; label {@code i} is called {@code classNames.get(i)}. */
    public Evaluation(List<String> classNames) {
        if (classNames.isEmpty()) throw new IllegalArgumentException("an evaluation needs at least one class");
        this.classNames = List.copyOf(classNames);
        this.classes = classNames.size();
        this.k = Math.min(5, classes);
        this.confusion = new int[classes][classes];
        this.perClassTotal = new long[classes];
        this.perClassCorrect = new long[classes];
    }

    /** An evaluation whose classes are named by their index ("0", "1", …). */
    public static Evaluation ofClasses(int classes) {
        List<String> names = new ArrayList<>(classes);
        for (int c = 0; c < classes; c++) names.add(Integer.toString(c));
        return new Evaluation(names);
    }

    /**
     * Adds a batch: {@code logits} is [n, classes] row-major with n = {@code labels.length}, and
     * {@code labels} [n] holds the true class of each row.
     */
    public void add(float[] logits, int[] labels) {
        add(logits, labels, labels.length);
    }

    /** Adds the first {@code count} rows of {@code logits} [≥count, classes] with their {@code labels} [≥count]. */
    public void add(float[] logits, int[] labels, int count) {
        if (count < 0 || labels.length < count || logits.length < (long) count * classes) {
            throw new IllegalArgumentException("logits of length " + logits.length + " and " + labels.length + " labels do not hold "
                    + count + " rows of " + classes + " classes");
        }
        for (int i = 0; i < count; i++) {
            int label = labels[i];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("label " + label + " of row " + i + " is outside [0, " + classes + ")");
            }
            int base = i * classes;
            float target = logits[base + label];
            int rank = 0; // how many classes rank above the true one
            int argmax = 0;
            double max = Double.NEGATIVE_INFINITY;
            boolean nan = false;
            for (int c = 0; c < classes; c++) {
                float v = logits[base + c];
                if (c != label && ranksAbove(v, c, target, label)) rank++;
                if (ranksAbove(v, c, logits[base + argmax], argmax)) argmax = c;
                if (Float.isNaN(v)) nan = true;
                else if (v > max) max = v;
            }
            double loss;
            if (nan) {
                loss = Double.NaN;
            } else {
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.exp(logits[base + c] - max);
                loss = max + Math.log(sum) - target;
            }
            n++;
            lossSum += loss;
            perClassTotal[label]++;
            confusion[label][argmax]++;
            if (argmax == label) {
                top1Correct++;
                perClassCorrect[label]++;
            }
            if (rank < k) topKCorrect++;
        }
    }

    /** Whether class {@code a} with logit {@code va} comes before class {@code b} with logit {@code vb}. */
    private static boolean ranksAbove(float va, int a, float vb, int b) {
        boolean nanA = Float.isNaN(va);
        boolean nanB = Float.isNaN(vb);
        if (nanA || nanB) return nanA && (!nanB || a < b);
        return va > vb || (va == vb && a < b);
    }

    public List<String> classNames() {
        return classNames;
    }

    /** Examples seen so far. */
    public long n() {
        return n;
    }

    /** The k of {@link #topK()}: min(5, classes). */
    public int k() {
        return k;
    }

    /** Fraction of examples whose highest logit is the true class (NaN before any example). */
    public double top1() {
        return n == 0 ? Double.NaN : (double) top1Correct / n;
    }

    /** Fraction of examples whose true class is among the k highest logits (NaN before any example). */
    public double topK() {
        return n == 0 ? Double.NaN : (double) topKCorrect / n;
    }

    /** Mean softmax cross-entropy in nats (NaN before any example, or if a logit was NaN). */
    public double meanLoss() {
        return n == 0 ? Double.NaN : lossSum / n;
    }

    /** Top-1 accuracy within each true class [classes]; NaN for a class without examples. */
    public double[] perClassAccuracy() {
        double[] acc = new double[classes];
        for (int c = 0; c < classes; c++) acc[c] = perClassTotal[c] == 0 ? Double.NaN : (double) perClassCorrect[c] / perClassTotal[c];
        return acc;
    }

    /** Examples of each true class [classes]. */
    public long[] perClassCount() {
        return perClassTotal.clone();
    }

    /** Counts [true][predicted] (a copy). */
    public int[][] confusion() {
        int[][] copy = new int[classes][];
        for (int c = 0; c < classes; c++) copy[c] = confusion[c].clone();
        return copy;
    }

    /**
     * The confusion matrix as CSV: a header {@code true\predicted,name0,name1,…}, then one row per true
     * class, {@code name,count0,count1,…}. Names are quoted as RFC 4180 wants when they hold a comma,
     * quote or line break. Written to a temporary file and renamed.
     */
    public void writeCsv(Path path) {
        StringBuilder sb = new StringBuilder();
        sb.append(csv("true\\predicted"));
        for (String name : classNames) sb.append(',').append(csv(name));
        sb.append('\n');
        for (int t = 0; t < classes; t++) {
            sb.append(csv(classNames.get(t)));
            for (int p = 0; p < classes; p++) sb.append(',').append(confusion[t][p]);
            sb.append('\n');
        }
        AtomicFile.writeString(path, sb.toString());
    }

    private static String csv(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) return field;
        return '"' + field.replace("\"", "\"\"") + '"';
    }

    /**
     * One JSON object on one line: {@code top1}, {@code top5} (the top-k accuracy, k = min(5, classes)),
     * {@code k}, {@code n}, {@code loss} and {@code per_class} {name: accuracy}; a value that is not a
     * number (no examples) is {@code null}.
     */
    public String toJson() {
        return Json.write(toMap());
    }

    /** What {@link #toJson()} writes, as an ordered map (for embedding in a larger JSON document). */
    public Map<String, Object> toMap() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("top1", top1());
        o.put("top5", topK());
        o.put("k", k);
        o.put("n", n);
        o.put("loss", meanLoss());
        Map<String, Object> perClass = new LinkedHashMap<>();
        double[] acc = perClassAccuracy();
        for (int c = 0; c < classes; c++) {
            String name = classNames.get(c);
            perClass.put(perClass.containsKey(name) ? name + " (" + c + ")" : name, acc[c]); // names should be unique; keep every class if not
        }
        o.put("per_class", perClass);
        return o;
    }
}
