package org.bitengine.io.data;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.data.DataTestSupport.copyFixture;
import static org.bitengine.io.data.DataTestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

    private static ImageDataset open(Path p, Split s) {
        return Datasets.open(p, s, line -> { });
    }

    @Test
    void recognisesEveryLayout() {
        ImageDataset folder = open(fixture("folder"), Split.TEST);
        assertInstanceOf(ImageFolderDataset.class, folder);
        assertEquals(7, folder.size());

        assertEquals(6, assertInstanceOf(IdxDataset.class, open(fixture("idx"), Split.TRAIN)).size());
        assertEquals(3, open(fixture("idx"), Split.TEST).size());
        assertEquals(3, open(fixture("idx/t10k-images-idx3-ubyte"), Split.TEST).size()); // one of the files
        assertEquals(6, open(fixture("idx").resolve("train"), Split.TRAIN).size());       // a prefix

        assertEquals(7, assertInstanceOf(CifarDataset.class, open(fixture("cifar10"), Split.TRAIN)).size());
        assertEquals(2, open(fixture("cifar10"), Split.TEST).size());
        assertEquals(3, open(fixture("cifar100"), Split.TRAIN).size());
        assertEquals(1, open(fixture("cifar100/test.bin"), Split.TEST).size());

        assertEquals(4, assertInstanceOf(NpzArrayDataset.class, open(fixture("npz/u8.npz"), Split.TRAIN)).size());
    }

    @Test
    void findsCifarInsideTheArchiveFolder(@TempDir Path dir) {
        copyFixture("cifar10", dir.resolve("cifar-10-batches-bin"));
        assertEquals(7, open(dir, Split.TRAIN).size());
    }

    @Test
    void trainAndTestSubFoldersChooseTheSplit(@TempDir Path dir) throws IOException {
        copyFixture("folder", dir.resolve("train"));
        Path test = Files.createDirectories(dir.resolve("test").resolve("cat"));
        Files.copy(fixture("folder/cat/a_rgb.png"), test.resolve("1.png"));
        Files.createDirectories(dir.resolve("test").resolve("dog"));
        Files.copy(fixture("folder/cat/a_rgb.png"), dir.resolve("test").resolve("dog").resolve("2.png"));
        ImageDataset train = open(dir, Split.TRAIN);
        assertEquals(List.of("bird", "cat", "dog"), train.classes());
        assertEquals(7, train.size());
        ImageDataset t = open(dir, Split.TEST);
        assertEquals(List.of("cat", "dog"), t.classes());
        assertEquals(2, t.size());
    }

    @Test
    void unrecognisedLayoutsListTheSupportedOnes(@TempDir Path dir) throws IOException {
        assertUserError(() -> open(dir, Split.TRAIN), "empty folder", "supported layouts", "idx", "CIFAR", ".npz");
        Files.writeString(dir.resolve("data.csv"), "a,b\n");
        assertUserError(() -> open(dir, Split.TRAIN), "holds no dataset", "supported layouts");
        assertUserError(() -> open(dir.resolve("data.csv"), Split.TRAIN), "data.csv", "supported layouts");
        assertUserError(() -> open(dir.resolve("missing"), Split.TRAIN), "missing", "no such file or folder");
        assertUserError(() -> open(Path.of("/definitely/not/here"), Split.TRAIN), "no such file or folder");
    }

    @Test
    void debiansFashionMnistPackage() {
        Path dir = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(dir),
                "Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist); check skipped");
        ImageDataset train = open(dir, Split.TRAIN);
        assertEquals(60000, train.size());
        assertEquals(IdxDataset.FASHION_MNIST_CLASSES, train.classes());
        assertArrayEquals(new int[] {28, 28}, train.nominalSize());
        assertEquals("Ankle boot", train.classes().get(train.label(0))); // training image 0 is an ankle boot
        ImageDataset test = open(dir, Split.TEST);
        assertEquals(10000, test.size());
        assertEquals(28, test.image(9999).height());
    }
}
