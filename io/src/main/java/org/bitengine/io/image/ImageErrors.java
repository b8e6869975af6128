package org.bitengine.io.image;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import org.bitengine.engine.BitEngineException;

/** Builds the one-line {@link BitEngineException}s of this package. */
final class ImageErrors {

    private ImageErrors() {
    }

    /** File names and messages of decoders are user data and may hold line breaks; the CLI needs one line. */
    static BitEngineException error(String message) {
        return new BitEngineException(oneLine(message));
    }

    static BitEngineException error(String message, Throwable cause) {
        return new BitEngineException(oneLine(message), cause);
    }

    static String oneLine(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c == '\n' || c == '\r' || c == '\u2028' || c == '\u2029' || c == '\u0085' ? ' ' : c);
        }
        return sb.toString();
    }

    /** A short reason for a failure, without the path the caller already names. */
    static String reason(Throwable e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        String m = e.getMessage();
        if (e instanceof IOException) {
            return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
        }
        // A decoder's unchecked exception (IndexOutOfBounds, IllegalArgument...) on malformed data.
        return "malformed data (" + e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m) + ")";
    }
}
