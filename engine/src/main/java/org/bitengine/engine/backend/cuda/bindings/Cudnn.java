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
 * cuDNN 9 through FFM: 2-D convolution forward, backward-data and backward-filter on float32 NHWC
 * tensors, with cuDNN's algorithm search.
 *
 * <p>Uses cuDNN's descriptor API (still part of cuDNN 9, implemented in {@code libcudnn_cnn}
 * behind the {@code libcudnn.so.9} front library): {@code cudnnGetVersion, cudnnGetErrorString,
 * cudnnCreate, cudnnSetStream, cudnnCreate/Set4d/DestroyTensorDescriptor (cudnnSetTensor4dDescriptor),
 * cudnnCreate/Destroy/SetFilter4dDescriptor, cudnnCreate/DestroyConvolutionDescriptor,
 * cudnnSetConvolution2dDescriptor, cudnnSetConvolutionGroupCount, cudnnSetConvolutionMathType,
 * cudnnFindConvolution{Forward,BackwardData,BackwardFilter}Algorithm} and
 * {@code cudnnConvolution{Forward,BackwardData,BackwardFilter}}.
 *
 * <p>Layouts: x [N,H,W,C] and y [N,OH,OW,O] are {@code CUDNN_TENSOR_NHWC}; the filter is
 * {@code CUDNN_TENSOR_NHWC} too, which for a filter means KRSC, i.e. [O, KH, KW, C/groups]. The
 * engine's kernels are HWIO [KH, KW, C/groups, O]; the CUDA backend transposes them to KRSC (and
 * filter gradients back) with the {@code transpose2d_f32} kernel. JCudnn is not used because its
 * newest build links {@code libcudnn.so.8} (DESIGN.md §3).
 */
// Native access is what this class is for (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
public final class Cudnn {

    private static final int FORMAT_NHWC = 1;
    private static final int DATA_FLOAT = 0;
    private static final int CROSS_CORRELATION = 1;
    /**
     * cudnnMathType_t: DEFAULT permits TF32 tensor cores on Ampere and newer; TENSOR_OP and
     * TENSOR_OP_ALLOW_CONVERSION ask for tensor cores; FMA forbids them.
     */
    private static final int MATH_DEFAULT = 0, MATH_TENSOR_OP = 1, MATH_TENSOR_OP_ALLOW_CONVERSION = 2, MATH_FMA = 3;
    /** Every algorithm cuDNN has for one direction fits in this many results (8 forward, 6 and 7 backward). */
    private static final int MAX_ALGOS = 8;
    /**
     * cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t: {int algo; int status; float time;
     * size_t memory; int determinism; int mathType; int reserved[3];} = 48 bytes.
     */
    private static final long PERF_SIZE = 48, PERF_ALGO = 0, PERF_STATUS = 4, PERF_MEMORY = 16, PERF_MATH = 28;

    private static final Linker LINKER = Linker.nativeLinker();

    private final String origin;
    private final long version;
    private final long handle;
    private final MethodHandle getErrorString, createTensor, setTensor, destroyTensor, createFilter, setFilter,
            destroyFilter, createConv, setConv, setGroups, setMath, destroyConv, findForward, findBackwardData,
            findBackwardFilter, forward, backwardData, backwardFilter;

    /** The direction of a convolution call. */
    public enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** The algorithm chosen for one shape and direction: cuDNN's enum value, its workspace, its math type. */
    public record Algorithm(int algo, long workspaceBytes, int mathType) {}

