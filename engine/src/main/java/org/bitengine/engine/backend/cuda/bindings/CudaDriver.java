package org.bitengine.engine.backend.cuda.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.bitengine.engine.BitEngineException;

/**
 * The CUDA driver API ({@code libcuda.so.1}) through the JDK's Foreign Function & Memory API.
 *
 * <p>Why FFM and not JCuda for the driver too: cuDNN and cuBLAS (bound through FFM, see
 * {@link Cudnn}, {@link Cublas}) take device addresses and stream handles as raw 64-bit values,
 * while JCuda's {@code CUdeviceptr} and {@code CUstream} keep theirs behind a protected accessor,
 * so mixing the two would need reflection into JCuda's internals for every call. One binding
 * technique for all three libraries also means no JNI library unpacked to a temporary directory at
 * start-up, and one place for error handling. Only the symbols below are bound; each is the
 * versioned name {@code cuda.h} maps the plain name to (e.g. {@code cuMemAlloc_v2}), without the
 * per-thread-default-stream variants, because every call here names its stream explicitly.
 *
 * <p>Handles (contexts, streams, events, modules, functions) and device addresses are plain
 * {@code long}s. A failing call throws {@link BitEngineException} naming the call and CUDA's error
 * name and description.
 */
// Native access is what this class is for (the JVM runs with --enable-native-access).
@SuppressWarnings("restricted")
public final class CudaDriver {

    /** CUDA_ERROR_OUT_OF_MEMORY. */
    private static final int ERROR_OUT_OF_MEMORY = 2;
    /** CUDA_ERROR_NO_DEVICE. */
    private static final int ERROR_NO_DEVICE = 100;
    /** CUDA_ERROR_UNSUPPORTED_PTX_VERSION: the PTX was made by a newer toolkit than the driver knows. */
    private static final int ERROR_UNSUPPORTED_PTX_VERSION = 222;
    /** CU_STREAM_NON_BLOCKING: the stream does not synchronise with the legacy default stream. */
    public static final int STREAM_NON_BLOCKING = 1;
    /** CU_EVENT_DISABLE_TIMING: lighter events, used only for ordering. */
    public static final int EVENT_DISABLE_TIMING = 2;

    private static final Linker LINKER = Linker.nativeLinker();

    private final String origin;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuStreamCreate,
            cuStreamSynchronize, cuStreamWaitEvent, cuEventCreate, cuEventRecord, cuEventSynchronize,
            cuEventDestroy, cuMemAlloc, cuMemFree, cuMemGetInfo, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync,
            cuMemcpyDtoDAsync, cuMemsetD32Async, cuMemHostAlloc, cuMemFreeHost, cuModuleLoadData,
            cuModuleGetFunction, cuLaunchKernel, cuGetErrorName, cuGetErrorString;

