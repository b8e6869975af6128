// A stand-in for libcuda.so.1 for FakeGpuTest: "device" memory is host memory, and kernels run on the
// CPU from their CUDA C sources, so the FFM driver binding, the CUDA backend and the kernels' logic
// can be exercised on a machine without a GPU.
//
// Compiled against CUDA's own cuda.h: every driver function below must match the header's prototype,
// and cuda.h's macros give it the exported name the real driver has (cuMemAlloc -> cuMemAlloc_v2),
// the name CudaDriver binds.
//
// cuModuleLoadData keeps the PTX text; cuModuleGetFunction fails for an entry the PTX does not have.
// cuLaunchKernel finds the kernel by name in a table of the kernels compiled from
// kernels/src/main/cuda (kernel_emulation.h makes them host C++), unpacks the parameter array by the
// kernel's C++ signature, as the real driver does by the PTX's, and runs the grid: blocks one after
// another; the threads of a block in order, or, for kernels that synchronise (the block reductions),
// as real threads meeting at a barrier (4 per block, see BE_REDUCE_THREADS below). Streams and events are trivially ordered (all work is
// synchronous).
#include <cuda.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernel_emulation.h"

// The backend launches the block reductions with 256 threads (checked in cuLaunchKernel); emulated,
// each thread of a block is an OS thread meeting the others at every __syncthreads, so they run with
// 4: the kernels stride by blockDim.x and reduce in a power-of-two tree, so the result is the same
// computation with another block size.
#define BE_REDUCE_THREADS 4
constexpr unsigned LAUNCHED_REDUCE_THREADS = 256;

thread_local be_dim3 threadIdx, blockIdx;
be_dim3 blockDim, gridDim;

#include "elementwise.cu"
#include "loss.cu"
#include "normalization.cu"
#include "reduce.cu"
#include "sgd.cu"
#include "spatial.cu"

namespace {

constexpr size_t FAKE_MEMORY = 1ull << 30;  // a 1 GiB device: larger requests are out of memory
int launches = 0;

/** A reusable barrier for the threads of one emulated block. */
struct Barrier {
    std::mutex m;
    std::condition_variable cv;
    unsigned count = 0, parties = 0, generation = 0;
    void wait() {
        std::unique_lock<std::mutex> lock(m);
        unsigned gen = generation;
        if (++count == parties) {
            count = 0;
            generation++;
            cv.notify_all();
        } else {
            cv.wait(lock, [&] { return gen != generation; });
        }
    }
} barrier;

template <typename... A, size_t... I>
void invoke(void (*kernel)(A...), void **params, std::index_sequence<I...>) {
    kernel(*static_cast<std::remove_reference_t<A> *>(params[I])...);
}

/** Calls the kernel with its arguments read from the driver-style parameter array. */
template <typename... A>
void call(void (*kernel)(A...), void **params) {
    invoke(kernel, params, std::index_sequence_for<A...>{});
}

using Runner = void (*)(void **);
struct Entry {
    const char *name;
    Runner run;
    bool synchronises;
};

#define KERNEL(k, sync) Entry{#k, [](void **p) { call(k, p); }, sync}
const Entry KERNELS[] = {
    KERNEL(relu_fwd_f32, false), KERNEL(relu_bwd_f32, false), KERNEL(add_f32, false),
    KERNEL(binary_bcast_f32, false), KERNEL(scale_f32, false), KERNEL(sigmoid_fwd_f32, false),
    KERNEL(sigmoid_bwd_f32, false), KERNEL(swish_fwd_f32, false), KERNEL(swish_bwd_f32, false),
    KERNEL(scale_channels_f32, false), KERNEL(scale_channels_bwd_scale_f32, false),
    KERNEL(cast_i32_to_f32, false), KERNEL(cast_f32_to_i32, false), KERNEL(cast_f64_to_f32, false),
    KERNEL(cast_f32_to_f64, false),
    KERNEL(xent_hard_fwd_f32, false), KERNEL(xent_soft_fwd_f32, false), KERNEL(xent_hard_bwd_f32, false),
    KERNEL(xent_soft_bwd_f32, false),
    KERNEL(ws_fwd_f32, true), KERNEL(ws_bwd_f32, true), KERNEL(gn_stats_f32, true), KERNEL(gn_fwd_f32, false),
    KERNEL(gn_bwd_sums_f32, true), KERNEL(gn_bwd_dx_f32, false), KERNEL(gn_param_grads_partial_f32, false),
    KERNEL(pair_sums_finish_f32, false), KERNEL(bn_stats_partial_f32, false), KERNEL(bn_stats_finish_f32, false),
    KERNEL(bn_fwd_f32, false), KERNEL(rstd_from_var_f32, false), KERNEL(bn_param_grads_partial_f32, false),
    KERNEL(bn_bwd_dx_f32, false), KERNEL(bn_inference_bwd_dx_f32, false), KERNEL(running_stat_update_f32, false),
    KERNEL(sum_partial_f32, true), KERNEL(sum_finish_f32, true), KERNEL(column_sums_partial_f32, false),
    KERNEL(column_sums_finish_f32, false),
    KERNEL(sgd_momentum_f32, false), KERNEL(adam_f32, false), KERNEL(rmsprop_f32, false),
    KERNEL(pad2d_f32, false), KERNEL(crop2d_f32, false), KERNEL(maxpool_fwd_f32, false),
    KERNEL(maxpool_bwd_f32, false), KERNEL(global_avg_pool_f32, false), KERNEL(global_avg_pool_bwd_f32, false),
    KERNEL(transpose2d_f32, false),
};

const Entry *find(const char *name) {
    for (const Entry &e : KERNELS)
        if (std::strcmp(e.name, name) == 0) return &e;
    return nullptr;
}

void run_grid(const Entry &k, void **params) {
    if (!k.synchronises) {
        for (blockIdx.y = 0; blockIdx.y < gridDim.y; blockIdx.y++)
            for (blockIdx.x = 0; blockIdx.x < gridDim.x; blockIdx.x++)
                for (threadIdx.x = 0; threadIdx.x < blockDim.x; threadIdx.x++) k.run(params);
        return;
    }
    blockDim.x = BE_REDUCE_THREADS;
    barrier.parties = blockDim.x;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < blockDim.x; t++) {
        threads.emplace_back([&k, params, t] {
            threadIdx.x = t;
            for (unsigned by = 0; by < gridDim.y; by++)
                for (unsigned bx = 0; bx < gridDim.x; bx++) {
                    blockIdx.x = bx;
                    blockIdx.y = by;
                    k.run(params);
                    barrier.wait();  // the next block reuses the __shared__ arrays
                }
        });
    }
    for (std::thread &t : threads) t.join();
}

}  // namespace

