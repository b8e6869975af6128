package org.bitengine.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.tensor.Shape;
import org.junit.jupiter.api.Test;

class ParameterStoreTest {

    /** A source with a fitting, a mis-shaped and an unused key that counts its reads. */
    private static final class Counting implements WeightSource {
        final Map<String, Shape> shapes = new LinkedHashMap<>(Map.of("fc/kernel", Shape.of(3, 2), "fc/bias", Shape.of(5),
                "extra", Shape.of(1)));
        int reads;

        @Override
        public Set<String> keys() {
            return shapes.keySet();
        }

        @Override
        public Shape shape(String key) {
            return shapes.get(key);
        }

        @Override
        public float[] read(String key) {
            reads++;
            return new float[shapes.get(key).size()];
        }
    }

    @Test
    void shapesOnlyReportsAsALoadWouldWithoutReadingAValue() {
        Counting source = new Counting();
        ParameterStore loaded = ParameterStore.from(CpuBackend.get(), source, 0);
        new Linear(new Linear.Config(3, 2, true), loaded.root().at("fc"));
        assertEquals(1, source.reads);

        source.reads = 0;
        ParameterStore shapes = ParameterStore.shapesOnly(source);
        new Linear(new Linear.Config(3, 2, true), shapes.root().at("fc"));
        assertEquals(0, source.reads, "no value read");
        assertEquals(loaded.report(), shapes.report());
        assertEquals(Shape.of(3, 2), shapes.parameters().get("fc/kernel").shape());
        assertEquals(Shape.of(2), shapes.parameters().get("fc/bias").shape());
        assertThrows(UnsupportedOperationException.class, () -> shapes.parameters().get("fc/kernel").toFloatArray());
    }
}
