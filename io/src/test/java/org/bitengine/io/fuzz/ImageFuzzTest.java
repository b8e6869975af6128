package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.bitengine.io.data.Image;
import org.bitengine.io.image.ImageDecoder;
import org.junit.jupiter.api.io.TempDir;

/** Image decoding (JPEG with its EXIF orientation, PNG): the header reader, then the decoder. */
class ImageFuzzTest {

    /**
     * Largest image decoded while fuzzing. A small PNG can legitimately hold millions of pixels
     * (deflate packs 1-bit rows 8256 pixels to the byte); decoding them costs time, not coverage.
     */
    private static final long MAX_FUZZ_PIXELS = 1 << 20;

    @TempDir
    static Path dir;

    @FuzzTest
    void image(byte[] input) {
        Path file = FuzzSupport.write(dir, "a.png", input);
        FuzzSupport.expectOwnErrors(input.length, 64, () -> {
            ImageDecoder.Header h = ImageDecoder.readHeader(file);
            // The size is refused before ImageIO allocates it unless the bytes could hold it.
            assertTrue((long) h.height() * h.width() <= 8 * 1032L * input.length, h + " from " + input.length + " bytes");
            if ((long) h.height() * h.width() > MAX_FUZZ_PIXELS) {
                return;
            }
            Image img = ImageDecoder.decode(file);
            assertEquals(h.height(), img.height());
            assertEquals(h.width(), img.width());
            assertEquals(3L * h.height() * h.width(), img.pixels().length);
        });
    }
}
