package org.bitengine.io.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bitengine.io.IoTestSupport;

/** Fixtures of src/test/resources/data for the image tests. */
final class ImageTestSupport {

    private ImageTestSupport() {
    }

    /** A file of src/test/resources/data. */
    static Path fixture(String name) {
        return IoTestSupport.resource("data/" + name);
    }

    /** A raw 8-bit fixture as floats 0..255. */
    static float[] raw(String name) {
        try {
            byte[] b = Files.readAllBytes(fixture(name));
            float[] f = new float[b.length];
            for (int i = 0; i < b.length; i++) {
                f[i] = b[i] & 0xFF;
            }
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
