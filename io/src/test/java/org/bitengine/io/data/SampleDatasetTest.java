package org.bitengine.io.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** samples/fashion-mnist-small, shipped with the project. */
class SampleDatasetTest {

    private static final List<String> FOLDERS = List.of("Ankle_boot", "Bag", "Coat", "Dress", "Pullover", "Sandal",
            "Shirt", "Sneaker", "T-shirt_top", "Trouser");

    @Test
    void opensWithTenClassesOf300TrainAnd100Test() {
        DataTestSupport.Warnings w = new DataTestSupport.Warnings();
        ImageDataset train = Datasets.open(DataTestSupport.sample(), Split.TRAIN, w);
        ImageDataset test = Datasets.open(DataTestSupport.sample(), Split.TEST, w);
        assertEquals(List.of(), w.lines());
        for (ImageDataset d : List.of(train, test)) {
            assertEquals(FOLDERS, d.classes());
            assertArrayEquals(new int[] {28, 28}, d.nominalSize());
            int[] counts = new int[10];
            for (int i = 0; i < d.size(); i++) {
                counts[d.label(i)]++;
            }
            int per = d == train ? 300 : 100;
            assertArrayEquals(new int[] {per, per, per, per, per, per, per, per, per, per}, counts);
        }
        assertEquals(3000, train.size());
        assertEquals(1000, test.size());
        Image img = train.image(0);
        assertEquals(28, img.height());
        assertEquals(img.pixels()[0], img.pixels()[1]); // grey replicated
    }

    @Test
    void imagesAreTheOriginalFashionMnistBytes() {
        Path debian = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(debian),
                "Debian's dataset-fashion-mnist is not installed; cross-check with the original skipped");
        ImageDataset original = Datasets.open(debian, Split.TRAIN, s -> { });
        ImageFolderDataset sample = assertInstanceOf(ImageFolderDataset.class,
                Datasets.open(DataTestSupport.sample(), Split.TRAIN, s -> { }));
        for (int i = 0; i < sample.size(); i += 97) {
            String name = sample.file(i).getFileName().toString();
            int index = Integer.parseInt(name.substring(0, name.length() - ".png".length()));
            assertArrayEquals(original.image(index).pixels(), sample.image(i).pixels(), name);
            String want = original.classes().get(original.label(index)).replace('/', '_').replace(' ', '_');
            assertEquals(want, sample.classes().get(sample.label(i)));
        }
        assertTrue(sample.size() == 3000);
    }
}
