package org.bitengine.io.image;

import java.io.EOFException;
import java.io.IOException;
import javax.imageio.stream.ImageInputStream;

/**
 * The EXIF orientation of a JPEG (TIFF tag 0x0112 in IFD0 of the APP1 "Exif" segment), read by hand
 * because ImageIO's JPEG reader ignores it: a phone photo taken upright is stored sideways with
 * orientation 6 and would otherwise be fed to the network rotated.
 *
 * <p>Values, as in the EXIF specification (and PIL's {@code ImageOps.exif_transpose}): 1 normal,
 * 2 mirrored left-right, 3 rotated 180°, 4 mirrored top-bottom, 5 transposed (mirror across the main
 * diagonal), 6 needs a 90° clockwise turn, 7 transversed (mirror across the anti-diagonal), 8 needs a
 * 90° counter-clockwise turn. 5..8 swap height and width.
 */
public final class ExifOrientation {

    /** An APP1 segment is at most 64 KiB; the markers before it are few. */
    private static final int MAX_SEGMENTS = 64;
    private static final int TAG_ORIENTATION = 0x0112;
    private static final int TYPE_SHORT = 3;

    private ExifOrientation() {
    }

    /**
     * The orientation (1..8) of the JPEG read from the start of {@code in}; 1 when the stream is not a
     * JPEG, has no EXIF block, or its EXIF block is malformed (a damaged tag is not worth refusing an
     * image that decodes). Reads from position 0 and stops at the first scan.
     */
    public static int read(ImageInputStream in) throws IOException {
        in.seek(0);
        try {
            if (in.readUnsignedShort() != 0xFFD8) {
                return 1;
            }
            for (int s = 0; s < MAX_SEGMENTS; s++) {
                if (in.readUnsignedByte() != 0xFF) {
                    return 1;
                }
                int marker = in.readUnsignedByte();
                while (marker == 0xFF) { // fill bytes
                    marker = in.readUnsignedByte();
                }
                if (marker == 0xDA || marker == 0xD9) { // start of scan / end of image: no EXIF before it
                    return 1;
                }
                if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { // stand-alone markers
                    continue;
                }
                int length = in.readUnsignedShort();
                if (length < 2) {
                    return 1;
                }
                if (marker == 0xE1 && length >= 2 + 6 + 8) {
                    byte[] seg = new byte[length - 2];
                    in.readFully(seg);
                    if (seg[0] == 'E' && seg[1] == 'x' && seg[2] == 'i' && seg[3] == 'f' && seg[4] == 0 && seg[5] == 0) {
                        return fromTiff(seg, 6);
                    }
                } else {
                    in.skipBytes(length - 2);
                }
            }
            return 1;
        } catch (EOFException e) {
            return 1;
        }
    }

    /** The orientation tag of IFD0 of the TIFF structure starting at {@code base}; 1 when absent or bad. */
    static int fromTiff(byte[] b, int base) {
        int n = b.length - base;
        if (n < 8) {
            return 1;
        }
        boolean little;
        if (b[base] == 'I' && b[base + 1] == 'I') {
            little = true;
        } else if (b[base] == 'M' && b[base + 1] == 'M') {
            little = false;
        } else {
            return 1;
        }
        if (u16(b, base + 2, little) != 42) {
            return 1;
        }
        long ifd = u32(b, base + 4, little);
        if (ifd < 8 || ifd + 2 > n) {
            return 1;
        }
        int entries = u16(b, base + (int) ifd, little);
        for (int i = 0; i < entries; i++) {
            long at = ifd + 2 + 12L * i;
            if (at + 12 > n) {
                return 1;
            }
            int p = base + (int) at;
            if (u16(b, p, little) == TAG_ORIENTATION) {
                if (u16(b, p + 2, little) != TYPE_SHORT || u32(b, p + 4, little) < 1) {
                    return 1;
                }
                int v = u16(b, p + 8, little); // a single SHORT sits left-justified in the value field
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] b, int p, boolean little) {
        int a = b[p] & 0xFF;
        int c = b[p + 1] & 0xFF;
        return little ? a | c << 8 : a << 8 | c;
    }

    private static long u32(byte[] b, int p, boolean little) {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            int byteVal = b[p + (little ? 3 - i : i)] & 0xFF;
            v = v << 8 | byteVal;
        }
        return v;
    }

    /** Whether the orientation swaps height and width (5..8). */
    public static boolean swapsAxes(int orientation) {
        return orientation >= 5 && orientation <= 8;
    }

    /**
     * Turns {@code hwc} pixels [h, w, c] stored with {@code orientation} into upright pixels
     * ([w, h, c] for 5..8); returns the input array itself for orientation 1.
     */
    public static float[] apply(float[] hwc, int h, int w, int c, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return hwc;
        }
        boolean swap = swapsAxes(orientation);
        int oh = swap ? w : h;
        int ow = swap ? h : w;
        float[] out = new float[hwc.length];
        for (int r = 0; r < oh; r++) {
            for (int col = 0; col < ow; col++) {
                int sr;
                int sc;
                switch (orientation) {
                    case 2 -> { sr = r; sc = w - 1 - col; }
                    case 3 -> { sr = h - 1 - r; sc = w - 1 - col; }
                    case 4 -> { sr = h - 1 - r; sc = col; }
                    case 5 -> { sr = col; sc = r; }
                    case 6 -> { sr = h - 1 - col; sc = r; }
                    case 7 -> { sr = h - 1 - col; sc = w - 1 - r; }
                    default -> { sr = col; sc = w - 1 - r; } // 8
                }
                System.arraycopy(hwc, (sr * w + sc) * c, out, (r * ow + col) * c, c);
            }
        }
        return out;
    }
}
