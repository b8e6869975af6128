package org.bitengine.io.data;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.zip.GZIPOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.bitengine.io.npy.NpyArray;
import org.bitengine.io.npy.NpzWriter;

/**
 * Writes the fixtures of src/test/resources/data (see its README). Not a test: run it by hand with
 * {@code java -cp io/target/test-classes:io/target/classes:engine/target/classes
 * org.bitengine.io.data.FixtureGenerator io/src/test/resources/data}. The tests check the values
 * these files hold, so they are described here and in the README rather than regenerated per run.
 */
public final class FixtureGenerator {

    private FixtureGenerator() {
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path out = Path.of(args.length > 0 ? args[0] : "io/src/test/resources/data");
        folder(out.resolve("folder"));
        exif(out.resolve("exif"));
        idx(out);
        cifar(out);
        npz(out.resolve("npz"));
    }

    // ---------------------------------------------------------------------------------------------
    // Image folder

    /** Pixel (y, x, channel) of the colour test pattern: distinct, easy to predict values. */
    static int pattern(int y, int x, int c) {
        return (y * 40 + x * 7 + c * 90) % 256;
    }

    private static void folder(Path root) throws IOException {
        Path cat = Files.createDirectories(root.resolve("cat"));
        Path dog = Files.createDirectories(root.resolve("dog"));
        Path bird = Files.createDirectories(root.resolve("bird").resolve("sub"));

        BufferedImage rgb = new BufferedImage(6, 8, BufferedImage.TYPE_INT_RGB); // w 6, h 8
        fill(rgb);
        ImageIO.write(rgb, "png", cat.resolve("a_rgb.png").toFile());

        BufferedImage grey = new BufferedImage(7, 5, BufferedImage.TYPE_BYTE_GRAY); // w 7, h 5
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
                grey.getRaster().setSample(x, y, 0, y * 50 + x * 3);
            }
        }
        ImageIO.write(grey, "png", cat.resolve("b_grey.png").toFile());

        BufferedImage rgba = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                // alpha varies, colour must come out as stored (alpha dropped, not composited)
                rgba.setRGB(x, y, (x * 60) << 24 | pattern(y, x, 0) << 16 | pattern(y, x, 1) << 8 | pattern(y, x, 2));
            }
        }
        ImageIO.write(rgba, "png", cat.resolve("c_rgba.PNG").toFile());
        Files.writeString(cat.resolve("notes.txt"), "not an image\n");

        BufferedImage photo = new BufferedImage(10, 12, BufferedImage.TYPE_INT_RGB);
        fill(photo);
        writeJpeg(photo, dog.resolve("a_photo.jpg"), 0.95f);

        BufferedImage grey16 = new BufferedImage(6, 6, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                grey16.getRaster().setSample(x, y, 0, (y * 6 + x) * 7 * 257); // 8-bit value (y*6+x)*7
            }
        }
        ImageIO.write(grey16, "png", dog.resolve("b_grey16.png").toFile());

        Files.write(dog.resolve("c_corrupt.png"), "this is not a PNG, just text with a .png name\n"
                .getBytes(StandardCharsets.US_ASCII));

        byte[] r = {(byte) 255, 0, 0, (byte) 200};
        byte[] g = {0, (byte) 255, 0, (byte) 100};
        byte[] b = {0, 0, (byte) 255, 50};
        BufferedImage palette = new BufferedImage(3, 3, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(2, 4, r, g, b));
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 3; x++) {
                palette.getRaster().setSample(x, y, 0, (x + y) % 4);
            }
        }
        ImageIO.write(palette, "png", dog.resolve("d_palette.png").toFile());

        BufferedImage greyJpeg = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                greyJpeg.getRaster().setSample(x, y, 0, 128);
            }
        }
        writeJpeg(greyJpeg, bird.resolve("x_grey.JPEG"), 0.95f);
    }

    private static void fill(BufferedImage img) {
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, pattern(y, x, 0) << 16 | pattern(y, x, 1) << 8 | pattern(y, x, 2));
            }
        }
    }

    static byte[] jpegBytes(BufferedImage img, float quality) throws IOException {
        Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter w = it.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(bytes)) {
            w.setOutput(ios);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
        return bytes.toByteArray();
    }

    private static void writeJpeg(BufferedImage img, Path file, float quality) throws IOException {
        Files.write(file, jpegBytes(img, quality));
    }

    // ---------------------------------------------------------------------------------------------
    // EXIF orientation

    /** 16 rows × 24 columns: top-left red, top-right green, bottom-left blue, bottom-right white. */
    static BufferedImage quadrants() {
        BufferedImage img = new BufferedImage(24, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 24; x++) {
                boolean top = y < 8;
                boolean left = x < 12;
                int rgb = top ? (left ? 0xFF0000 : 0x00FF00) : (left ? 0x0000FF : 0xFFFFFF);
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    private static void exif(Path dir) throws IOException {
        Files.createDirectories(dir);
        byte[] plain = jpegBytes(quadrants(), 1.0f);
        Files.write(dir.resolve("orient1.jpg"), plain);
        for (int o = 2; o <= 8; o++) { // 6 in big-endian TIFF, the others little-endian
            Files.write(dir.resolve("orient" + o + ".jpg"), withExif(plain, o, o != 6));
        }
    }

    /**
     * The JPEG with an APP1 Exif segment inserted after its JFIF APP0: a TIFF header in little
     * ("II") or big ("MM") endian order and an IFD0 with two entries, Make (ASCII "Bit") and
     * Orientation (SHORT).
     */
    static byte[] withExif(byte[] jpeg, int orientation, boolean little) {
        ByteBuffer t = ByteBuffer.allocate(8 + 2 + 2 * 12 + 4).order(little ? java.nio.ByteOrder.LITTLE_ENDIAN
                : java.nio.ByteOrder.BIG_ENDIAN);
        t.put((byte) (little ? 'I' : 'M')).put((byte) (little ? 'I' : 'M')).putShort((short) 42).putInt(8);
        t.putShort((short) 2);
        t.putShort((short) 0x010F).putShort((short) 2).putInt(4).put(new byte[] {'B', 'i', 't', 0});
        t.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        t.putInt(0);
        byte[] tiff = t.array();
        int len = 2 + 6 + tiff.length;
        ByteArrayOutputStream seg = new ByteArrayOutputStream();
        seg.write(0xFF);
        seg.write(0xE1);
        seg.write(len >> 8);
        seg.write(len & 0xFF);
        seg.writeBytes(new byte[] {'E', 'x', 'i', 'f', 0, 0});
        seg.writeBytes(tiff);
        // after SOI (2 bytes) and the APP0 segment (marker + its length)
        int app0End = 2;
        if ((jpeg[2] & 0xFF) == 0xFF && (jpeg[3] & 0xFF) == 0xE0) {
            app0End = 4 + ((jpeg[4] & 0xFF) << 8 | (jpeg[5] & 0xFF));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, app0End);
        out.writeBytes(seg.toByteArray());
        out.write(jpeg, app0End, jpeg.length - app0End);
        return out.toByteArray();
    }

    // ---------------------------------------------------------------------------------------------
    // idx

    /** idx image bytes: image i, pixel (y, x) = (i * 20 + y * 4 + x) % 256. */
    static byte[] idxImages(int n, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
        b.putInt(0x803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < rows * cols; p++) {
                b.put((byte) ((i * 20 + p) % 256));
            }
        }
        return b.array();
    }

    static byte[] idxLabels(int[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(0x801).putInt(labels.length);
        for (int l : labels) {
            b.put((byte) l);
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }

    private static void idx(Path out) throws IOException {
        Path dir = Files.createDirectories(out.resolve("idx"));
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(idxImages(6, 4, 3)));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(idxLabels(new int[] {0, 1, 2, 0, 1, 2})));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), idxImages(3, 4, 3));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idxLabels(new int[] {2, 1, 0}));

        Path bad = Files.createDirectories(out.resolve("idx-truncated"));
        byte[] images = idxImages(6, 4, 3);
        Files.write(bad.resolve("train-images-idx3-ubyte"), Arrays.copyOf(images, images.length - 5));
        Files.write(bad.resolve("train-labels-idx1-ubyte"), idxLabels(new int[] {0, 1, 2, 0, 1, 2}));
    }

    // ---------------------------------------------------------------------------------------------
    // CIFAR

    /** A CIFAR record: labels then planes; pixel (c, y, x) = (r * 31 + c * 80 + y * 8 + x) % 256. */
    static byte[] cifarRecords(int[][] labels) {
        int lb = labels[0].length;
        byte[] out = new byte[labels.length * (lb + 3072)];
        int o = 0;
        for (int r = 0; r < labels.length; r++) {
            for (int l : labels[r]) {
                out[o++] = (byte) l;
            }
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        out[o++] = (byte) ((r * 31 + c * 80 + y * 8 + x) % 256);
                    }
                }
            }
        }
        return out;
    }

    private static void cifar(Path out) throws IOException {
        Path c10 = Files.createDirectories(out.resolve("cifar10"));
        Files.write(c10.resolve("data_batch_1.bin"), cifarRecords(new int[][] {{3}, {7}, {0}, {9}, {3}}));
        Files.write(c10.resolve("data_batch_2.bin"), cifarRecords(new int[][] {{1}, {2}}));
        Files.write(c10.resolve("test_batch.bin"), cifarRecords(new int[][] {{5}, {6}}));
        Files.writeString(c10.resolve("batches.meta.txt"),
                "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
        Path c100 = Files.createDirectories(out.resolve("cifar100"));
        Files.write(c100.resolve("train.bin"), cifarRecords(new int[][] {{1, 42}, {2, 99}, {0, 0}}));
        Files.write(c100.resolve("test.bin"), cifarRecords(new int[][] {{3, 17}}));
    }

    // ---------------------------------------------------------------------------------------------
    // npz

    private static void npz(Path dir) throws IOException {
        Files.createDirectories(dir);
        byte[] u8 = new byte[4 * 3 * 2 * 3];
        for (int i = 0; i < u8.length; i++) {
            u8[i] = (byte) (i * 10);
        }
        write(dir.resolve("u8.npz"), "x", NpyArray.ofBytes(new int[] {4, 3, 2, 3}, u8),
                "y", NpyArray.ofLongs(new int[] {4}, new long[] {1, 0, 3, 1}));
        float[] f32 = new float[3 * 2 * 2];
        for (int i = 0; i < f32.length; i++) {
            f32[i] = -1f + i * 0.125f;
        }
        write(dir.resolve("f32.npz"), "x", NpyArray.ofFloats(new int[] {3, 2, 2, 1}, f32),
                "y", NpyArray.ofInts(new int[] {3}, new int[] {0, 1, 0}));
        write(dir.resolve("missing_y.npz"), "x", NpyArray.ofBytes(new int[] {4, 3, 2, 3}, u8), "labels",
                NpyArray.ofLongs(new int[] {4}, new long[] {0, 0, 0, 0}));
        write(dir.resolve("count_mismatch.npz"), "x", NpyArray.ofBytes(new int[] {4, 3, 2, 3}, u8),
                "y", NpyArray.ofLongs(new int[] {3}, new long[] {0, 1, 2}));
        write(dir.resolve("negative_label.npz"), "x", NpyArray.ofBytes(new int[] {4, 3, 2, 3}, u8),
                "y", NpyArray.ofLongs(new int[] {4}, new long[] {0, 1, -1, 2}));
        write(dir.resolve("bad_rank.npz"), "x", NpyArray.ofBytes(new int[] {4, 18}, u8),
                "y", NpyArray.ofLongs(new int[] {4}, new long[] {0, 1, 1, 2}));
        write(dir.resolve("bad_dtype.npz"), "x", NpyArray.ofDoubles(new int[] {1, 2, 2, 1}, new double[4]),
                "y", NpyArray.ofLongs(new int[] {1}, new long[] {0}));
        write(dir.resolve("float_labels.npz"), "x", NpyArray.ofBytes(new int[] {4, 3, 2, 3}, u8),
                "y", NpyArray.ofFloats(new int[] {4}, new float[] {0, 1, 1, 0}));
        write(dir.resolve("bad_channels.npz"), "x", NpyArray.ofBytes(new int[] {4, 3, 3, 2}, new byte[72]),
                "y", NpyArray.ofLongs(new int[] {4}, new long[] {0, 1, 1, 2}));
    }

    private static void write(Path file, String k1, NpyArray a1, String k2, NpyArray a2) {
        try (NpzWriter w = NpzWriter.create(file)) {
            w.write(k1, a1);
            w.write(k2, a2);
            w.commit();
        }
    }
}
