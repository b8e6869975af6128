package org.bitengine.models.efficientnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.nn.LoadReport;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.nn.WeightSource;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.io.checkpoint.MapWeights;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.torch.TorchStateDict;
import org.bitengine.io.torch.TorchTensorHeader;
import org.junit.jupiter.api.Test;

class TorchvisionNamesTest {

    /** The torchvision B0 fixture kept by the io module's tests (see its README). */
    private static final Path B0_TV = Path.of("..", "io", "src", "test", "resources", "torch", "b0_tv.pth");

    @Test
    void everyNameMapsBothWaysForEveryVariant() {
        for (int v = 0; v < 8; v++) {
            EfficientNetConfig c = EfficientNetConfig.preset("b" + v, 10);
            TorchvisionNames names = TorchvisionNames.of(c);
            EfficientNet m = new EfficientNet(c, ParameterStore.random(CpuBackend.get(), 1));
            Set<String> ours = m.parameters().keySet();
            assertEquals(ours.size(), names.torchvisionKeys().size(), c.variant());
            Set<String> seen = new HashSet<>();
            for (String key : ours) {
                String tv = names.torchvision(key);
                assertNotNull(tv, key);
                assertTrue(seen.add(tv), "two names map to " + tv);
                assertEquals(key, names.ours(tv));
            }
            assertEquals(names.slots(), TorchvisionNames.inferFrom(names.torchvisionKeys()).slots(), c.variant());
        }
    }

    @Test
    void b0KeysAreTorchvisions() {
        TorchvisionNames n = TorchvisionNames.of(EfficientNetConfig.b0(7));
        assertEquals("efficientnet/stem/conv/kernel", n.ours("features.0.0.weight"));
        assertEquals("efficientnet/stem/bn/running_var", n.ours("features.0.1.running_var"));
        assertEquals("efficientnet/blocks/00/depthwise/conv/kernel", n.ours("features.1.0.block.0.0.weight"));
        assertEquals("efficientnet/blocks/00/se/reduce/bias", n.ours("features.1.0.block.1.fc1.bias"));
        assertEquals("efficientnet/blocks/00/project/bn/weight", n.ours("features.1.0.block.2.1.weight"));
        assertEquals("efficientnet/blocks/02/expand/conv/kernel", n.ours("features.2.1.block.0.0.weight"));
        assertEquals("efficientnet/blocks/02/se/expand/kernel", n.ours("features.2.1.block.2.fc2.weight"));
        assertEquals("efficientnet/blocks/15/project/conv/kernel", n.ours("features.7.0.block.3.0.weight"));
        assertEquals("efficientnet/head/bn/bias", n.ours("features.8.1.bias"));
        assertEquals(EfficientNet.CLASSIFIER_KERNEL, n.ours("classifier.1.weight"));
        assertNull(n.ours("features.8.1.num_batches_tracked"));
        assertTrue(n.droppedKeys().contains("features.8.1.num_batches_tracked"));
    }