void be_sync_threads() { barrier.wait(); }

extern "C" int fake_cuda_launches(void) { return launches; }

CUresult cuInit(unsigned int flags) { return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuDriverGetVersion(int *version) { *version = 13000; return CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int *count) { *count = 1; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
    std::snprintf(name, (size_t)len, "Fake GPU");
    return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev) {
    *pctx = reinterpret_cast<CUcontext>(size_t{0x1000});
    return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
CUresult cuCtxSetCurrent(CUcontext ctx) {
    return ctx == reinterpret_cast<CUcontext>(size_t{0x1000}) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}
CUresult cuStreamCreate(CUstream *phStream, unsigned int flags) {
    *phStream = static_cast<CUstream>(std::malloc(1));
    return flags <= 1 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult cuStreamSynchronize(CUstream hStream) { return hStream ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int flags) {
    return hStream && hEvent && flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuEventCreate(CUevent *phEvent, unsigned int flags) {
    *phEvent = static_cast<CUevent>(std::malloc(1));
    return flags <= 2 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult cuEventRecord(CUevent hEvent, CUstream hStream) { return hEvent && hStream ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuEventSynchronize(CUevent hEvent) { return hEvent ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuEventDestroy(CUevent hEvent) { std::free(hEvent); return CUDA_SUCCESS; }
CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize) {
    if (bytesize == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytesize > FAKE_MEMORY) return CUDA_ERROR_OUT_OF_MEMORY;
    // Filled with NaN bytes: a kernel reading memory nobody wrote shows up in the results.
    void *p = std::malloc(bytesize);
    std::memset(p, 0xFF, bytesize);
    *dptr = reinterpret_cast<CUdeviceptr>(p);
    return CUDA_SUCCESS;
}
CUresult cuMemFree(CUdeviceptr dptr) { std::free(reinterpret_cast<void *>(dptr)); return CUDA_SUCCESS; }
CUresult cuMemGetInfo(size_t *free_bytes, size_t *total) { *free_bytes = FAKE_MEMORY; *total = FAKE_MEMORY; return CUDA_SUCCESS; }
CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t n, CUstream s) {
    std::memcpy(reinterpret_cast<void *>(dst), src, n);
    return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t n, CUstream s) {
    std::memcpy(dst, reinterpret_cast<const void *>(src), n);
    return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), n);
    return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s) {
    unsigned int *p = reinterpret_cast<unsigned int *>(dst);
    for (size_t i = 0; i < n; i++) p[i] = ui;
    return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int flags) {
    *pp = std::malloc(bytesize);
    return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult cuMemFreeHost(void *p) { std::free(p); return CUDA_SUCCESS; }

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
    const char *text = static_cast<const char *>(image);
    if (std::strstr(text, ".visible .entry") == nullptr) return CUDA_ERROR_INVALID_PTX;
    *module = reinterpret_cast<CUmodule>(strdup(text));
    return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name) {
    char pattern[256];
    std::snprintf(pattern, sizeof pattern, ".entry %s(", name);
    if (std::strstr(reinterpret_cast<const char *>(hmod), pattern) == nullptr) return CUDA_ERROR_NOT_FOUND;
    const Entry *e = find(name);
    if (e == nullptr) return CUDA_ERROR_NOT_FOUND;  // in the PTX but not in this fake's table
    *hfunc = reinterpret_cast<CUfunction>(const_cast<Entry *>(e));
    return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                        unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                        unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra) {
    if (gridDimX == 0 || gridDimY == 0 || gridDimZ != 1 || blockDimX == 0 || blockDimX > 1024 || blockDimY != 1
        || blockDimZ != 1 || sharedMemBytes != 0 || hStream == nullptr || kernelParams == nullptr || extra != nullptr) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const Entry &kernel = *reinterpret_cast<const Entry *>(f);
    if (kernel.synchronises && blockDimX != LAUNCHED_REDUCE_THREADS) return CUDA_ERROR_INVALID_VALUE;
    launches++;
    gridDim = be_dim3{gridDimX, gridDimY, 1};
    blockDim = be_dim3{blockDimX, 1, 1};
    run_grid(kernel, kernelParams);
    return CUDA_SUCCESS;
}

CUresult cuGetErrorName(CUresult error, const char **pStr) {
    *pStr = error == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_FAKE";
    return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult error, const char **pStr) {
    *pStr = error == CUDA_ERROR_OUT_OF_MEMORY ? "out of memory" : "an error of the fake driver";
    return CUDA_SUCCESS;
}
