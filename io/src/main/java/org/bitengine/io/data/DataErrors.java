package org.bitengine.io.data;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.zip.ZipException;
import org.bitengine.engine.BitEngineException;

/** Builds the one-line {@link BitEngineException}s of this package. */
final class DataErrors {

    private DataErrors() {
    }

    /** Paths and decoder messages are user data and may hold line breaks; the CLI needs one line. */
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

    /** A short reason for an I/O failure, without the path the caller already names. */
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
        if (e instanceof EOFException) {
            return "the file ends early";
        }
        if (e instanceof ZipException) {
            return "corrupt compressed data (" + e.getMessage() + ")";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
