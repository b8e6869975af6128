package org.bitengine.io.data;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bitengine.io.IoTestSupport;

/** Fixtures and assertions shared by the data tests. */
final class DataTestSupport {

    private DataTestSupport() {
    }

    /** A file or folder of src/test/resources/data. */
    static Path fixture(String name) {
        return IoTestSupport.resource("data/" + name);
    }

    /** The shipped sample dataset (tests run in the io module's folder). */
    static Path sample() {
        for (Path p : new Path[] {Path.of("..", "samples", "fashion-mnist-small"), Path.of("samples", "fashion-mnist-small")}) {
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new AssertionError("samples/fashion-mnist-small not found from " + Path.of("").toAbsolutePath());
    }

    /** Copies a fixture folder into {@code target} (tests that change files work on the copy). */
    static Path copyFixture(String name, Path target) {
        Path src = fixture(name);
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = target.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    /** A warnings sink that keeps the lines. */
    static final class Warnings implements java.util.function.Consumer<String> {
        final List<String> lines = new ArrayList<>();

        @Override
        public synchronized void accept(String s) {
            assertFalse(s.contains("\n"), () -> "warning is not one line: " + s);
            lines.add(s);
        }

        synchronized List<String> lines() {
            return List.copyOf(lines);
        }
    }
}
