package org.bitengine.models.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.bitengine.engine.BitEngineException;
import org.bitengine.models.report.Plots.Point;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {

    static BufferedImage read(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image != null, png + " is a PNG ImageIO reads");
        return image;
    }

    /** Pixels within a small distance of {@code c} in the columns [x0, x1). */
    static int pixelsLike(BufferedImage image, Color c, int x0, int x1) {
        int count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = x0; x < x1; x++) {
                Color p = new Color(image.getRGB(x, y));
                if (Math.abs(p.getRed() - c.getRed()) + Math.abs(p.getGreen() - c.getGreen()) + Math.abs(p.getBlue() - c.getBlue()) < 30) count++;
            }
        }
        return count;
    }

    static List<Point> decay(int n, double scale) {
        List<Point> s = new ArrayList<>();
        for (int i = 1; i <= n; i++) s.add(new Point(i, scale * Math.exp(-i / 30.0) + 0.2 + 0.05 * Math.sin(i)));
        return s;
    }

    @Test
    void curvesDrawEverySeries(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("curves.png");
        List<Point> val = List.of(new Point(25, 1.1), new Point(50, 0.6), new Point(100, 0.4));
        List<Point> top1 = List.of(new Point(25, 0.6), new Point(50, 0.8), new Point(100, 0.85));
        Plots.curves(png, decay(100, 2), val, top1, "test run");
        BufferedImage image = read(png);
        assertEquals(1200, image.getWidth());
        assertEquals(500, image.getHeight());
        assertTrue(pixelsLike(image, Plots.TRAIN, 0, 600) > 200, "the smoothed train line is in the left panel");
        assertTrue(pixelsLike(image, Plots.VAL, 0, 600) > 50, "validation markers in the left panel");
        assertTrue(pixelsLike(image, Plots.ACCURACY, 600, 1200) > 100, "the accuracy line in the right panel");
        assertEquals(0, pixelsLike(image, Plots.ACCURACY, 0, 600));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(png), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void emptyAndSinglePointSeries(@TempDir Path dir) throws IOException {
        Path empty = dir.resolve("empty.png");
        Plots.curves(empty, List.of(), List.of(), List.of(), "");
        BufferedImage image = read(empty);
        assertEquals(0, pixelsLike(image, Plots.TRAIN, 0, 1200));
        assertEquals(0, pixelsLike(image, Plots.ACCURACY, 0, 1200));

        Path one = dir.resolve("one.png");
        Plots.curves(one, List.of(new Point(0, 2.3)), List.of(), List.of(new Point(0, 0.1)), null);
        image = read(one);
        assertTrue(pixelsLike(image, Plots.TRAIN, 0, 600) > 10, "a single train point is a visible marker");
        assertTrue(pixelsLike(image, Plots.ACCURACY, 600, 1200) > 10);

        Path noVal = dir.resolve("noval.png");
        List<Point> withNaN = new ArrayList<>(decay(50, 1));
        withNaN.add(new Point(51, Double.NaN));
        Plots.curves(noVal, withNaN, null, List.of(), "no validation");
        assertTrue(pixelsLike(read(noVal), Plots.TRAIN, 0, 600) > 100);
    }

    @Test
    void confusionMatrixHeatMap(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("confusion.png");
        int[][] counts = {{50, 2, 0}, {5, 40, 5}, {0, 0, 0}};
        Plots.confusionMatrix(png, counts, List.of("cat", "dog", "a rather long class name"));
        BufferedImage image = read(png);
        assertTrue(image.getWidth() > 300 && image.getHeight() > 300, image.getWidth() + "x" + image.getHeight());
        // The darkest blue of a row-normalised 100 %-ish cell is present; an all-zero row stays pale.
        assertTrue(pixelsLike(image, Plots.blues(50.0 / 52), 0, image.getWidth()) > 500);

        // Many classes: no text fits, the heat map still comes out, at a bounded size.
        int k = 300;
        int[][] big = new int[k][k];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            big[i][i] = 10;
            big[i][(i + 1) % k] = 1;
            names.add("class" + i);
        }
        Path bigPng = dir.resolve("big.png");
        Plots.confusionMatrix(bigPng, big, names);
        BufferedImage bigImage = read(bigPng);
        assertTrue(bigImage.getWidth() < 2000 && bigImage.getHeight() < 2000, bigImage.getWidth() + "x" + bigImage.getHeight());

        assertThrows(IllegalArgumentException.class, () -> Plots.confusionMatrix(png, new int[2][2], List.of("a", "b", "c")));
    }

    @Test
    void writingIntoAMissingDirectoryIsOneClearError(@TempDir Path dir) {
        BitEngineException e = assertThrows(BitEngineException.class,
                () -> Plots.curves(dir.resolve("no/such/curves.png"), List.of(), List.of(), List.of(), "x"));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void niceAxes() {
        Plots.Axis a = Plots.Axis.nice(0, 487, 8, true);
        assertEquals(0, a.lo());
        assertEquals(500, a.hi());
        assertEquals(50, a.step());
        assertEquals("250", a.format(250));
        Plots.Axis k = Plots.Axis.nice(0, 20000, 8, true);
        assertEquals("10k", k.format(10000));
        Plots.Axis loss = Plots.Axis.nice(0.21, 2.3, 6, false);
        assertEquals(0.5, loss.step(), 1e-12);
        assertEquals("1.5", loss.format(1.5));
        Plots.Axis single = Plots.Axis.nice(3, 3, 6, false);
        assertTrue(single.lo() < 3 && single.hi() > 3);
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5, 2.0, 2.5), java.util.Arrays.stream(loss.ticks()).boxed().toList());
    }
}
