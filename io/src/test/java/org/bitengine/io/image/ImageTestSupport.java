package org.bitengine.io.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fixtures of src/test/resources/data for the image tests. */
final class ImageTestSupport {

    private ImageTestSupport() {
    }

    static Path fixture(String name) {
        URL url = ImageTestSupport.class.getResource("/data/" + name);
        if (url == null) {
            throw new AssertionError("missing test fixture data/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
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