    private CudaDriver(NativeLibraries.Opened lib) {
        this.origin = lib.origin();
        SymbolLookup s = lib.symbols();
        cuInit = bind(s, "cuInit", JAVA_INT);
        cuDriverGetVersion = bind(s, "cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = bind(s, "cuDeviceGetCount", ADDRESS);
        cuDeviceGet = bind(s, "cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = bind(s, "cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDevicePrimaryCtxRetain = bind(s, "cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuCtxSetCurrent = bind(s, "cuCtxSetCurrent", JAVA_LONG);
        cuStreamCreate = bind(s, "cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = bind(s, "cuStreamSynchronize", JAVA_LONG);
        cuStreamWaitEvent = bind(s, "cuStreamWaitEvent", JAVA_LONG, JAVA_LONG, JAVA_INT);
        cuEventCreate = bind(s, "cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = bind(s, "cuEventRecord", JAVA_LONG, JAVA_LONG);
        cuEventSynchronize = bind(s, "cuEventSynchronize", JAVA_LONG);
        cuEventDestroy = bind(s, "cuEventDestroy_v2", JAVA_LONG);
        cuMemAlloc = bind(s, "cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = bind(s, "cuMemFree_v2", JAVA_LONG);
        cuMemGetInfo = bind(s, "cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuMemcpyHtoDAsync = bind(s, "cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyDtoHAsync = bind(s, "cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        cuMemcpyDtoDAsync = bind(s, "cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        cuMemsetD32Async = bind(s, "cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
        cuMemHostAlloc = bind(s, "cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemFreeHost = bind(s, "cuMemFreeHost", ADDRESS);
        cuModuleLoadData = bind(s, "cuModuleLoadData", ADDRESS, ADDRESS);
        cuModuleGetFunction = bind(s, "cuModuleGetFunction", ADDRESS, JAVA_LONG, ADDRESS);
        cuLaunchKernel = bind(s, "cuLaunchKernel", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        cuGetErrorName = bind(s, "cuGetErrorName", JAVA_INT, ADDRESS);
        cuGetErrorString = bind(s, "cuGetErrorString", JAVA_INT, ADDRESS);
    }

    /**
     * Opens libcuda.so.1 and initialises the driver.
     *
     * @throws BitEngineException when the driver library is missing, lacks a symbol, or cuInit fails
     *                            (no device, driver/kernel-module mismatch)
     */
    public static CudaDriver load() {
        NativeLibraries.Opened lib = NativeLibraries.open("the NVIDIA driver library (libcuda)",
                List.of("libcuda.so.1", "libcuda.so"), List.of(),
                "install the NVIDIA driver (it provides libcuda.so.1; the CUDA toolkit alone does not)");
        CudaDriver d = new CudaDriver(lib);
        int rc = d.init();
        if (rc == ERROR_NO_DEVICE) {
            throw new BitEngineException("no CUDA device: the NVIDIA driver (" + lib.origin() + ") sees no GPU (cuInit: CUDA_ERROR_NO_DEVICE)");
        }
        d.check(rc, "cuInit");
        return d;
    }

    private int init() {
        try {
            return (int) cuInit.invokeExact(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Where libcuda was loaded from. */
    public String origin() {
        return origin;
    }

    /** The driver's CUDA version as 1000·major + 10·minor (13000 for CUDA 13.0). */
    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(out), "cuDriverGetVersion");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(out), "cuDeviceGetCount");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The device handle of ordinal {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(out, ordinal), "cuDeviceGet(" + ordinal + ")");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(out, 256, device), "cuDeviceGetName");
            return out.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The device's primary context, retained. The primary context is the one the CUDA runtime,
     * and so cuBLAS and cuDNN, use; working in it means their handles and our allocations share
     * one address space without any hand-over.
     */
    public long retainPrimaryContext(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(out, device), "cuDevicePrimaryCtxRetain");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Makes {@code context} current on the calling thread. */
    public void setCurrent(long context) {
        try {
            check((int) cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long createStream(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuStreamCreate.invokeExact(out, flags), "cuStreamCreate");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Blocks until all work queued on {@code stream} has finished; reports an asynchronous kernel fault here. */
    public void synchronize(long stream) {
        try {
            check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Work queued on {@code stream} after this call waits for {@code event}. */
    public void streamWaitEvent(long stream, long event) {
        try {
            check((int) cuStreamWaitEvent.invokeExact(stream, event, 0), "cuStreamWaitEvent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long createEvent(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuEventCreate.invokeExact(out, flags), "cuEventCreate");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void recordEvent(long event, long stream) {
        try {
            check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void synchronizeEvent(long event) {
        try {
            check((int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyEvent(long event) {
        try {
            check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Device memory of {@code bytes} bytes, or 0 when the device is out of memory (the caller, the
     * caching allocator, then frees what it caches and retries); any other failure throws.
     */
    public long tryAllocate(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            int rc = (int) cuMemAlloc.invokeExact(out, bytes);
            if (rc == ERROR_OUT_OF_MEMORY) return 0;
            check(rc, "cuMemAlloc_v2(" + bytes + " bytes)");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void free(long address) {
        try {
            check((int) cuMemFree.invokeExact(address), "cuMemFree_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {free, total} device memory in bytes, as the driver sees it. */
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo_v2");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Queues a host-to-device copy; {@code src} must stay valid (and unchanged) until the stream reaches it. */
    public void copyHostToDeviceAsync(long dst, MemorySegment src, long bytes, long stream) {
        try {
            check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Queues a device-to-host copy; {@code dst} must stay valid until the stream reaches it. */
    public void copyDeviceToHostAsync(MemorySegment dst, long src, long bytes, long stream) {
        try {
            check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copyDeviceToDeviceAsync(long dst, long src, long bytes, long stream) {
        try {
            check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code pattern} (a float's raw bits fill a float tensor). */
    public void fill32Async(long dst, int pattern, long count, long stream) {
        try {
            check((int) cuMemsetD32Async.invokeExact(dst, pattern, count, stream), "cuMemsetD32Async");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Page-locked host memory of {@code bytes} bytes, so that copies from and to it run asynchronously at full speed. */
    public MemorySegment allocatePinned(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) cuMemHostAlloc.invokeExact(out, bytes, 0);
            if (rc == ERROR_OUT_OF_MEMORY) {
                throw new BitEngineException("cannot allocate " + bytes + " bytes of pinned host memory (cuMemHostAlloc: out of memory); use a smaller batch or --batch-split");
            }
            check(rc, "cuMemHostAlloc(" + bytes + " bytes)");
            return out.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void freePinned(MemorySegment memory) {
        try {
            check((int) cuMemFreeHost.invokeExact(memory), "cuMemFreeHost");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Loads a PTX module (JIT-compiled by the driver for this GPU); {@code name} is for messages. */
    public long loadModule(String ptx, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocateFrom(ptx, StandardCharsets.UTF_8); // NUL-terminated, as cuModuleLoadData wants
            MemorySegment out = a.allocate(JAVA_LONG);
            int rc = (int) cuModuleLoadData.invokeExact(out, image);
            if (rc == ERROR_UNSUPPORTED_PTX_VERSION) {
                throw new BitEngineException("the NVIDIA driver (CUDA " + versionString(driverVersion())
                        + ") is older than the toolkit that compiled kernel module '" + name
                        + "' (CUDA_ERROR_UNSUPPORTED_PTX_VERSION); update the driver or rebuild bit-engine-kernels with an older nvcc");
            }
            check(rc, "cuModuleLoadData(" + name + ")");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long function(long module, String kernel) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuModuleGetFunction.invokeExact(out, module, a.allocateFrom(kernel)), "cuModuleGetFunction(" + kernel + ")");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Queues a kernel. {@code params} is the array of pointers to each argument's value that
     * cuLaunchKernel reads before it returns, so it may be freed right after.
     */
    public void launch(long function, int gridX, int gridY, int blockX, int sharedBytes, long stream,
                       MemorySegment params, String name) {
        try {
            check((int) cuLaunchKernel.invokeExact(function, gridX, gridY, 1, blockX, 1, 1, sharedBytes, stream,
                    params, MemorySegment.NULL), "cuLaunchKernel(" + name + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Throws {@link BitEngineException} for a failed call: "CUDA driver call X failed: NAME (description)". */
    public void check(int rc, String call) {
        if (rc == 0) return;
        throw new BitEngineException("CUDA driver call " + call + " failed: " + errorName(rc) + " (" + errorString(rc) + ")");
    }

    private String errorName(int rc) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            if ((int) cuGetErrorName.invokeExact(rc, out) != 0) return "CUDA error " + rc;
            return out.get(ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            return "CUDA error " + rc;
        }
    }

    private String errorString(int rc) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            if ((int) cuGetErrorString.invokeExact(rc, out) != 0) return "no description";
            return out.get(ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            return "no description";
        }
    }

    /** "13.0" for 13000. */
    public static String versionString(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }

    static MethodHandle bind(SymbolLookup lib, String symbol, java.lang.foreign.MemoryLayout... args) {
        return LINKER.downcallHandle(lib.find(symbol).orElseThrow(() -> new BitEngineException(
                "the NVIDIA driver library lacks " + symbol + "; it is older than CUDA 12, update the driver")),
                FunctionDescriptor.of(JAVA_INT, args));
    }

    /** Our own exceptions pass; anything else from a downcall is a binding bug, reported as such. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call failed: " + t, t);
    }
}
