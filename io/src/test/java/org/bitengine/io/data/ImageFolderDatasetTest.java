package org.bitengine.io.data;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.data.DataTestSupport.copyFixture;
import static org.bitengine.io.data.DataTestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {

    @Test
    void scansClassesFilesAndSizes() {
        DataTestSupport.Warnings w = new DataTestSupport.Warnings();
        ImageFolderDataset d = ImageFolderDataset.open(fixture("folder"), w);
        assertEquals(List.of("bird", "cat", "dog"), d.classes());
        List<String> names = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            names.add(d.file(i).getFileName().toString());
        }
        // bird's image sits in a sub-folder; notes.txt is ignored; c_corrupt.png is skipped
        assertEquals(List.of("x_grey.JPEG", "a_rgb.png", "b_grey.png", "c_rgba.PNG", "a_photo.jpg", "b_grey16.png",
                "d_palette.png"), names);
        int[] labels = new int[d.size()];
        for (int i = 0; i < d.size(); i++) {
            labels[i] = d.label(i);
        }
        assertArrayEquals(new int[] {0, 1, 1, 1, 2, 2, 2}, labels);
        assertEquals(1, d.skipped());
        assertEquals(1, d.ignoredFiles());
        List<String> lines = w.lines();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("c_corrupt.png"), lines.get(0));
        assertTrue(lines.get(1).contains("ignored 1 file"), lines.get(1));
        // heights 8 | 8 5 4 | 12 6 3 and widths 8 | 6 7 4 | 10 6 3: lower medians 6 and 6
        assertArrayEquals(new int[] {6, 6}, d.nominalSize());
        assertTrue(d.describe(4).endsWith("a_photo.jpg"));
        Image photo = d.image(4);
        assertEquals(12, photo.height());
        assertEquals(10, photo.width());
        Image grey = d.image(0);
        assertEquals(128f, grey.pixels()[0], 2f);
    }

    @Test
    void decodesConcurrently() throws Exception {
        ImageFolderDataset d = ImageFolderDataset.open(fixture("folder"), s -> { });
        List<float[]> serial = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            serial.add(d.image(i).pixels());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int r = 0; r < 8; r++) {
                for (int i = 0; i < d.size(); i++) {
                    int k = i;
                    futures.add(pool.submit(() -> d.image(k).pixels()));
                }
            }
            for (int j = 0; j < futures.size(); j++) {
                assertArrayEquals(serial.get(j % d.size()), futures.get(j).get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void emptyClassFolderIsAnError(@TempDir Path dir) throws IOException {
        Path root = copyFixture("folder", dir.resolve("ds"));
        Files.createDirectory(root.resolve("empty"));
        assertUserError(() -> ImageFolderDataset.open(root, s -> { }), "class folder", "empty",
                "has no readable images", "add");
    }

    @Test
    void classFolderOfOnlyUnreadableFilesIsAnError(@TempDir Path dir) throws IOException {
        Path root = copyFixture("folder", dir.resolve("ds"));
        Path broken = Files.createDirectory(root.resolve("zebra"));
        Files.writeString(broken.resolve("z.jpg"), "not a jpeg");
        Files.writeString(broken.resolve("readme.md"), "hello");
        DataTestSupport.Warnings w = new DataTestSupport.Warnings();
        assertUserError(() -> ImageFolderDataset.open(root, w), "zebra", "1 unreadable skipped");
        assertTrue(w.lines().stream().anyMatch(l -> l.contains("z.jpg")));
    }

    @Test
    void noClassFoldersIsAnError(@TempDir Path dir) throws IOException {
        Files.copy(fixture("folder/cat/a_rgb.png"), dir.resolve("a.png"));
        assertUserError(() -> ImageFolderDataset.open(dir, s -> { }), "has no class sub-folders", "1 images directly");
        assertUserError(() -> ImageFolderDataset.open(dir.resolve("nope"), s -> { }), "nope", "no such directory");
        assertUserError(() -> ImageFolderDataset.open(dir.resolve("a.png"), s -> { }), "is not a directory");
    }

    @Test
    void hiddenFilesAndFoldersAreIgnored(@TempDir Path dir) throws IOException {
        Path root = copyFixture("folder", dir.resolve("ds"));
        Files.createDirectory(root.resolve(".ipynb_checkpoints"));
        Files.copy(fixture("folder/cat/a_rgb.png"), root.resolve("cat").resolve(".hidden.png"));
        Files.writeString(root.resolve(".DS_Store"), "x");
        ImageFolderDataset d = ImageFolderDataset.open(root, s -> { });
        assertEquals(3, d.classes().size());
        assertEquals(7, d.size());
        assertEquals(3, d.ignoredFiles());
    }

    @Test
    void aFileThatBreaksAfterTheScanFailsWithItsName(@TempDir Path dir) throws IOException {
        Path root = copyFixture("folder", dir.resolve("ds"));
        ImageFolderDataset d = ImageFolderDataset.open(root, s -> { });
        Path victim = d.file(1);
        byte[] png = Files.readAllBytes(victim);
        Files.write(victim, java.util.Arrays.copyOf(png, 45));
        String m = assertUserError(() -> d.image(1), victim.toString(), "cannot decode");
        assertFalse(m.isBlank());
        Files.delete(d.file(2));
        assertUserError(() -> d.image(2), "b_grey.png");
    }
}