    @Test
    void layoutConversionIsTheTransposeAndRoundTrips() {
        SplittableRandom r = new SplittableRandom(1);
        int[] oihw = {5, 3, 2, 4};
        float[] v = new float[5 * 3 * 2 * 4];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble();
        float[] hwio = TorchvisionNames.convert("x/conv/kernel", oihw, v);
        assertArrayEquals(new int[] {2, 4, 3, 5}, TorchvisionNames.convertShape("x/conv/kernel", oihw));
        // element (o=4, i=1, h=1, w=3)
        assertEquals(v[((4 * 3 + 1) * 2 + 1) * 4 + 3], hwio[((1 * 4 + 3) * 3 + 1) * 5 + 4]);
        assertArrayEquals(v, TorchvisionNames.convertBack("x/conv/kernel", oihw, hwio));
        assertArrayEquals(new int[] {3, 3, 1, 32}, TorchvisionNames.convertShape("d/conv/kernel", new int[] {32, 1, 3, 3}));
        float[] lin = {1, 2, 3, 4, 5, 6}; // [out 2, in 3]
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, TorchvisionNames.convert(EfficientNet.CLASSIFIER_KERNEL, new int[] {2, 3}, lin));
        assertArrayEquals(lin, TorchvisionNames.convertBack(EfficientNet.CLASSIFIER_KERNEL, new int[] {2, 3},
                TorchvisionNames.convert(EfficientNet.CLASSIFIER_KERNEL, new int[] {2, 3}, lin)));
        assertArrayEquals(new int[] {7}, TorchvisionNames.convertShape("a/bn/weight", new int[] {7}));
    }

    /** The real torchvision state dict's keys (headers only, no data) are exactly the ones the mapping expects. */
    @Test
    void torchvisionB0StateDictKeysMatch() {
        assertTrue(Files.isRegularFile(B0_TV), "missing fixture " + B0_TV.toAbsolutePath());
        Map<String, TorchTensorHeader> headers = TorchStateDict.headers(B0_TV);
        assertEquals(360, headers.size());
        TorchvisionNames expected = TorchvisionNames.of(EfficientNetConfig.b0(7));
        TorchvisionNames inferred = TorchvisionNames.inferFrom(headers.keySet());
        assertEquals(expected.slots(), inferred.slots());
        Set<String> kept = new TreeSet<>();
        for (String k : headers.keySet()) if (!TorchvisionNames.isDropped(k)) kept.add(k);
        assertEquals(new TreeSet<>(expected.torchvisionKeys()), kept);
        assertEquals(new TreeSet<>(expected.droppedKeys()), new TreeSet<>(headers.keySet()).stream()
                .filter(TorchvisionNames::isDropped).collect(java.util.stream.Collectors.toCollection(TreeSet::new)));
        EfficientNet m = new EfficientNet(EfficientNetConfig.b0(7), ParameterStore.random(CpuBackend.get(), 1));
        for (String k : kept) {
            String ours = expected.ours(k);
            assertArrayEquals(m.parameters().get(ours).shape().dims(), TorchvisionNames.convertShape(ours, headers.get(k).shape()), k);
        }
    }

    /** A synthetic state dict: loads completely, values land transposed, unknown keys are reported unused. */
    @Test
    void weightSourceLoadsAStateDict() {
        EfficientNetConfig c = EfficientNetConfig.b0(4);
        EfficientNet random = new EfficientNet(c, ParameterStore.random(CpuBackend.get(), 11));
        TorchvisionNames names = TorchvisionNames.of(c);
        Map<String, NpyArray> sd = new LinkedHashMap<>();
        for (var e : random.parameters().entrySet()) {
            String tv = names.torchvision(e.getKey());
            int[] ourShape = e.getValue().shape().dims();
            int[] tvShape = switch (ourShape.length) {
                case 4 -> new int[] {ourShape[3], ourShape[2], ourShape[0], ourShape[1]};
                case 2 -> new int[] {ourShape[1], ourShape[0]};
                default -> ourShape;
            };
            sd.put(tv, NpyArray.ofFloats(tvShape, TorchvisionNames.convertBack(e.getKey(), tvShape, e.getValue().toFloatArray())));
        }
        for (String d : names.droppedKeys()) sd.put(d, NpyArray.ofLongs(new int[0], new long[] {3}));
        sd.put("extra.weight", NpyArray.ofFloats(new int[] {1}, new float[] {1}));
        WeightSource src = TorchvisionNames.weights(MapWeights.of(sd));
        ParameterStore store = ParameterStore.from(CpuBackend.get(), src, 99);
        EfficientNet loaded = new EfficientNet(c, store);
        LoadReport report = store.report();
        assertEquals(0, report.missing().size(), report.summary());
        assertEquals(0, report.mismatched().size(), report.summary());
        assertEquals(java.util.List.of("extra.weight"), report.unused());
        for (var e : random.parameters().entrySet()) {
            Tensor t = loaded.parameters().get(e.getKey());
            assertArrayEquals(e.getValue().toFloatArray(), t.toFloatArray(), e.getKey());
        }
        assertThrows(IllegalArgumentException.class, () -> TorchvisionNames.inferFrom(Set.of("conv.weight")));
    }
}
