package org.bitengine.io.image;

import static org.bitengine.io.IoErrors.error;
import static org.bitengine.io.IoErrors.reason;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.data.Image;

/**
 * Decodes JPEG and PNG files into {@link Image}s of 0..255 RGB values, with javax.imageio.
 *
 * <p>The values are the file's samples as they are, as PIL's {@code Image.open(f).convert("RGB")}
 * (what torchvision's image folders use) gives them: no colour management (an embedded ICC profile or
 * gAMA chunk is ignored), grey replicated to three channels, alpha dropped without compositing,
 * palettes looked up. 16-bit samples are scaled to 0..255 and rounded ({@code round(v·255/65535)}),
 * so every decoded value is an integer in 0..255. Unlike PIL, the EXIF orientation of a JPEG is
 * applied (see {@link ExifOrientation}). Readers and streams are created per call, so decoding is
 * safe from several threads at once. Runs headless.
 */
public final class ImageDecoder {

    static {
        // ImageIO needs no display, but some AWT classes consult this on first use.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Most pixels an image may have: its float[h·w·3] must fit in one Java array. */
    public static final long MAX_PIXELS = (Integer.MAX_VALUE - 8) / 3;

    /**
     * What a file's header says: the upright size (after the EXIF orientation, so 5..8 swap the
     * stored size), the format name ImageIO reports ("png", "JPEG") and the EXIF orientation (1 for
     * PNGs and JPEGs without one).
     */
    public record Header(int height, int width, String format, int orientation) {}

    private ImageDecoder() {
    }

    /** Whether the file name ends in .jpg, .jpeg or .png, in any case. */
    public static boolean hasImageExtension(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
    }

    /**
     * Reads the image size from the file's header without decoding the pixels.
     *
     * @throws BitEngineException naming the file if it cannot be read, is no image ImageIO knows, or its
     *                            header is malformed
     */
    public static Header readHeader(Path file) {
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            ImageReader reader = readerFor(in, file);
            try {
                return header(reader, in, file, in.length());
            } finally {
                reader.dispose();
            }
        } catch (BitEngineException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw unreadable(file, e);
        }
    }

