package org.bitengine.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import java.util.Random;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.Devices;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.backend.cuda.bindings.NativeLibraries;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.kernels.Kernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend over stand-ins for libcuda, cuBLAS and cuDNN (the C files in
 * {@code src/test/resources/.../cuda/fake}, compiled here with the system C compiler, the driver
 * stand-in against CUDA's own cuda.h): host memory plays device memory, SGEMM and the convolutions are
 * naive loops in the documented layouts, and three kernels (transpose, pad, crop) run in C.
 *
 * <p>What this checks without a GPU: every FFM downcall of the three bindings binds and is invoked with
 * matching types; the backend opens; transfers, fills and copies; the row-major matmul mapping onto
 * column-major cuBLAS; the convolution glue (descriptors, HWIO ↔ KRSC transposes, asymmetric padding,
 * groups, the algorithm cache and workspace); kernel launches through the parameter array; the batch
 * uploader's plumbing; the out-of-memory line. What it cannot check: the kernels' PTX, and cuDNN's and
 * cuBLAS's real behaviour (the stand-ins follow their documentation as understood here).
 * Skipped where no C compiler or no cuda.h is found.
 */
class FakeGpuTest {

    private static final CpuBackend CPU = CpuBackend.get();
    private static CudaBackend fake;
    private static MethodHandle launches;

    @BeforeAll
    static void buildAndOpen(@TempDir Path dir) throws Exception {
        assumeTrue(Kernels.compiled(), "no PTX in this build, the backend cannot open: " + Kernels.unavailableReason());
        Path cudaInclude = cudaInclude();
        assumeTrue(cudaInclude != null, "no cuda.h found ($CUDA_HOME/include, /usr/local/cuda/include); fake driver not built");
        assumeTrue(compile(dir, "fake_cuda.c", "libcuda.so.1", List.of("-I" + cudaInclude)), "no working C compiler (cc); fake driver not built");
        assumeTrue(compile(dir, "fake_cublas.c", "libcublas.so.13", List.of()), "fake cuBLAS did not compile");
        assumeTrue(compile(dir, "fake_cudnn.c", "libcudnn.so.9", List.of()), "fake cuDNN did not compile");
        String old = System.getProperty(NativeLibraries.PROPERTY);
        System.setProperty(NativeLibraries.PROPERTY, dir.toString());
        try {
            fake = CudaBackend.open(CudaOptions.defaults(0).withTf32(false));
        } finally {
            if (old == null) System.clearProperty(NativeLibraries.PROPERTY);
            else System.setProperty(NativeLibraries.PROPERTY, old);
        }
        SymbolLookup lib = SymbolLookup.libraryLookup(dir.resolve("libcuda.so.1"), Arena.global());
        launches = Linker.nativeLinker().downcallHandle(lib.find("fake_cuda_launches").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
    }

    private static Path cudaInclude() {
        List<Path> candidates = new ArrayList<>();
        String home = System.getenv("CUDA_HOME");
        if (home != null) candidates.add(Path.of(home, "include"));
        candidates.add(Path.of("/usr/local/cuda/include"));
        for (Path p : candidates) if (Files.isRegularFile(p.resolve("cuda.h"))) return p;
        return null;
    }

    /** cc -shared the resource {@code source} into {@code dir/library}; false when that fails. */
    private static boolean compile(Path dir, String source, String library, List<String> flags) throws IOException, InterruptedException {
        Path c = dir.resolve(source);
        try (InputStream in = FakeGpuTest.class.getResourceAsStream("fake/" + source)) {
            if (in == null) return false;
            Files.copy(in, c);
        }
        List<String> cmd = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror"));
        cmd.addAll(flags);
        // A soname of its own, so that no later dlopen("libcuda.so.1") by bare name resolves to it.
        cmd.addAll(List.of("-Wl,-soname,libbitengine_" + source.replace(".c", ".so"), c.toString(), "-o", dir.resolve(library).toString()));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                System.out.println("[fake gpu] " + String.join(" ", cmd) + " failed:\n" + output);
                return false;
            }
            return true;
        } catch (IOException e) {
            return false; // no cc on the PATH
        }
    }

    private static Tensor random(Random r, int... dims) {
        float[] a = new float[Shape.of(dims).size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return CPU.wrap(a, Shape.of(dims));
    }

    private static void assertClose(String what, Tensor expected, Tensor actual, double tol) {
        assertEquals(expected.shape(), actual.shape(), what);
        assertTrue(actual.backend() == fake, what + ": not on the fake GPU");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tol * Math.max(1, Math.abs(e[i])), what + " at " + i);
        }
    }

    @Test
    void theBackendOpensOverTheFakeLibraries() {
        String d = fake.describe();
        assertTrue(d.startsWith("cuda:0 (Fake GPU), driver CUDA 13.0"), d);
        assertTrue(d.contains("cuDNN 91000"), d);
        assertTrue(d.endsWith("TF32 off"), d);
    }

    @Test
    void transfersFillsAndCopiesRoundTrip() {
        float[] f = {1.5f, -2.25f, 3e-8f, Float.MAX_VALUE, -0f, 7};
        assertArrayEquals(f, fake.fromHost(f, Shape.of(2, 3)).toFloatArray());
        double[] d = {Math.PI, -1e300, 1e-300};
        assertArrayEquals(d, fake.fromHost(d, Shape.of(3)).toDoubleArray());
        assertArrayEquals(new double[] {0, 5, -3}, fake.fromHost(new int[] {0, 5, -3}, Shape.of(3)).toDoubleArray());
        assertArrayEquals(new float[] {2.5f, 2.5f}, fake.full(DType.F32, Shape.of(2), 2.5).toFloatArray());
        assertArrayEquals(new double[] {-7, -7}, fake.full(DType.I32, Shape.of(2), -7).toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, fake.zeros(DType.F64, Shape.of(2)).toDoubleArray());
        assertArrayEquals(new double[] {0.1, 0.1}, fake.full(DType.F64, Shape.of(2), 0.1).toDoubleArray());
        Tensor x = fake.fromHost(f, Shape.of(6));
        assertArrayEquals(f, fake.copy(x).toFloatArray());
        Tensor dst = fake.zeros(DType.F32, Shape.of(6));
        fake.copyInPlace(dst, Tensor.of(f, 6));
        assertArrayEquals(f, dst.toFloatArray());
        assertArrayEquals(f, Devices.to(x, CPU).toFloatArray());
        assertEquals(0, fake.fromHost(new float[0], Shape.of(0, 4)).toFloatArray().length);
    }

    @Test
    void matmulMapsRowMajorOntoColumnMajorCublas() {
        Random r = new Random(1);
        int m = 7, k = 13, n = 5;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Tensor a = ta ? random(r, k, m) : random(r, m, k);
                Tensor b = tb ? random(r, n, k) : random(r, k, n);
                assertClose("matmul transA=" + ta + " transB=" + tb, CPU.matmul(a, b, ta, tb),
                        fake.matmul(Devices.to(a, fake), Devices.to(b, fake), ta, tb), 1e-5);
            }
        }
    }

    @Test
    void convolutionGlueMatchesTheCpu() {
        Random r = new Random(2);
        for (CudaBackendParityTest.ConvCase c : CudaBackendParityTest.CONVS) {
            Tensor x = random(r, c.x()), w = random(r, c.w());
            Tensor y = CPU.conv2d(x, w, c.spec());
            Tensor dy = random(r, y.shape().dims());
            Tensor xf = Devices.to(x, fake), wf = Devices.to(w, fake), dyf = Devices.to(dy, fake);
            assertClose(c.name() + " forward", y, fake.conv2d(xf, wf, c.spec()), 1e-4);
            assertClose(c.name() + " backward data", CPU.conv2dBackwardData(dy, w, x.shape(), c.spec()),
                    fake.conv2dBackwardData(dyf, wf, x.shape(), c.spec()), 1e-4);
            assertClose(c.name() + " backward filter", CPU.conv2dBackwardFilter(x, dy, w.shape(), c.spec()),
                    fake.conv2dBackwardFilter(xf, dyf, w.shape(), c.spec()), 1e-4);
        }
    }

    @Test
    void kernelsAreLaunchedThroughTheDriver() throws Throwable {
        int before = (int) launches.invokeExact();
        Tensor x = fake.fromHost(new float[] {1, -1, 2}, Shape.of(3));
        fake.relu(x);
        fake.sum(x);
        fake.softmaxCrossEntropy(fake.fromHost(new float[] {1, 2, 3, 4}, Shape.of(2, 2)), fake.fromHost(new int[] {0, 1}, Shape.of(2)));
        assertEquals(before + 4, (int) launches.invokeExact(), "relu 1, sum 2, loss 1");
        BitEngineException e = assertThrows(BitEngineException.class, () -> fake.relu(fake.fromHost(new double[] {1}, Shape.of(1))));
        assertTrue(e.getMessage().startsWith("the CUDA backend computes relu in float32 only, got a F64 tensor"), e.getMessage());
        IllegalArgumentException wrongBackend = assertThrows(IllegalArgumentException.class, () -> fake.relu(Tensor.of(new float[] {1}, 1)));
        assertTrue(wrongBackend.getMessage().contains("Devices.to"), wrongBackend.getMessage());
    }

    @Test
    void batchUploaderDeliversWhatWasSubmitted() {
        Shape images = Shape.of(2, 3, 3, 1);
        try (BatchUploader up = fake.batchUploader(images, 2)) {
            up.submit(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, new int[] {4, 2});
            for (int step = 0; step < 4; step++) {
                BatchUploader.Batch b = up.take();
                float[] next = new float[18];
                java.util.Arrays.fill(next, step + 1);
                up.submit(next, new int[] {step + 1, step + 1});
                float[] got = b.images().toFloatArray();
                assertEquals(step == 0 ? 17f : step, got[17], "batch " + step);
                assertEquals(step == 0 ? 4 : step, (int) b.labels().toDoubleArray()[0], "labels of batch " + step);
            }
            assertThrows(IllegalStateException.class, () -> {
                up.submit(new float[18], new int[2]);
                up.submit(new float[18], new int[2]);
            }, "a third batch before a take");
        }
    }

    @Test
    void outOfMemoryIsOneLineWithTheBytesAskedFor() {
        BitEngineException e = assertThrows(BitEngineException.class, () -> fake.zeros(DType.F32, Shape.of(300_000_000)));
        String m = e.getMessage();
        assertTrue(m.startsWith("CUDA out of memory on cuda:0 (Fake GPU): asked for 1200000000 bytes (1144 MiB)"), m);
        assertTrue(m.endsWith("use a smaller batch or --batch-split"), m);
        assertFalse(m.contains("\n"), m);
    }
}
