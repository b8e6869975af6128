package org.bitengine.models.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.bitengine.io.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluationTest {

    /** Four examples over three classes, every number worked out by hand. */
    @Test
    void handComputedSmallCase() {
        Evaluation e = new Evaluation(List.of("cat", "dog", "fox"));
        float[] logits = {
            2, 1, 0,   // label 0: argmax 0, right
            1, 1, 0,   // label 1: tie between 0 and 1 goes to the lower index, 0: wrong
            0, 0, 0,   // label 2: all tied, argmax 0: wrong
            0, 3, 1,   // label 2: argmax 1: wrong
        };
        e.add(logits, new int[] {0, 1, 2, 2});
        assertEquals(4, e.n());
        assertEquals(3, e.k());
        assertEquals(0.25, e.top1());
        assertEquals(1.0, e.topK()); // k = min(5, 3) = 3 covers every class
        assertArrayEquals(new int[][] {{1, 0, 0}, {1, 0, 0}, {1, 1, 0}}, e.confusion());
        assertArrayEquals(new double[] {1.0, 0.0, 0.0}, e.perClassAccuracy());
        double loss = (Math.log(Math.exp(2) + Math.exp(1) + 1) - 2)
                + (Math.log(2 * Math.E + 1) - 1)
                + Math.log(3)
                + (Math.log(1 + Math.exp(3) + Math.E) - 1);
        assertEquals(loss / 4, e.meanLoss(), 1e-12);
    }

    /** With seven classes k = 5, and a tie at the fifth place is decided by the class index, as torch.topk does. */
    @Test
    void topFiveTiesGoToTheLowerIndex() {
        Evaluation e = Evaluation.ofClasses(7);
        assertEquals(5, e.k());
        float[] equal = new float[7];
        e.add(equal, new int[] {4}); // ranks 5th (0..3 come first): inside the top 5
        e.add(equal, new int[] {5}); // ranks 6th: outside
        assertEquals(0.5, e.topK());
        assertEquals(0.0, e.top1());
        e.add(new float[] {0, 0, 0, 9, 8, 7, 6}, new int[] {0}); // 0 ties with 1 and 2 but has the lowest index: 5th
        e.add(new float[] {0, 0, 0, 9, 8, 7, 6}, new int[] {2}); // 7th
        assertEquals(0.5, e.topK());
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6"), e.classNames());
    }

    @Test
    void batchesAddUpToTheWhole() {
        int classes = 4;
        int n = 37;
        float[] logits = new float[n * classes];
        int[] labels = new int[n];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) labels[i] = r.nextInt(classes);
        Evaluation whole = Evaluation.ofClasses(classes);
        whole.add(logits, labels);
        Evaluation parts = Evaluation.ofClasses(classes);
        for (int start = 0; start < n; start += 8) {
            int b = Math.min(8, n - start);
            parts.add(java.util.Arrays.copyOfRange(logits, start * classes, (start + b) * classes),
                    java.util.Arrays.copyOfRange(labels, start, start + b));
        }
        assertEquals(whole.toJson(), parts.toJson());
        assertArrayEquals(whole.confusion(), parts.confusion());
        // add(logits, labels, count) reads only the first rows of bigger buffers.
        Evaluation prefix = Evaluation.ofClasses(classes);
        prefix.add(logits, labels, 5);
        assertEquals(5, prefix.n());
    }

    @Test
    void emptyClassesAndNaNLogits() {
        Evaluation e = new Evaluation(List.of("a", "b", "c"));
        assertTrue(Double.isNaN(e.top1()));
        e.add(new float[] {Float.NaN, 0, 1}, new int[] {0});
        e.add(new float[] {Float.NaN, 0, 1}, new int[] {2});
        assertEquals(0.5, e.top1()); // NaN ranks first, like torch.argmax
        assertTrue(Double.isNaN(e.meanLoss()));
        assertTrue(Double.isNaN(e.perClassAccuracy()[1])); // no example of "b"
        Map<String, Object> json = Json.parseObject(e.toJson(), "toJson");
        assertNull(json.get("loss"));
        @SuppressWarnings("unchecked")
        Map<String, Object> perClass = (Map<String, Object>) json.get("per_class");
        assertTrue(perClass.containsKey("b"));
        assertNull(perClass.get("b"));
    }

    @Test
    void jsonHasTheFields() {
        Evaluation e = new Evaluation(List.of("cat", "dog \"big\""));
        e.add(new float[] {1, 0, 0, 1, 1, 0}, new int[] {0, 1, 1});
        Map<String, Object> json = Json.parseObject(e.toJson(), "toJson");
        assertEquals(2.0 / 3, (Double) json.get("top1"), 1e-15);
        assertEquals(1.0, json.get("top5"));
        assertEquals(3.0, json.get("n"));
        assertEquals(2.0, json.get("k"));
        assertEquals(Map.of("cat", 1.0, "dog \"big\"", 0.5), json.get("per_class"));
        assertTrue(e.toJson().lines().count() == 1, "one line");
    }

    @Test
    void csvOfTheConfusionMatrix(@TempDir Path dir) throws IOException {
        Evaluation e = new Evaluation(List.of("cat", "big, dog"));
        e.add(new float[] {1, 0, 0, 1, 1, 0}, new int[] {0, 1, 1});
        Path csv = dir.resolve("confusion.csv");
        e.writeCsv(csv);
        assertEquals("true\\predicted,cat,\"big, dog\"\ncat,1,0\n\"big, dog\",1,1\n", Files.readString(csv));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(csv), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void badArgumentsAreRefused() {
        Evaluation e = Evaluation.ofClasses(3);
        assertThrows(IllegalArgumentException.class, () -> e.add(new float[3], new int[] {3}));
        assertThrows(IllegalArgumentException.class, () -> e.add(new float[5], new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new Evaluation(List.of()));
    }
}
