package org.bitengine.io.data;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.data.DataTestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The readers of array formats: npz, idx, CIFAR. */
class ArrayDatasetsTest {

    // ---------------------------------------------------------------------------------------------
    // npz

    @Test
    void npzUint8() {
        NpzArrayDataset d = NpzArrayDataset.open(fixture("npz/u8.npz"));
        assertEquals(4, d.size());
        assertEquals(List.of("0", "1", "2", "3"), d.classes()); // max label 3
        assertEquals(3, d.label(2));
        assertArrayEquals(new int[] {3, 2}, d.nominalSize());
        Image img = d.image(1);
        assertFalse(img.normalized());
        assertEquals(3, img.height());
        assertEquals(2, img.width());
        for (int i = 0; i < 18; i++) {
            assertEquals(((18 + i) * 10) & 0xFF, (int) img.pixels()[i]);
        }
        assertEquals("u8.npz[1]", d.describe(1));
    }

    @Test
    void npzFloat32GreyIsUsedAsIs() {
        NpzArrayDataset d = NpzArrayDataset.open(fixture("npz/f32.npz"));
        assertEquals(3, d.size());
        assertEquals(List.of("0", "1"), d.classes());
        Image img = d.image(2);
        assertTrue(img.normalized());
        // x[2] holds -1 + (8..11) * 0.125, one channel replicated to three
        float[] want = new float[12];
        for (int p = 0; p < 4; p++) {
            Arrays.fill(want, p * 3, p * 3 + 3, -1f + (8 + p) * 0.125f);
        }
        assertArrayEquals(want, img.pixels());
    }

