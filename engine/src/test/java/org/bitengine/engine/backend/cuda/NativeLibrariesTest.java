package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cuda.bindings.NativeLibraries;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the NVIDIA libraries are looked for, and what a user reads when one is missing. */
class NativeLibrariesTest {

    @Test
    void explicitDirectoriesComeFirstThenLdLibraryPathThenPythonWheels(@TempDir Path tmp) throws IOException {
        Path explicit = Files.createDirectories(tmp.resolve("explicit"));
        Path fromProperty = Files.createDirectories(tmp.resolve("property"));
        Path ld = Files.createDirectories(tmp.resolve("ld"));
        Path venv = tmp.resolve("venv");
        Path site = Files.createDirectories(venv.resolve("lib/python3.12/site-packages"));
        Path cudnn = Files.createDirectories(site.resolve("nvidia/cudnn/lib"));
        Path cublas = Files.createDirectories(site.resolve("nvidia/cublas/lib"));
        Path cu13 = Files.createDirectories(site.resolve("nvidia/cu13/x/lib"));
        Map<String, String> env = Map.of("BITENGINE_CUDA_LIBS", explicit.toString(), "LD_LIBRARY_PATH",
                ld + ":" + tmp.resolve("does-not-exist"), "VIRTUAL_ENV", venv.toString(), "HOME", tmp.toString());

        List<Path> dirs = NativeLibraries.searchDirectories(env, null);
        assertEquals(List.of(explicit, ld, cublas, cudnn, cu13), dirs.subList(0, 5));
        assertFalse(dirs.contains(tmp.resolve("does-not-exist")), "missing directories are left out");

        List<Path> withProperty = NativeLibraries.searchDirectories(env, fromProperty.toString());
        assertEquals(fromProperty, withProperty.get(0), "the system property wins over the environment variable");
        assertFalse(withProperty.contains(explicit));
    }

    @Test
    void aMissingLibraryNamesWhatWasLookedForAndWhere() {
        BitEngineException e = assertThrows(BitEngineException.class, () -> NativeLibraries.open("cuDNN 9",
                List.of("libbitengine_absent.so.9"), List.of(), "install cuDNN 9"));
        String m = e.getMessage();
        assertTrue(m.startsWith("cuDNN 9 not found: looked for libbitengine_absent.so.9 in "), m);
        assertTrue(m.contains("system loader"), m);
        assertTrue(m.contains("install cuDNN 9"), m);
        assertTrue(m.contains(NativeLibraries.ENV), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void aFileThatIsNotALibraryIsReportedAsFoundButNotOpened(@TempDir Path tmp) throws IOException {
        Files.createFile(tmp.resolve("libbitengine_fake.so.1")); // empty: not an ELF file
        String old = System.getProperty(NativeLibraries.PROPERTY);
        System.setProperty(NativeLibraries.PROPERTY, tmp.toString());
        try {
            BitEngineException e = assertThrows(BitEngineException.class, () -> NativeLibraries.open("fake",
                    List.of("libbitengine_fake.so.1"), List.of(), "nothing to install"));
            assertTrue(e.getMessage().contains("found but could not open " + tmp.resolve("libbitengine_fake.so.1")), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(NativeLibraries.PROPERTY);
            else System.setProperty(NativeLibraries.PROPERTY, old);
        }
    }
}
