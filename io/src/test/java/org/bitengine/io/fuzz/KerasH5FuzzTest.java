package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.bitengine.io.keras.KerasH5;
import org.bitengine.io.keras.KerasWeights;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras {@code .h5} through jhdf: the superblock, object headers, groups, attributes ({@code layer_names},
 * {@code weight_names}) and datasets. Seeds ({@code KerasH5FuzzTestInputs/keras/}) are two small files
 * written with jhdf's writer in the two layouts {@code KerasH5Test} builds: a TF-Keras {@code .h5} with one
 * Dense layer and a Keras 3 {@code .weights.h5} with one {@code layers/conv2d/vars} group.
 */
class KerasH5FuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void keras(byte[] input) {
        Path file = FuzzSupport.write(dir, "a.h5", input);
        // Deflate-compressed datasets expand at most 1032:1; jhdf's own structures cost more per byte than npz's.
        FuzzSupport.expectOwnErrors(input.length, 4 * 1032, () -> {
            KerasWeights w = KerasH5.read(file);
            for (KerasWeights.Layer l : w.layers()) {
                for (KerasWeights.Variable v : l.variables()) {
                    int n = 1;
                    for (int d : v.value().shape()) n *= d;
                    assertTrue(n >= 0, v.name());
                }
            }
        });
    }
}
