package org.bitengine.io.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;

import org.bitengine.engine.tensor.Shape;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzWeightsTest {

    /** meta/* entries describe the file; a model built from it must not see them as (unused) weights. */
    @Test
    void metadataEntriesAreNotWeights(@TempDir Path dir) {
        Path file = dir.resolve("w.npz");
        byte[] arch = "bit".getBytes(StandardCharsets.UTF_8);
        try (NpzWriter w = NpzWriter.create(file)) {
            w.write("resnet/head/conv2d/bias", NpyArray.ofFloats(new int[] {2}, new float[] {0.5f, -1f}));
            w.write("meta/arch", NpyArray.ofBytes(new int[] {arch.length}, arch));
            w.commit();
        }
        try (NpzWeights weights = NpzWeights.open(file)) {
            assertEquals(Set.of("resnet/head/conv2d/bias"), weights.keys());
            assertEquals(Shape.of(2), weights.shape("resnet/head/conv2d/bias"));
            assertArrayEquals(new float[] {0.5f, -1f}, weights.read("resnet/head/conv2d/bias"));
        }
    }
}
