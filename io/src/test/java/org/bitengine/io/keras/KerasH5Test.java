package org.bitengine.io.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bitengine.engine.BitEngineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;

/** {@link KerasH5} on small files written here with jhdf in both Keras layouts, and on files that are not Keras weights. */
class KerasH5Test {

    @Test
    void signatureIsFoundAtZeroOrAfterAUserBlock(@TempDir Path dir) throws IOException {
        byte[] bytes = new byte[2048];
        System.arraycopy(KerasH5.SIGNATURE, 0, bytes, 1024, 8);
        Path f = dir.resolve("ub.h5");
        Files.write(f, bytes);
        assertEquals(1024, KerasH5.signatureOffset(f));
        bytes = new byte[2048];
        System.arraycopy(KerasH5.SIGNATURE, 0, bytes, 100, 8);
        Files.write(f, bytes);
        assertEquals(-1, KerasH5.signatureOffset(f), "only 0, 512, 1024, … are allowed");
        Files.write(f, new byte[3]);
        assertEquals(-1, KerasH5.signatureOffset(f));
    }

    /** Two TF-Keras layers, listed in layer_names in the reverse of their name order: a float kernel, a double bias, a long. */
    private static Path tfKerasFile(Path f) {
        try (WritableHdfFile h = HdfFile.write(f)) {
            h.putAttribute("layer_names", new String[] {"zeta", "alpha"});
            h.putAttribute("keras_version", "2.12.0");
            WritableGroup z = h.putGroup("zeta");
            z.putAttribute("weight_names", new String[] {"zeta/kernel:0", "zeta/bias:0"});
            WritableGroup zz = z.putGroup("zeta");
            zz.putDataset("kernel:0", new float[][] {{1, 2, 3}, {4, 5, 6}});
            zz.putDataset("bias:0", new double[] {7, 8, 9});
            h.putGroup("alpha").putAttribute("weight_names", new String[] {"alpha/count:0"});
            ((WritableGroup) h.getChild("alpha")).putGroup("alpha").putDataset("count:0", new long[] {3});
        }
        return f;
    }

    @Test
    void tfKerasLayoutIsReadInLayerNamesOrder(@TempDir Path dir) {
        KerasWeights w = KerasH5.read(tfKerasFile(dir.resolve("w.h5")));
        assertEquals(KerasWeights.Layout.TF_KERAS, w.layout());
        assertEquals("2.12.0", w.attributes().get("keras_version"));
        assertEquals(List.of("zeta", "alpha"), w.layers().stream().map(KerasWeights.Layer::name).toList());
        KerasWeights.Variable k = w.layers().getFirst().variables().getFirst();
        assertEquals("zeta/kernel:0", k.name());
        assertArrayEquals(new int[] {2, 3}, k.value().shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, k.value().toFloats());
        assertArrayEquals(new double[] {7, 8, 9}, w.layers().getFirst().variables().get(1).value().toDoubles());
        assertArrayEquals(new long[] {3}, w.layers().get(1).variables().getFirst().value().toLongs());
        assertEquals(3, w.variableCount());
    }

    @Test
    void openGivesNamesAndShapesAndReadsEachVariableOnRequest(@TempDir Path dir) {
        try (KerasH5.Reader r = KerasH5.open(tfKerasFile(dir.resolve("w.h5")))) {
            assertEquals(KerasWeights.Layout.TF_KERAS, r.layout());
            assertEquals(3, r.variableCount());
            KerasH5.Reader.StoredVariable kernel = r.layers().getFirst().variables().getFirst();
            assertEquals("zeta/kernel:0", kernel.name());
            assertEquals("zeta/zeta/kernel:0", kernel.path());
            assertArrayEquals(new int[] {2, 3}, kernel.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.readFloats(kernel));
            KerasH5.Reader.StoredVariable count = r.layers().get(1).variables().getFirst();
            assertArrayEquals(new long[] {3}, r.read(count).toLongs());
            assertArrayEquals(new float[] {3}, r.readFloats(count), "any numeric dataset as float32");
        }
    }

    @Test
    void keras3LayoutIsReadWithNumbersInNaturalOrder(@TempDir Path dir) {
        Path f = dir.resolve("w.weights.h5");
        try (WritableHdfFile h = HdfFile.write(f)) {
            WritableGroup layers = h.putGroup("layers");
            for (String n : List.of("conv2d_10", "conv2d", "conv2d_2")) {
                WritableGroup v = layers.putGroup(n).putGroup("vars");
                for (int i = 11; i >= 0; i--) v.putDataset(Integer.toString(i), new float[] {i});
            }
            layers.putGroup("functional").putGroup("layers").putGroup("dense").putGroup("vars").putDataset("0", new float[] {1});
        }
        KerasWeights w = KerasH5.read(f);
        assertEquals(KerasWeights.Layout.KERAS3, w.layout());
        assertEquals(List.of("layers/conv2d", "layers/conv2d_2", "layers/conv2d_10", "layers/functional/layers/dense"),
                w.layers().stream().map(KerasWeights.Layer::name).toList());
        List<String> vars = new ArrayList<>();
        for (KerasWeights.Variable v : w.layers().getFirst().variables()) vars.add(v.name());
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"), vars);
    }

    @Test
    void otherFilesAreOneClearError(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("a.txt");
        Files.writeString(text, "hello");
        assertTrue(assertThrows(BitEngineException.class, () -> KerasH5.read(text)).getMessage().contains("not an HDF5 file"));
        Path plain = dir.resolve("plain.h5");
        try (WritableHdfFile h = HdfFile.write(plain)) {
            h.putDataset("x", new int[] {1});
        }
        assertTrue(assertThrows(BitEngineException.class, () -> KerasH5.read(plain)).getMessage().contains("not Keras weights"));
        Path cut = dir.resolve("cut.h5");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(plain), 100));
        String m = assertThrows(BitEngineException.class, () -> KerasH5.read(cut)).getMessage();
        assertTrue(m.contains("cut.h5") && !m.contains("\n"), m);
    }
}
