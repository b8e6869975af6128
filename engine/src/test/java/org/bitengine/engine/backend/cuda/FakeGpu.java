package org.bitengine.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.bitengine.engine.backend.cuda.bindings.NativeLibraries;
import org.bitengine.kernels.Kernels;

/**
 * A CUDA backend over stand-ins for libcuda, cuBLAS and cuDNN (the sources in
 * {@code src/test/resources/.../cuda/fake}), built with the system C++ compiler once per test JVM:
 * device memory is host memory; the kernels of kernels/src/main/cuda run on the CPU (compiled as
 * host C++ through {@code kernel_emulation.h}, launched through the driver's parameter array);
 * SGEMM and the three convolutions are naive loops in cuBLAS's and cuDNN's documented layouts. The
 * driver stand-in is compiled against CUDA's cuda.h, so its prototypes and exported names are the
 * real driver's.
 *
 * <p>Tests using it abort (skip) with the reason where it cannot be built: a real GPU is usable (then
 * the real suite runs instead), no C++ compiler, no cuda.h, no kernel sources next to the build, or no PTX (the backend loads the PTX modules and
 * checks every kernel name against them before any launch).
 */
// Native access is what this class is for (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
final class FakeGpu {

    private static CudaBackend backend;
    private static MethodHandle launches;
    private static String unavailable;

    private FakeGpu() {}

    static synchronized CudaBackend backend() {
        if (backend == null && unavailable == null) {
            try {
                unavailable = build();
            } catch (IOException | InterruptedException e) {
                unavailable = "could not build the fake GPU: " + e;
            }
        }
        if (unavailable != null) abort("fake GPU unavailable: " + unavailable);
        return backend;
    }

    /** Kernel launches the fake driver has run so far. */
    static int launches() {
        backend();
        try {
            return (int) launches.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Builds and opens the fake; returns why not, or null. */
    private static String build() throws IOException, InterruptedException {
        // Where a real GPU works, the real suite runs; a second, fake driver in the same JVM would
        // only add time and the chance of confusing the two.
        if (Gpu.unavailableReason() == null) return "a real GPU is usable here; the fake is for machines without one";
        if (!Kernels.compiled()) return "no PTX in this build: " + Kernels.unavailableReason();
        Path include = firstWith("cuda.h", System.getenv("CUDA_HOME") == null ? null : Path.of(System.getenv("CUDA_HOME"), "include"),
                Path.of("/usr/local/cuda/include"));
        if (include == null) return "no cuda.h in $CUDA_HOME/include or /usr/local/cuda/include";
        // Surefire runs in the module directory; the kernel sources are in the kernels module beside it.
        Path kernels = firstWith("common.cuh", Path.of("..", "kernels", "src", "main", "cuda"), Path.of("kernels", "src", "main", "cuda"));
        if (kernels == null) return "the kernel sources (kernels/src/main/cuda) are not next to this test run";
        Path dir = Files.createTempDirectory("bitengine-fake-gpu");
        for (String r : List.of("fake_cuda.cpp", "kernel_emulation.h", "fake_cublas.c", "fake_cudnn.c")) {
            try (InputStream in = FakeGpu.class.getResourceAsStream("fake/" + r)) {
                if (in == null) return "missing test resource fake/" + r;
                Files.copy(in, dir.resolve(r));
            }
        }
        String failed = compile(dir, "fake_cuda.cpp", "libcuda.so.1",
                List.of("c++", "-std=c++17", "-pthread", "-Wno-sign-compare", "-I" + include, "-I" + kernels.toAbsolutePath(), "-I" + dir));
        if (failed == null) failed = compile(dir, "fake_cublas.c", "libcublas.so.13", List.of("cc"));
        if (failed == null) failed = compile(dir, "fake_cudnn.c", "libcudnn.so.9", List.of("cc"));
        if (failed != null) return failed;

        String old = System.getProperty(NativeLibraries.PROPERTY);
        System.setProperty(NativeLibraries.PROPERTY, dir.toString());
        try {
            backend = CudaBackend.open(CudaOptions.defaults(0).withTf32(false));
        } finally {
            if (old == null) System.clearProperty(NativeLibraries.PROPERTY);
            else System.setProperty(NativeLibraries.PROPERTY, old);
        }
        SymbolLookup lib = SymbolLookup.libraryLookup(dir.resolve("libcuda.so.1"), Arena.global());
        launches = Linker.nativeLinker().downcallHandle(lib.find("fake_cuda_launches").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
        return null;
    }

    private static Path firstWith(String file, Path... dirs) {
        for (Path d : dirs) if (d != null && Files.isRegularFile(d.resolve(file))) return d;
        return null;
    }

    /** Compiles {@code source} in {@code dir} into the shared library {@code library}; returns why it failed, or null. */
    private static String compile(Path dir, String source, String library, List<String> compiler) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(compiler);
        cmd.addAll(List.of("-shared", "-fPIC", "-O2", "-Wall", "-Werror",
                // A soname of its own, so that no later dlopen("libcuda.so.1") by bare name resolves to it.
                "-Wl,-soname,libbitengine_fake_" + library, dir.resolve(source).toString(), "-o", dir.resolve(library).toString()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? null : String.join(" ", cmd) + " failed: " + output.replace('\n', ' ');
        } catch (IOException e) {
            return "no compiler " + compiler.get(0) + " on the PATH";
        }
    }
}
