package org.bitengine.io.checkpoint;

import java.nio.file.Path;
import java.util.Map;

import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;

/** Writing model weights in the official BiT layout: one float32 npz entry per parameter, keyed by its path. */
public final class Checkpoints {

    private Checkpoints() {}

    /**
     * Writes {@code parameters} (key → tensor, HWIO kernels) to {@code path} as an .npz that numpy and
     * the official {@code ResNetV2.load_from} read. The file appears only once it is complete.
     */
    public static void saveWeights(Path path, Map<String, Tensor> parameters) {
        saveWeights(path, parameters, Map.of());
    }

    /**
     * The same with {@code meta} entries (e.g. {@code meta/arch}) written first, so the file
     * describes the model it holds; weight loaders skip {@code meta/*} keys.
     */
    public static void saveWeights(Path path, Map<String, Tensor> parameters, Map<String, NpyArray> meta) {
        try (NpzWriter writer = NpzWriter.create(path)) {
            for (Map.Entry<String, NpyArray> e : meta.entrySet()) writer.write(e.getKey(), e.getValue());
            for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
                Tensor t = e.getValue();
                writer.write(e.getKey(), NpyArray.ofFloats(t.shape().dims(), t.toFloatArray()));
            }
            writer.commit();
        }
    }
}
