package org.bitengine.io.image;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.bitengine.io.data.Image;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {

    /** The colour pattern FixtureGenerator paints. */
    private static int pattern(int y, int x, int c) {
        return (y * 40 + x * 7 + c * 90) % 256;
    }

    @Test
    void rgbPngDecodesExactly() {
        Image img = ImageDecoder.decode(ImageTestSupport.fixture("folder/cat/a_rgb.png"));
        assertEquals(8, img.height());
        assertEquals(6, img.width());
        assertFalse(img.normalized());
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 6; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(pattern(y, x, c), img.pixels()[(y * 6 + x) * 3 + c]);
                }
            }
        }
        assertArrayEquals(ImageTestSupport.raw("pil/decoded_a_rgb_8x6.rgb"), img.pixels());
    }

    @Test
    void greyIsReplicatedWithoutGammaConversion() {
        Image img = ImageDecoder.decode(ImageTestSupport.fixture("folder/cat/b_grey.png"));
        assertEquals(5, img.height());
        assertEquals(7, img.width());
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(y * 50 + x * 3, img.pixels()[(y * 7 + x) * 3 + c], "grey at " + y + "," + x);
                }
            }
        }
    }

    @Test
    void sixteenBitGreyIsScaledTo8Bit() {
        Image img = ImageDecoder.decode(ImageTestSupport.fixture("folder/dog/b_grey16.png"));
        assertEquals(6, img.height());
        for (int i = 0; i < 36; i++) {
            assertEquals(i * 7, img.pixels()[i * 3]); // stored as (i·7)·257
            assertEquals(i * 7, img.pixels()[i * 3 + 2]);
        }
    }

    @Test
    void alphaIsDroppedAndPalettesLookedUpAsPilDoes() {
        Image rgba = ImageDecoder.decode(ImageTestSupport.fixture("folder/cat/c_rgba.PNG"));
        assertArrayEquals(ImageTestSupport.raw("pil/decoded_c_rgba_4x4.rgb"), rgba.pixels());
        Image palette = ImageDecoder.decode(ImageTestSupport.fixture("folder/dog/d_palette.png"));
        assertArrayEquals(ImageTestSupport.raw("pil/decoded_d_palette_3x3.rgb"), palette.pixels());
        assertEquals(200f, palette.pixels()[(1 * 3 + 2) * 3]); // (x + y) % 4 = 3 -> (200, 100, 50)
    }

    @Test
    void jpegsDecodeAsPilDoes() {
        // ImageIO (libjpeg 6b) and PIL (libjpeg-turbo) share the integer IDCT and fancy upsampling.
        assertClose(ImageTestSupport.raw("pil/decoded_a_photo_12x10.rgb"),
                ImageDecoder.decode(ImageTestSupport.fixture("folder/dog/a_photo.jpg")), 12, 10, 1);
        assertClose(ImageTestSupport.raw("pil/decoded_x_grey_8x8.rgb"),
                ImageDecoder.decode(ImageTestSupport.fixture("folder/bird/sub/x_grey.JPEG")), 8, 8, 1);
    }

    @Test
    void exifOrientationIsApplied() throws IOException {
        // orient*.jpg store the same 16×24 picture: top-left red, top-right green, bottom-left blue,
        // bottom-right white; 3 is written in little-endian TIFF, 6 in big-endian, 8 little-endian.
        Image o1 = ImageDecoder.decode(ImageTestSupport.fixture("exif/orient1.jpg"));
        assertEquals(16, o1.height());
        assertEquals(24, o1.width());
        assertQuadrants(o1, 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF);

        Image o3 = ImageDecoder.decode(ImageTestSupport.fixture("exif/orient3.jpg")); // rotated 180°
        assertEquals(16, o3.height());
        assertQuadrants(o3, 0xFFFFFF, 0x0000FF, 0x00FF00, 0xFF0000);
        assertClose(ImageTestSupport.raw("pil/decoded_orient3_16x24.rgb"), o3, 16, 24, 1);

        Image o6 = ImageDecoder.decode(ImageTestSupport.fixture("exif/orient6.jpg")); // needs 90° clockwise
        assertEquals(24, o6.height());
        assertEquals(16, o6.width());
        assertQuadrants(o6, 0x0000FF, 0xFF0000, 0xFFFFFF, 0x00FF00);
        assertClose(ImageTestSupport.raw("pil/decoded_orient6_24x16.rgb"), o6, 24, 16, 1);

        Image o8 = ImageDecoder.decode(ImageTestSupport.fixture("exif/orient8.jpg")); // needs 90° counter-clockwise
        assertQuadrants(o8, 0x00FF00, 0xFFFFFF, 0xFF0000, 0x0000FF);
        assertClose(ImageTestSupport.raw("pil/decoded_orient8_24x16.rgb"), o8, 24, 16, 1);

        ImageDecoder.Header h6 = ImageDecoder.readHeader(ImageTestSupport.fixture("exif/orient6.jpg"));
        assertEquals(new ImageDecoder.Header(24, 16, h6.format(), 6), h6);
        ImageDecoder.Header h3 = ImageDecoder.readHeader(ImageTestSupport.fixture("exif/orient3.jpg"));
        assertEquals(16, h3.height());
        assertEquals(3, h3.orientation());
        byte[] bytes = Files.readAllBytes(ImageTestSupport.fixture("exif/orient1.jpg"));
        assertEquals(1, ExifOrientation.read(new MemoryCacheImageInputStream(new java.io.ByteArrayInputStream(bytes))));
    }

    @Test
    void everyOrientationMatchesItsDefinition() {
        // A 2×3 image with pixel values 0..5 (one channel), turned upright per EXIF value.
        float[] in = {0, 1, 2, 3, 4, 5};
        assertArrayEquals(in, ExifOrientation.apply(in, 2, 3, 1, 1));
        assertArrayEquals(new float[] {2, 1, 0, 5, 4, 3}, ExifOrientation.apply(in, 2, 3, 1, 2));
        assertArrayEquals(new float[] {5, 4, 3, 2, 1, 0}, ExifOrientation.apply(in, 2, 3, 1, 3));
        assertArrayEquals(new float[] {3, 4, 5, 0, 1, 2}, ExifOrientation.apply(in, 2, 3, 1, 4));
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, ExifOrientation.apply(in, 2, 3, 1, 5)); // transpose
        assertArrayEquals(new float[] {3, 0, 4, 1, 5, 2}, ExifOrientation.apply(in, 2, 3, 1, 6)); // 90° clockwise
        assertArrayEquals(new float[] {5, 2, 4, 1, 3, 0}, ExifOrientation.apply(in, 2, 3, 1, 7)); // transverse
        assertArrayEquals(new float[] {2, 5, 1, 4, 0, 3}, ExifOrientation.apply(in, 2, 3, 1, 8)); // 90° counter-clockwise
    }

    @Test
    void malformedExifIsIgnoredNotFatal() throws IOException {
        SplittableRandom rng = new SplittableRandom(5);
        for (int t = 0; t < 2000; t++) {
            byte[] b = new byte[rng.nextInt(40)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) rng.nextInt(256);
            }
            if (b.length > 2 && rng.nextBoolean()) {
                b[0] = (byte) (rng.nextBoolean() ? 'I' : 'M');
                b[1] = b[0];
            }
            int o = ExifOrientation.fromTiff(b, 0);
            assertTrue(o >= 1 && o <= 8);
        }
        byte[] notJpeg = "not a jpeg at all".getBytes();
        assertEquals(1, ExifOrientation.read(new MemoryCacheImageInputStream(new java.io.ByteArrayInputStream(notJpeg))));
        byte[] cut = Arrays.copyOf(Files.readAllBytes(ImageTestSupport.fixture("exif/orient6.jpg")), 30);
        assertEquals(1, ExifOrientation.read(new MemoryCacheImageInputStream(new java.io.ByteArrayInputStream(cut))));
    }

    @Test
    void corruptAndTruncatedFilesFailWithTheFileName(@TempDir Path dir) throws IOException {
        Path corrupt = ImageTestSupport.fixture("folder/dog/c_corrupt.png");
        assertUserError(() -> ImageDecoder.readHeader(corrupt), "c_corrupt.png", "not a JPEG or PNG");
        assertUserError(() -> ImageDecoder.decode(corrupt), "c_corrupt.png");
        Path missing = dir.resolve("missing.png");
        assertUserError(() -> ImageDecoder.decode(missing), "missing.png", "cannot read");
        assertUserError(() -> ImageDecoder.readHeader(missing), "missing.png");

        // A PNG cut after its header: the size is still readable, the pixels are not.
        byte[] png = Files.readAllBytes(ImageTestSupport.fixture("folder/cat/a_rgb.png"));
        Path cut = dir.resolve("cut.png");
        Files.write(cut, Arrays.copyOf(png, 40));
        assertEquals(8, ImageDecoder.readHeader(cut).height());
        assertUserError(() -> ImageDecoder.decode(cut), "cut.png", "cannot decode");
        byte[] jpg = Files.readAllBytes(ImageTestSupport.fixture("folder/dog/a_photo.jpg"));
        Path cutJpeg = dir.resolve("cut.jpg");
        int sos = 2;
        while (!((jpg[sos] & 0xFF) == 0xFF && (jpg[sos + 1] & 0xFF) == 0xDA)) {
            sos++;
        }
        Files.write(cutJpeg, Arrays.copyOf(jpg, sos + 20)); // the tables and the start of the scan only
        assertEquals(12, ImageDecoder.readHeader(cutJpeg).height());
        assertUserError(() -> ImageDecoder.decode(cutJpeg), "cut.jpg", "truncated");
        // Without its final EOI marker (all image data present) a JPEG still decodes, as in PIL.
        Path noEoi = dir.resolve("no_eoi.jpg");
        Files.write(noEoi, Arrays.copyOf(jpg, jpg.length - 2));
        assertEquals(12, ImageDecoder.decode(noEoi).height());
    }

    @Test
    void extensions() {
        assertTrue(ImageDecoder.hasImageExtension(Path.of("a/b.JPG")));
        assertTrue(ImageDecoder.hasImageExtension(Path.of("b.jpeg")));
        assertTrue(ImageDecoder.hasImageExtension(Path.of("b.Png")));
        assertFalse(ImageDecoder.hasImageExtension(Path.of("b.gif")));
        assertFalse(ImageDecoder.hasImageExtension(Path.of("png")));
    }

    private static void assertQuadrants(Image img, int tl, int tr, int bl, int br) {
        int h = img.height();
        int w = img.width();
        assertRgb(img, h / 4, w / 4, tl);
        assertRgb(img, h / 4, 3 * w / 4, tr);
        assertRgb(img, 3 * h / 4, w / 4, bl);
        assertRgb(img, 3 * h / 4, 3 * w / 4, br);
    }

    private static void assertRgb(Image img, int y, int x, int rgb) {
        for (int c = 0; c < 3; c++) {
            int want = (rgb >> (16 - 8 * c)) & 0xFF;
            float got = img.pixels()[(y * img.width() + x) * 3 + c];
            assertTrue(Math.abs(got - want) <= 8, "pixel (" + y + ", " + x + ") channel " + c + ": " + got + " vs " + want);
        }
    }

    private static void assertClose(float[] want, Image got, int h, int w, float tolerance) {
        assertEquals(h, got.height());
        assertEquals(w, got.width());
        float max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - got.pixels()[i]));
        }
        assertTrue(max <= tolerance, "largest difference from PIL " + max);
    }
}
