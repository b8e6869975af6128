package org.bitengine.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PreprocessingTest {

    @Test
    void namedConventions() {
        assertArrayEquals(new float[] {-1f, 0f, 1f}, Preprocessing.named("minus1-1").apply(new float[] {0, 127.5f, 255}), 1e-6f);
        float[] y = Preprocessing.IMAGENET.apply(new float[] {255, 0, 127.5f});
        assertEquals((1 - 0.485) / 0.229, y[0], 1e-5);
        assertEquals(-0.456 / 0.224, y[1], 1e-5);
        assertEquals((0.5 - 0.406) / 0.225, y[2], 1e-5);
        assertNull(Preprocessing.named("keras-builtin"), "its constants come from the file");
    }

    @Test
    void kerasLayersFoldIntoOneMeanAndStd() {
        double[] sd = {0.229, 0.224, 0.225};
        // The published ImageNet weights store the std as the variance; the extra Rescaling divides by sqrt(std) again.
        Preprocessing p = Preprocessing.keras(new double[] {0.485, 0.456, 0.406}, sd, true);
        assertArrayEquals(sd, p.std(), 1e-12);
        assertEquals("keras-builtin", p.name());
        // Without it (older TF-Keras, or a Normalization adapted the proper way) the std is sqrt(variance).
        assertArrayEquals(new double[] {0.5, 0.25, 1e-7}, Preprocessing.keras(new double[3], new double[] {0.25, 0.0625, 0}, false).std(), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new Preprocessing("x", new double[3], new double[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class, () -> Preprocessing.IMAGENET.apply(new float[4]));
    }
}
