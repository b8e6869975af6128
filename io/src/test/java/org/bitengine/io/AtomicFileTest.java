package org.bitengine.io;

import static org.bitengine.io.IoTestSupport.assertUserError;
import static org.bitengine.io.IoTestSupport.filesIn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @Test
    void wholeFileWritesReplaceTheTargetAndLeaveNothingElse(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("latest");
        AtomicFile.writeString(target, "step-000100\n");
        assertEquals("step-000100\n", Files.readString(target));
        AtomicFile.writeString(target, "ünïcode\n");
        assertEquals("ünïcode\n", Files.readString(target));
        byte[] big = new byte[3 << 20];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        AtomicFile.writeBytes(target, big);
        assertArrayEquals(big, Files.readAllBytes(target));
        AtomicFile.write(target, out -> {
            for (int i = 0; i < 1000; i++) out.write(i);
        });
        assertEquals(1000, Files.size(target));
        assertEquals(List.of("latest"), filesIn(dir));
    }

    @Test
    void theTargetGetsTheModeOfANewFileNotOwnerOnly(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null, "not a POSIX file system");
        Set<PosixFilePermission> fresh = Files.getPosixFilePermissions(Files.createFile(dir.resolve("fresh")));
        Path target = dir.resolve("report.csv");
        AtomicFile.writeString(target, "a,b\n");
        assertEquals(fresh, Files.getPosixFilePermissions(target), "not owner-only like Files.createTempFile");
    }

    @Test
    void nothingReplacesTheTargetWithoutCommit(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("w.bin");
        Files.writeString(target, "old");
        Path temp;
        try (AtomicFile f = AtomicFile.create(target)) {
            f.stream().write(new byte[] {1, 2, 3});
            temp = f.tempPath();
            assertEquals(dir, temp.getParent());
            assertTrue(Files.exists(temp));
        }
        assertFalse(Files.exists(temp));
        assertEquals("old", Files.readString(target));

        AtomicFile f = AtomicFile.create(target);
        f.stream().write(new byte[] {4});
        f.commit();
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(target));
        assertThrows(IllegalStateException.class, f::commit);
        f.close();
        assertEquals(List.of("w.bin"), filesIn(dir));
    }

    @Test
    void aFailingBodyLeavesTheTargetAndNoTemporaryFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("plot.png");
        Files.writeString(target, "old");
        assertUserError(() -> AtomicFile.write(target, out -> {
            out.write(7);
            throw new IOException("no PNG writer\nin this runtime");
        }), "plot.png", "cannot write", "no PNG writer");
        assertThrows(IllegalArgumentException.class, () -> AtomicFile.write(target, out -> {
            throw new IllegalArgumentException("bug");
        }));
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("plot.png"), filesIn(dir));
    }

    @Test
    void badTargetsAreOneClearLine(@TempDir Path dir) throws IOException {
        assertUserError(() -> AtomicFile.writeString(dir.resolve("no/such/dir/x.txt"), "x"), "x.txt", "does not exist");
        Files.createDirectories(dir.resolve("sub"));
        assertUserError(() -> AtomicFile.writeString(dir.resolve("sub"), "x"), "sub", "is a directory");
    }
}
