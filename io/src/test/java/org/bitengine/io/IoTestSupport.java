package org.bitengine.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.bitengine.engine.BitEngineException;
import org.junit.jupiter.api.function.Executable;

/** Test resources, a folder listing and the user-error assertion shared by the io tests of every package. */
public final class IoTestSupport {

    private IoTestSupport() {
    }

    /** A file or folder of src/test/resources, e.g. {@code "npy/simple.npy"}. */
    public static Path resource(String path) {
        URL url = IoTestSupport.class.getResource("/" + path);
        if (url == null) {
            throw new AssertionError("missing test fixture " + path);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The names of the entries of {@code dir}, sorted (to check that a write left nothing behind). */
    public static List<String> filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Asserts that {@code call} fails with exactly a BitEngineException whose message is one line and
     * contains every fragment (file name, key, ...); returns the message.
     */
    public static String assertUserError(Executable call, String... fragments) {
        Throwable thrown = null;
        try {
            call.execute();
        } catch (Throwable e) {
            thrown = e;
        }
        if (thrown == null) {
            fail("expected a BitEngineException containing " + List.of(fragments) + ", nothing was thrown");
        }
        Throwable t = thrown;
        assertInstanceOf(BitEngineException.class, t, () -> "wrong exception type: " + t);
        String m = t.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), () -> "message is not one line: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "message lacks '" + f + "': " + m);
        }
        return m;
    }
}
