package org.bitengine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.zip.ZipException;
import org.junit.jupiter.api.Test;

class IoErrorsTest {

    @Test
    void reasonsAreShortAndLeaveThePathToTheCaller() {
        assertEquals("no such file", IoErrors.reason(new NoSuchFileException("/a/b")));
        assertEquals("permission denied", IoErrors.reason(new AccessDeniedException("/a/b")));
        assertEquals("Not a directory", IoErrors.reason(new FileSystemException("/a/b", null, "Not a directory")));
        assertEquals("the file ends early", IoErrors.reason(new EOFException()));
        assertEquals("corrupt compressed data (invalid block type)", IoErrors.reason(new ZipException("invalid block type")));
        assertEquals("disk full", IoErrors.reason(new IOException("disk full")));
        assertEquals("IOException", IoErrors.reason(new IOException()));
        assertEquals("malformed data (ArrayIndexOutOfBoundsException: Index 9 out of bounds for length 4)",
                IoErrors.reason(new ArrayIndexOutOfBoundsException("Index 9 out of bounds for length 4")));
        assertEquals("malformed data (IllegalStateException)", IoErrors.reason(new IllegalStateException()));
    }

    @Test
    void messagesAreOneLine() {
        assertEquals("a b c d e", IoErrors.error("a\nb\rc\u2028d\u0085e").getMessage());
        assertEquals("ab?c...", IoErrors.quote("ab\u0001cdef", 4));
        assertEquals("abc", IoErrors.quote("abc", 4));
    }
}
