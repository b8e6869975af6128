package org.bitengine.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class KernelsTest {

    /**
     * Every kernel the CUDA backend will launch, by module, with the PTX type of each parameter in
     * order: a pointer is .u64, a long long count .u64 too, a float .f32. A reordered or retyped
     * argument in a .cu shows up here before it corrupts memory on a GPU.
     */
    private static final Map<String, Map<String, List<String>>> EXPECTED = Map.of(
            "elementwise", Map.of(
                    "relu_fwd_f32", List.of("u64", "u64", "u64"),
                    "relu_bwd_f32", List.of("u64", "u64", "u64", "u64"),
                    "add_f32", List.of("u64", "u64", "u64", "u64")),
            "sgd", Map.of(
                    "sgd_momentum_f32", List.of("u64", "u64", "u64", "f32", "f32", "u64")));

    private static void assumeCompiled() {
        assumeTrue(Kernels.compiled(),
                () -> "nvcc was not available at build time, so there is no PTX to check: "
                        + Kernels.unavailableReason());
    }

    @Test
    void unknownModuleIsEmpty() {
        assertEquals(Optional.empty(), Kernels.ptx("no_such_module"));
        assertEquals(Optional.empty(), Kernels.ptx("index")); // the index is not a module
        assertEquals(Optional.empty(), Kernels.ptx("../Kernels"));
        assertEquals(Optional.empty(), Kernels.ptx(""));
    }

    @Test
    void reasonIsOneLineExactlyWhenNothingIsCompiled() {
        String reason = Kernels.unavailableReason();
        if (Kernels.compiled()) {
            assertEquals("", reason);
            assertFalse(Kernels.modules().isEmpty());
        } else {
            assertTrue(Kernels.modules().isEmpty(), "modules() must be empty when not compiled");
            assertFalse(reason.isBlank());
            assertFalse(reason.contains("\n"), "the reason must be one line: " + reason);
            assertTrue(reason.contains("nvcc"), reason);
            assertEquals(Optional.empty(), Kernels.ptx("elementwise"));
        }
    }

    @Test
    void modulesAreSortedAndIncludeTheExpectedOnes() {
        assumeCompiled();
        List<String> modules = Kernels.modules();
        assertEquals(new ArrayList<>(new TreeSet<>(modules)), modules);
        assertTrue(modules.containsAll(EXPECTED.keySet()), "modules " + modules);
    }

    @Test
    void everyModuleIsPtxWithVersionAndTarget() {
        assumeCompiled();
        for (String module : Kernels.modules()) {
            String ptx = Kernels.ptx(module).orElseThrow();
            assertTrue(Pattern.compile("^\\.version \\d+\\.\\d+\\s*$", Pattern.MULTILINE).matcher(ptx).find(),
                    module + ".ptx declares no .version");
            assertTrue(Pattern.compile("^\\.target sm_\\d+\\w*\\s*$", Pattern.MULTILINE).matcher(ptx).find(),
                    module + ".ptx declares no .target");
            assertTrue(Pattern.compile("^\\.address_size 64\\s*$", Pattern.MULTILINE).matcher(ptx).find(),
                    module + ".ptx is not 64-bit");
        }
    }

    @Test
    void everyKernelIsAnUnmangledEntryWithItsDocumentedParameters() {
        assumeCompiled();
        EXPECTED.forEach((module, kernels) -> {
            String ptx = Kernels.ptx(module).orElseThrow(() -> new AssertionError("no module " + module));
            kernels.forEach((kernel, types) -> assertEquals(types, parameterTypes(ptx, kernel),
                    module + ".ptx: parameters of .entry " + kernel));
        });
    }

    /** The index the build wrote names exactly the .cu files of src/main/cuda. */
    @Test
    void indexMatchesTheSources() throws IOException {
        assumeCompiled();
        Path cuda = Path.of("src/main/cuda"); // surefire runs in the module directory
        assumeTrue(Files.isDirectory(cuda), "the sources are not next to this test run");
        TreeSet<String> sources = new TreeSet<>();
        try (Stream<Path> files = Files.walk(cuda)) {
            files.filter(p -> p.toString().endsWith(".cu")).forEach(p -> {
                String rel = cuda.relativize(p).toString().replace('\\', '/');
                sources.add(rel.substring(0, rel.length() - ".cu".length()));
            });
        }
        assertEquals(List.copyOf(sources), Kernels.modules());
    }

    /** The parameter types of {@code .entry kernel(...)}, in order; fails when there is no such entry. */
    private static List<String> parameterTypes(String ptx, String kernel) {
        Matcher entry = Pattern.compile("\\.visible\\s+\\.entry\\s+" + Pattern.quote(kernel) + "\\s*\\(([^)]*)\\)")
                .matcher(ptx);
        assertTrue(entry.find(), "no '.visible .entry " + kernel + "(' (missing, or a mangled C++ name?)");
        List<String> types = new ArrayList<>();
        Matcher param = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+(\\w+)").matcher(entry.group(1));
        while (param.find()) {
            types.add(param.group(1));
        }
        return types;
    }
}
