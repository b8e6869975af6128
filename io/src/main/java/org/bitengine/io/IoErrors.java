package org.bitengine.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.zip.ZipException;
import org.bitengine.engine.BitEngineException;

/**
 * Builds the one-line {@link BitEngineException}s of the io module (DESIGN.md §5): what failed,
 * which file, what to do, on one line.
 */
public final class IoErrors {

    private IoErrors() {
    }

    /**
     * An exception whose message is guaranteed to be one line: paths, keys and messages of
     * underlying exceptions (decoders, zip) are user data and may contain line breaks, which would
     * break the CLI's one-line error contract.
     */
    public static BitEngineException error(String message) {
        return new BitEngineException(oneLine(message));
    }

    public static BitEngineException error(String message, Throwable cause) {
        return new BitEngineException(oneLine(message), cause);
    }

    /** {@code s} with every line break (including the Unicode ones) replaced by a space. */
    public static String oneLine(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c == '\n' || c == '\r' || c == '\u2028' || c == '\u2029' || c == '\u0085' ? ' ' : c);
        }
        return sb.toString();
    }

    /**
     * A short reason for a failure, without repeating the path that the caller already names. A
     * throwable that is not an {@link IOException} is a decoder's unchecked exception
     * (IndexOutOfBounds, IllegalArgument...) on malformed data, or an {@link OutOfMemoryError}.
     */
    public static String reason(Throwable e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        if (e instanceof EOFException) {
            return "the file ends early";
        }
        if (e instanceof ZipException) {
            return "corrupt compressed data (" + message(e) + ")";
        }
        if (e instanceof IOException) {
            return message(e);
        }
        String m = e.getMessage();
        return "malformed data (" + e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m) + ")";
    }

    /** The exception's own message, or its class's simple name when it has none. */
    public static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** Text from a file quoted for a message: control bytes made visible, long text cut. */
    public static String quote(String text, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < text.length() && sb.length() < max; i++) {
            char c = text.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (text.length() > max) {
            sb.append("...");
        }
        return sb.toString();
    }
}