    private Cudnn(NativeLibraries.Opened lib, long stream) {
        this.origin = lib.origin();
        SymbolLookup s = lib.symbols();
        MethodHandle getVersion = LINKER.downcallHandle(find(s, "cudnnGetVersion"), FunctionDescriptor.of(JAVA_LONG));
        getErrorString = LINKER.downcallHandle(find(s, "cudnnGetErrorString"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle create = bind(s, "cudnnCreate", ADDRESS);
        MethodHandle setStream = bind(s, "cudnnSetStream", JAVA_LONG, JAVA_LONG);
        createTensor = bind(s, "cudnnCreateTensorDescriptor", ADDRESS);
        setTensor = bind(s, "cudnnSetTensor4dDescriptor", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        destroyTensor = bind(s, "cudnnDestroyTensorDescriptor", JAVA_LONG);
        createFilter = bind(s, "cudnnCreateFilterDescriptor", ADDRESS);
        setFilter = bind(s, "cudnnSetFilter4dDescriptor", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        destroyFilter = bind(s, "cudnnDestroyFilterDescriptor", JAVA_LONG);
        createConv = bind(s, "cudnnCreateConvolutionDescriptor", ADDRESS);
        setConv = bind(s, "cudnnSetConvolution2dDescriptor", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT);
        setGroups = bind(s, "cudnnSetConvolutionGroupCount", JAVA_LONG, JAVA_INT);
        setMath = bind(s, "cudnnSetConvolutionMathType", JAVA_LONG, JAVA_INT);
        destroyConv = bind(s, "cudnnDestroyConvolutionDescriptor", JAVA_LONG);
        // (handle, inDesc, otherDesc, convDesc, outDesc, requested, int* returned, perf*)
        MemoryLayout[] findArgs = {JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS};
        findForward = bind(s, "cudnnFindConvolutionForwardAlgorithm", findArgs);
        findBackwardData = bind(s, "cudnnFindConvolutionBackwardDataAlgorithm", findArgs);
        findBackwardFilter = bind(s, "cudnnFindConvolutionBackwardFilterAlgorithm", findArgs);
        // (handle, alpha*, desc1, ptr1, desc2, ptr2, convDesc, algo, workspace, wsBytes, beta*, outDesc, out)
        MemoryLayout[] runArgs = {JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT,
                JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG};
        forward = bind(s, "cudnnConvolutionForward", runArgs);
        backwardData = bind(s, "cudnnConvolutionBackwardData", runArgs);
        backwardFilter = bind(s, "cudnnConvolutionBackwardFilter", runArgs);
        try (Arena a = Arena.ofConfined()) {
            version = (long) getVersion.invokeExact();
            if (version < 90000) {
                throw new BitEngineException("cuDNN " + version + " found at " + origin + " is older than cuDNN 9, which bit-engine needs");
            }
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) create.invokeExact(out), "cudnnCreate");
            handle = out.get(JAVA_LONG, 0);
            check((int) setStream.invokeExact(handle, stream), "cudnnSetStream");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Opens cuDNN 9 (the CUDA context must be current) with a handle whose work goes to {@code stream}. */
    public static Cudnn open(long stream) {
        NativeLibraries.Opened lib = NativeLibraries.open("cuDNN 9", List.of("libcudnn.so.9"),
                List.of("libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
                        "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
                        "libcudnn_heuristic.so.9"),
                "install cuDNN 9 (e.g. pip install nvidia-cudnn-cu13, or the libcudnn9 system package)");
        return new Cudnn(lib, stream);
    }

    public String origin() {
        return origin;
    }

    /** cuDNN's version number, e.g. 91002 for 9.10.2. */
    public long version() {
        return version;
    }

    /**
     * The descriptors of one convolution shape: x [n,h,w,c], filter KRSC [o, kh, kw, c/groups],
     * y [n,oh,ow,o], symmetric padding, stride, groups. Closing destroys them.
     */
    public final class ConvDescriptors implements AutoCloseable {
        final long x, w, y, conv;

        ConvDescriptors(int n, int h, int w, int c, int o, int kh, int kw, int oh, int ow, int padH, int padW,
                        int strideH, int strideW, int groups, boolean allowTf32) {
            this.x = newTensor(n, c, h, w);
            this.y = newTensor(n, o, oh, ow);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(JAVA_LONG);
                check((int) createFilter.invokeExact(out), "cudnnCreateFilterDescriptor");
                this.w = out.get(JAVA_LONG, 0);
                check((int) setFilter.invokeExact(this.w, DATA_FLOAT, FORMAT_NHWC, o, c / groups, kh, kw), "cudnnSetFilter4dDescriptor");
                check((int) createConv.invokeExact(out), "cudnnCreateConvolutionDescriptor");
                this.conv = out.get(JAVA_LONG, 0);
                check((int) setConv.invokeExact(conv, padH, padW, strideH, strideW, 1, 1, CROSS_CORRELATION, DATA_FLOAT),
                        "cudnnSetConvolution2dDescriptor");
                check((int) setGroups.invokeExact(conv, groups), "cudnnSetConvolutionGroupCount");
                check((int) setMath.invokeExact(conv, allowTf32 ? MATH_DEFAULT : MATH_FMA), "cudnnSetConvolutionMathType");
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }

        private long newTensor(int n, int c, int h, int w) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(JAVA_LONG);
                check((int) createTensor.invokeExact(out), "cudnnCreateTensorDescriptor");
                long d = out.get(JAVA_LONG, 0);
                check((int) setTensor.invokeExact(d, FORMAT_NHWC, DATA_FLOAT, n, c, h, w),
                        "cudnnSetTensor4dDescriptor(" + n + "," + c + "," + h + "," + w + ")");
                return d;
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }

        /** Sets the math type the chosen algorithm was measured with, as cuDNN asks before running it. */
        public void useMathType(int mathType) {
            try {
                check((int) setMath.invokeExact(conv, mathType), "cudnnSetConvolutionMathType");
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }

        @Override
        public void close() {
            try {
                check((int) destroyTensor.invokeExact(x), "cudnnDestroyTensorDescriptor");
                check((int) destroyTensor.invokeExact(y), "cudnnDestroyTensorDescriptor");
                check((int) destroyFilter.invokeExact(w), "cudnnDestroyFilterDescriptor");
                check((int) destroyConv.invokeExact(conv), "cudnnDestroyConvolutionDescriptor");
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }
    }

    public ConvDescriptors describe(int n, int h, int w, int c, int o, int kh, int kw, int oh, int ow, int padH,
                                    int padW, int strideH, int strideW, int groups, boolean allowTf32) {
        return new ConvDescriptors(n, h, w, c, o, kh, kw, oh, ow, padH, padW, strideH, strideW, groups, allowTf32);
    }

    /**
     * Times every algorithm for {@code direction} on this shape (cuDNN runs them, with scratch
     * memory it allocates itself) and returns the fastest that succeeded and needs at most
     * {@code workspaceLimit} bytes. When TF32 is not allowed, the search runs with the descriptor in
     * FMA math (set by {@link #describe}), the descriptor stays so, and a result reported with a
     * tensor-op math type is passed over.
     */
    public Algorithm find(ConvDescriptors d, Direction direction, long workspaceLimit, boolean allowTf32) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            MemorySegment perf = a.allocate(PERF_SIZE * MAX_ALGOS, 8);
            int rc = switch (direction) {
                case FORWARD -> (int) findForward.invokeExact(handle, d.x, d.w, d.conv, d.y, MAX_ALGOS, count, perf);
                case BACKWARD_DATA -> (int) findBackwardData.invokeExact(handle, d.w, d.y, d.conv, d.x, MAX_ALGOS, count, perf);
                case BACKWARD_FILTER -> (int) findBackwardFilter.invokeExact(handle, d.x, d.y, d.conv, d.w, MAX_ALGOS, count, perf);
            };
            check(rc, "cudnnFindConvolution" + direction + "Algorithm");
            int n = count.get(JAVA_INT, 0);
            for (int i = 0; i < n; i++) {
                long base = i * PERF_SIZE;
                int status = perf.get(JAVA_INT, base + PERF_STATUS);
                long memory = perf.get(JAVA_LONG, base + PERF_MEMORY);
                int math = perf.get(JAVA_INT, base + PERF_MATH);
                boolean tensorOps = math == MATH_TENSOR_OP || math == MATH_TENSOR_OP_ALLOW_CONVERSION;
                if (status != 0 || memory > workspaceLimit || (!allowTf32 && tensorOps)) continue;
                return new Algorithm(perf.get(JAVA_INT, base + PERF_ALGO), memory, math);
            }
            throw new BitEngineException("cuDNN has no usable " + direction.name().toLowerCase()
                    + " convolution algorithm for this shape within a " + workspaceLimit + "-byte workspace"
                    + (allowTf32 ? "" : " in full float32 (TF32 off)") + " (" + n + " tried)");
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /**
     * Runs one convolution with {@code alpha = 1, beta = 0}. Pointers by direction:
     * FORWARD (x, w → y), BACKWARD_DATA (w, dy → dx), BACKWARD_FILTER (x, dy → dw); the filter is KRSC.
     */
    public void run(ConvDescriptors d, Direction direction, Algorithm algo, long in1, long in2, long out,
                    long workspace) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocateFrom(JAVA_FLOAT, 1f);
            MemorySegment zero = a.allocateFrom(JAVA_FLOAT, 0f);
            long ws = algo.workspaceBytes();
            int rc = switch (direction) {
                case FORWARD -> (int) forward.invokeExact(handle, one, d.x, in1, d.w, in2, d.conv, algo.algo(), workspace, ws, zero, d.y, out);
                case BACKWARD_DATA -> (int) backwardData.invokeExact(handle, one, d.w, in1, d.y, in2, d.conv, algo.algo(), workspace, ws, zero, d.x, out);
                case BACKWARD_FILTER -> (int) backwardFilter.invokeExact(handle, one, d.x, in1, d.y, in2, d.conv, algo.algo(), workspace, ws, zero, d.w, out);
            };
            check(rc, "cudnnConvolution" + direction);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    private void check(int status, String call) {
        if (status == 0) return;
        String text;
        try {
            text = ((MemorySegment) getErrorString.invokeExact(status)).reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            text = "status " + status;
        }
        // cuDNN 9 renumbered its statuses and split allocation failures by kind; all their names say ALLOC.
        String hint = text.contains("ALLOC") ? "; out of GPU memory: use a smaller batch or --batch-split" : "";
        throw new BitEngineException("cuDNN call " + call + " failed: " + text + " (" + origin + ")" + hint);
    }

    private static MemorySegment find(SymbolLookup lib, String symbol) {
        return lib.find(symbol).orElseThrow(() -> new BitEngineException(
                "the cuDNN library found lacks " + symbol + "; bit-engine needs cuDNN 9 with its legacy convolution API (libcudnn_cnn)"));
    }

    private static MethodHandle bind(SymbolLookup lib, String symbol, MemoryLayout... args) {
        return LINKER.downcallHandle(find(lib, symbol), FunctionDescriptor.of(JAVA_INT, args));
    }
}
