package org.bitengine.engine.backend.cuda.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import org.bitengine.engine.BitEngineException;

/**
 * cuBLAS through FFM: one handle bound to one stream, and single-precision GEMM.
 *
 * <p>Binds {@code cublasCreate_v2}, {@code cublasSetStream_v2}, {@code cublasSetMathMode},
 * {@code cublasSgemm_v2} and {@code cublasGetStatusString} from {@code libcublas.so.13}, else
 * {@code libcublas.so.12} (the exported names and signatures of these five are the same in both).
 * JCublas is not used because its 12.6 build links {@code libcublas.so.12} by versioned symbols and
 * so does not load where only cuBLAS 13 is installed (DESIGN.md §3).
 */
// Native access is what this class is for (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
public final class Cublas {

    /** cublasOperation_t. */
    public static final int OP_N = 0, OP_T = 1;
    /** cublasMath_t: CUBLAS_DEFAULT_MATH (full float32) and CUBLAS_TF32_TENSOR_OP_MATH. */
    private static final int DEFAULT_MATH = 0, TF32_TENSOR_OP_MATH = 3;

    private static final Linker LINKER = Linker.nativeLinker();

    private final String origin;
    private final long handle;
    private final MethodHandle sgemm, getStatusString;

    private Cublas(NativeLibraries.Opened lib, long stream, boolean allowTf32) {
        this.origin = lib.origin();
        SymbolLookup s = lib.symbols();
        MethodHandle create = bind(s, "cublasCreate_v2", ADDRESS);
        MethodHandle setStream = bind(s, "cublasSetStream_v2", JAVA_LONG, JAVA_LONG);
        MethodHandle setMathMode = bind(s, "cublasSetMathMode", JAVA_LONG, JAVA_INT);
        sgemm = bind(s, "cublasSgemm_v2", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
        getStatusString = LINKER.downcallHandle(s.find("cublasGetStatusString").orElseThrow(() -> missing("cublasGetStatusString")),
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) create.invokeExact(out), "cublasCreate_v2");
            handle = out.get(JAVA_LONG, 0);
            check((int) setStream.invokeExact(handle, stream), "cublasSetStream_v2");
            check((int) setMathMode.invokeExact(handle, allowTf32 ? TF32_TENSOR_OP_MATH : DEFAULT_MATH), "cublasSetMathMode");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /**
     * Opens cuBLAS (the CUDA context must be current on this thread) and creates a handle whose
     * work goes to {@code stream}; TF32 tensor cores are used for float32 GEMM when {@code allowTf32}.
     */
    public static Cublas open(long stream, boolean allowTf32) {
        NativeLibraries.Opened lib = NativeLibraries.open("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12"),
                List.of("libcublasLt.so.13", "libcublasLt.so.12"),
                "install cuBLAS 13 or 12 (e.g. pip install nvidia-cublas)");
        return new Cublas(lib, stream, allowTf32);
    }

    public String origin() {
        return origin;
    }

    /**
     * Column-major {@code C = alpha·op(A)·op(B) + beta·C} with C [m, n], as cuBLAS defines it;
     * the row-major wrapper is the caller's (CudaBackend.matmul swaps the operands).
     */
    public void sgemm(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                      float beta, long c, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alphaSeg = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment betaSeg = arena.allocateFrom(JAVA_FLOAT, beta);
            check((int) sgemm.invokeExact(handle, transA, transB, m, n, k, alphaSeg, a, lda, b, ldb, betaSeg, c, ldc),
                    "cublasSgemm_v2(m=" + m + ", n=" + n + ", k=" + k + ")");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    private void check(int status, String call) {
        if (status == 0) return;
        String text;
        try {
            text = ((MemorySegment) getStatusString.invokeExact(status)).reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            text = "status " + status;
        }
        String hint = status == 3 ? "; out of GPU memory: use a smaller batch or --batch-split" : "";
        throw new BitEngineException("cuBLAS call " + call + " failed: " + text + " (" + origin + ")" + hint);
    }

    private static MethodHandle bind(SymbolLookup lib, String symbol, MemoryLayout... args) {
        return LINKER.downcallHandle(lib.find(symbol).orElseThrow(() -> missing(symbol)), FunctionDescriptor.of(JAVA_INT, args));
    }

    private static BitEngineException missing(String symbol) {
        return new BitEngineException("the cuBLAS library found lacks " + symbol + "; bit-engine needs cuBLAS 12 or 13");
    }
}