    /**
     * Decodes the whole image, upright.
     *
     * @throws BitEngineException naming the file if it cannot be read or decoded
     */
    public static Image decode(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw error(file + ": cannot read image: " + reason(e) + "; check that the file exists and is readable", e);
        } catch (OutOfMemoryError e) {
            throw error(file + ": image file too large to load (" + reason(e) + "); remove it or give Java more memory (-Xmx)", e);
        }
        // A memory-backed stream: ImageIO.createImageInputStream could put a cache file in java.io.tmpdir.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            ImageReader reader = readerFor(in, file);
            try {
                int orientation = header(reader, in, file, bytes.length).orientation();
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage img = reader.read(0);
                for (String warning : warnings) {
                    // ImageIO fills the missing part of a truncated JPEG with grey and only warns; PIL refuses
                    // such a file ("image file is truncated"), and so do we. A missing EOI alone is harmless.
                    if (warning != null && warning.toLowerCase(Locale.ROOT).contains("premature end")) {
                        throw error(file + ": cannot decode image: the file is truncated (" + warning
                                + "); replace or remove it");
                    }
                }
                float[] pixels = toRgb(img, file);
                int h = img.getHeight();
                int w = img.getWidth();
                pixels = ExifOrientation.apply(pixels, h, w, 3, orientation);
                boolean swap = ExifOrientation.swapsAxes(orientation);
                return new Image(swap ? w : h, swap ? h : w, pixels, false);
            } finally {
                reader.dispose();
            }
        } catch (BitEngineException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Unsupported Image Type")) { // ImageIO's word for CMYK and YCCK JPEGs
                throw error(file + ": cannot decode image: unsupported colour space (a CMYK or YCCK JPEG?);"
                        + " convert the image to RGB or remove it", e);
            }
            throw error(file + ": cannot decode image: " + reason(e)
                    + "; the file is damaged or truncated, replace or remove it", e);
        } catch (OutOfMemoryError e) {
            throw error(file + ": image too large to decode (" + reason(e) + "); remove it or give Java more memory (-Xmx)", e);
        }
    }

    /**
     * ImageIO's PNG or JPEG reader for the stream. Its other formats (BMP, GIF, TIFF, WBMP) are not
     * offered: they are not what this class promises, and some (BMP's RLE, TIFF's missing strips) let a
     * few bytes describe an image of any size, which {@link #checkSize} could not bound.
     */
    private static ImageReader readerFor(ImageInputStream in, Path file) {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader reader = readers.next();
            try {
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                if (format.equals("png") || isJpeg(format)) {
                    return reader;
                }
            } catch (IOException e) {
                // A reader that cannot name its format is not one we want.
            }
            reader.dispose();
        }
        throw error(file + ": not a JPEG or PNG image (its first bytes match neither format);"
                + " replace or remove the file");
    }

    /**
     * Reads the EXIF orientation, then the size from the image header (checked), and leaves
     * {@code reader} set on {@code in}, ready to decode.
     */
    private static Header header(ImageReader reader, ImageInputStream in, Path file, long fileLength) throws IOException {
        // The orientation first: a reader told seekForwardOnly may flush the stream's start.
        boolean jpeg = isJpeg(reader.getFormatName());
        int orientation = jpeg ? ExifOrientation.read(in) : 1;
        in.seek(0);
        reader.setInput(in, true, true);
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        checkSize(file, h, w, fileLength, jpeg);
        boolean swap = ExifOrientation.swapsAxes(orientation);
        return new Header(swap ? w : h, swap ? h : w, reader.getFormatName(), orientation);
    }

    private static boolean isJpeg(String format) {
        return format != null && format.toLowerCase(Locale.ROOT).startsWith("jp");
    }

    /**
     * Most pixels one byte of a PNG can hold: deflate expands at most 1032:1 and a row of 1-bit pixels
     * packs 8 of them to the byte.
     */
    static final long PNG_PIXELS_PER_BYTE = 8 * 1032;

    /**
     * Most pixels one byte of a JPEG can hold, doubled as a margin: every 8×8 block of the
     * full-resolution component is coded with at least one bit (a one-bit DC code, the rest skipped by
     * end-of-band runs), so 512.
     */
    static final long JPEG_PIXELS_PER_BYTE = 2 * 64 * 8;

    /**
     * Refuses a header whose size is not positive, too large for one array, or larger than the file
     * could encode: ImageIO allocates the whole image before it reads the data, so a 100-byte file
     * claiming 20000×20000 pixels would otherwise cost gigabytes before failing.
     */
    private static void checkSize(Path file, int h, int w, long fileLength, boolean jpeg) {
        if (h <= 0 || w <= 0) {
            throw error(file + ": image header says " + w + "x" + h + " pixels; the file is damaged, replace or remove it");
        }
        long most = fileLength * (jpeg ? JPEG_PIXELS_PER_BYTE : PNG_PIXELS_PER_BYTE);
        if ((long) h * w > most) {
            throw error(file + ": image header says " + w + "x" + h + " pixels, more than a " + fileLength + "-byte "
                    + (jpeg ? "JPEG" : "PNG") + " can hold; the file is damaged or truncated, replace or remove it");
        }
        if ((long) h * w > MAX_PIXELS) {
            throw error(file + ": image of " + w + "x" + h + " pixels is too large to decode (at most " + MAX_PIXELS
                    + " pixels); shrink it or remove it");
        }
    }

    private static BitEngineException unreadable(Path file, Throwable e) {
        return error(file + ": cannot read image header: " + reason(e) + "; the file is damaged or not an image,"
                + " replace or remove it", e);
    }

    /** The image's samples as [h, w, 3] RGB 0..255 values (see the class comment). */
    static float[] toRgb(BufferedImage img, Path file) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[h * w * 3];
        ColorModel cm = img.getColorModel();
        if (!(cm instanceof ComponentColorModel)) {
            // Palettes (IndexColorModel) and packed RGB: getRGB only looks the values up, no colour conversion.
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                int o = y * w * 3;
                for (int x = 0; x < w; x++) {
                    int argb = row[x];
                    out[o++] = (argb >> 16) & 0xFF;
                    out[o++] = (argb >> 8) & 0xFF;
                    out[o++] = argb & 0xFF;
                }
            }
            return out;
        }
        int csType = cm.getColorSpace().getType();
        int colours = cm.getNumColorComponents();
        boolean grey = csType == ColorSpace.TYPE_GRAY && colours == 1;
        if (!grey && !(csType == ColorSpace.TYPE_RGB && colours == 3)) {
            throw error(file + ": unsupported colour space (" + colours + " colour components, e.g. a CMYK JPEG);"
                    + " convert the image to RGB or greyscale");
        }
        Raster raster = img.getRaster();
        int bands = raster.getNumBands();
        int bits = cm.getComponentSize(0);
        double max = bits >= 31 ? Integer.MAX_VALUE : (1L << bits) - 1;
        boolean eight = bits == 8;
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                int p = x * bands;
                if (grey) {
                    float v = eight ? row[p] : scale(row[p], max);
                    out[o++] = v;
                    out[o++] = v;
                    out[o++] = v;
                } else {
                    for (int ch = 0; ch < 3; ch++) {
                        out[o++] = eight ? row[p + ch] : scale(row[p + ch], max);
                    }
                }
            }
        }
        return out;
    }

    private static float scale(int v, double max) {
        return (float) Math.rint(Math.min(Math.max(v, 0), max) * 255.0 / max);
    }
}