    @Test
    void npzErrorsNameTheFileAndKey() {
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/missing_y.npz")), "missing_y.npz", "no key 'y'", "labels");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/count_mismatch.npz")), "count_mismatch.npz",
                "4 images", "3 labels");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/negative_label.npz")), "negative_label.npz",
                "negative label -1", "index 2");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/bad_rank.npz")), "bad_rank.npz", "(4, 18)", "(N, H, W, C)");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/bad_dtype.npz")), "bad_dtype.npz", "<f8", "float32");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/float_labels.npz")), "float_labels.npz", "'y'", "integers");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/bad_channels.npz")), "bad_channels.npz", "2 channels");
        assertUserError(() -> NpzArrayDataset.open(fixture("npz/u8.npz").resolveSibling("none.npz")), "none.npz");
    }

    // ---------------------------------------------------------------------------------------------
    // idx

    @Test
    void idxGzipAndPlain() {
        Path dir = fixture("idx");
        Path[] train = IdxDataset.find(dir, Split.TRAIN);
        assertTrue(train[0].getFileName().toString().equals("train-images-idx3-ubyte.gz"));
        IdxDataset d = IdxDataset.open(train[0], train[1]);
        assertEquals(6, d.size());
        assertEquals(List.of("0", "1", "2"), d.classes());
        assertArrayEquals(new int[] {4, 3}, d.nominalSize());
        assertEquals(2, d.label(5));
        Image img = d.image(5);
        for (int p = 0; p < 12; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals((5 * 20 + p) % 256, (int) img.pixels()[p * 3 + c]);
            }
        }
        Path[] test = IdxDataset.find(dir, Split.TEST);
        IdxDataset t = IdxDataset.open(test[0], test[1]);
        assertEquals(3, t.size());
        assertEquals(2, t.label(0));
        assertEquals("t10k-images-idx3-ubyte[1]", t.describe(1));
    }

    @Test
    void idxTruncatedAndMalformed(@TempDir Path dir) throws IOException {
        Path bad = fixture("idx-truncated");
        assertUserError(() -> IdxDataset.open(bad.resolve("train-images-idx3-ubyte"), bad.resolve("train-labels-idx1-ubyte")),
                "train-images-idx3-ubyte", "truncated", "6 images of 4x3");
        // A gzipped file whose header claims far more data than it has: no huge allocation, a clear error.
        byte[] lie = FixtureGenerator.idxImages(2, 4, 3);
        lie[5] = (byte) 0x10; // N (bytes 4..7) = 0x00100002: 1 048 578 images of 4x3, 12 MB claimed, 24 bytes there
        Path gz = dir.resolve("train-images-idx3-ubyte.gz");
        Files.write(gz, FixtureGenerator.gzip(lie));
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        Files.write(labels, FixtureGenerator.idxLabels(new int[] {0, 1}));
        assertUserError(() -> IdxDataset.open(gz, labels), "train-images-idx3-ubyte.gz", "truncated");
        // A swapped pair, a count mismatch, trailing bytes, a damaged gzip.
        Path images = dir.resolve("i-idx3");
        Files.write(images, FixtureGenerator.idxImages(3, 2, 2));
        assertUserError(() -> IdxDataset.open(labels, images), "magic number 0x00000801", "swap");
        assertUserError(() -> IdxDataset.open(images, labels), "3 images", "2 labels");
        byte[] longer = Arrays.copyOf(FixtureGenerator.idxImages(3, 2, 2), 16 + 12 + 4);
        Files.write(images, longer);
        assertUserError(() -> IdxDataset.open(images, labels), "too long");
        byte[] gzBytes = FixtureGenerator.gzip(FixtureGenerator.idxImages(3, 2, 2));
        Files.write(gz, Arrays.copyOf(gzBytes, gzBytes.length - 12));
        assertUserError(() -> IdxDataset.open(gz, labels), "train-images-idx3-ubyte.gz");
        Files.write(images, new byte[] {1, 2});
        assertUserError(() -> IdxDataset.open(images, labels), "too short");
    }

    @Test
    void fashionFoldersGetFashionNames(@TempDir Path dir) throws IOException {
        Path f = Files.createDirectory(dir.resolve("Fashion-data"));
        Files.write(f.resolve("train-images-idx3-ubyte"), FixtureGenerator.idxImages(2, 2, 2));
        Files.write(f.resolve("train-labels-idx1-ubyte"), FixtureGenerator.idxLabels(new int[] {9, 0}));
        ImageDataset d = Datasets.open(f, Split.TRAIN, s -> { });
        assertEquals(IdxDataset.FASHION_MNIST_CLASSES, d.classes());
        assertEquals("Ankle boot", d.classes().get(d.label(0)));
        assertUserError(() -> Datasets.open(f, Split.TEST, s -> { }), "test split", "t10k-images-idx3-ubyte");
    }

    // ---------------------------------------------------------------------------------------------
    // CIFAR

    @Test
    void cifar10() {
        CifarDataset d = CifarDataset.open(fixture("cifar10"), Split.TRAIN);
        assertEquals(7, d.size()); // data_batch_1 (5) then data_batch_2 (2)
        assertEquals("cat", d.classes().get(d.label(0)));
        assertEquals(List.of(3, 7, 0, 9, 3, 1, 2), java.util.stream.IntStream.range(0, 7).map(d::label).boxed().toList());
        assertEquals(10, d.classes().size());
        assertEquals("truck", d.classes().get(9));
        Image img = d.image(6); // record 1 of data_batch_2
        assertEquals(32, img.height());
        for (int y : new int[] {0, 5, 31}) {
            for (int x : new int[] {0, 17, 31}) {
                for (int c = 0; c < 3; c++) {
                    assertEquals((31 + c * 80 + y * 8 + x) % 256, (int) img.pixels()[(y * 32 + x) * 3 + c]);
                }
            }
        }
        assertTrue(d.describe(6).endsWith("data_batch_2.bin record 1"));
        CifarDataset t = CifarDataset.open(fixture("cifar10"), Split.TEST);
        assertEquals(2, t.size());
        assertEquals("dog", t.classes().get(t.label(0)));
    }

    @Test
    void cifar100UsesTheFineLabel() {
        CifarDataset d = CifarDataset.open(fixture("cifar100"), Split.TRAIN);
        assertEquals(3, d.size());
        assertEquals(100, d.classes().size());
        assertEquals(42, d.label(0));
        assertEquals(99, d.label(1));
        assertEquals("42", d.classes().get(42)); // no fine_label_names.txt: numbers
        assertEquals(17, CifarDataset.open(fixture("cifar100"), Split.TEST).label(0));
    }

    @Test
    void cifarErrors(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("data_batch_1.bin"), new byte[3073 * 2 - 1]);
        assertUserError(() -> CifarDataset.open(dir, Split.TRAIN), "data_batch_1.bin", "3073-byte", "truncated");
        assertUserError(() -> CifarDataset.open(dir, Split.TEST), "test_batch.bin");
        byte[] rec = FixtureGenerator.cifarRecords(new int[][] {{12}});
        Files.write(dir.resolve("data_batch_1.bin"), rec);
        assertUserError(() -> CifarDataset.open(dir, Split.TRAIN), "label 12", "10 classes");
    }
}
