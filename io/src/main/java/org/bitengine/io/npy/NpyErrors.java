package org.bitengine.io.npy;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import org.bitengine.engine.BitEngineException;

/** Builds the one-line {@link BitEngineException}s of this package. */
final class NpyErrors {

    private NpyErrors() {
    }

    /**
     * An exception whose message is guaranteed to be one line: paths, keys and messages of
     * underlying exceptions are user data and may contain line breaks, which would break the CLI's
     * one-line error contract.
     */
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

    /** A short reason for an I/O failure, without repeating the path that the caller already names. */
    static String reason(IOException e) {
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
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** Header text quoted for a message: control bytes made visible, long text cut. */
    static String quote(String text, int max) {
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
