// A stand-in for libcuda.so.1 for FakeGpuTest: "device" memory is host memory, so the FFM driver
// binding and the CUDA backend's plumbing can be exercised on a machine without a GPU.
//
// Compiled against CUDA's own cuda.h: every function below must match the header's prototype, and
// cuda.h's macros give it the exported name the real driver has (cuMemAlloc -> cuMemAlloc_v2), the
// name CudaDriver binds.
//
// PTX is not run. cuModuleLoadData keeps the PTX text and cuModuleGetFunction fails for an entry the
// text does not have. cuLaunchKernel runs three kernels in C (transpose2d_f32, pad2d_f32,
// crop2d_f32: what a convolution needs besides cuDNN), reading their arguments through the kernel
// parameter array exactly as the driver would; any other kernel is only counted.
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MEMORY (1ull << 30)  // a 1 GiB device: larger requests are out of memory

static int launches;
int fake_cuda_launches(void) { return launches; }

CUresult cuInit(unsigned int flags) { return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuDriverGetVersion(int *version) { *version = 13000; return CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int *count) { *count = 1; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
    strncpy(name, "Fake GPU", (size_t)len);
    return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev) {
    *pctx = (CUcontext)(size_t)0x1000;
    return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
CUresult cuCtxSetCurrent(CUcontext ctx) { return ctx == (CUcontext)(size_t)0x1000 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT; }
CUresult cuStreamCreate(CUstream *phStream, unsigned int flags) {
    *phStream = (CUstream)malloc(1);
    return flags <= 1 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult cuStreamSynchronize(CUstream hStream) { return hStream ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int flags) {
    return hStream && hEvent && flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuEventCreate(CUevent *phEvent, unsigned int flags) { *phEvent = (CUevent)malloc(1); (void)flags; return CUDA_SUCCESS; }
CUresult cuEventRecord(CUevent hEvent, CUstream hStream) { return hEvent && hStream ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuEventSynchronize(CUevent hEvent) { return hEvent ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuEventDestroy(CUevent hEvent) { free(hEvent); return CUDA_SUCCESS; }
CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize) {
    if (bytesize == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytesize > FAKE_MEMORY) return CUDA_ERROR_OUT_OF_MEMORY;
    *dptr = (CUdeviceptr)malloc(bytesize);
    return CUDA_SUCCESS;
}
CUresult cuMemFree(CUdeviceptr dptr) { free((void *)dptr); return CUDA_SUCCESS; }
CUresult cuMemGetInfo(size_t *free_bytes, size_t *total) { *free_bytes = FAKE_MEMORY; *total = FAKE_MEMORY; return CUDA_SUCCESS; }
CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t n, CUstream s) { memcpy((void *)dst, src, n); return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t n, CUstream s) { memcpy(dst, (const void *)src, n); return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) { memmove((void *)dst, (const void *)src, n); return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE; }
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s) {
    unsigned int *p = (unsigned int *)dst;
    for (size_t i = 0; i < n; i++) p[i] = ui;
    return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}
CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int flags) { *pp = malloc(bytesize); return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuMemFreeHost(void *p) { free(p); return CUDA_SUCCESS; }

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
    const char *text = (const char *)image;
    if (strstr(text, ".visible .entry") == NULL) return CUDA_ERROR_INVALID_PTX;
    *module = (CUmodule)strdup(text);
    return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name) {
    char pattern[256];
    snprintf(pattern, sizeof pattern, ".entry %s(", name);
    if (strstr((const char *)hmod, pattern) == NULL) return CUDA_ERROR_NOT_FOUND;
    *hfunc = (CUfunction)strdup(name);
    return CUDA_SUCCESS;
}

#define ARG(type, i) (*(type *)kernelParams[i])

CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ,
                        unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ,
                        unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra) {
    if (gridDimX == 0 || gridDimY == 0 || gridDimZ != 1 || blockDimX == 0 || blockDimX > 1024 || blockDimY != 1
        || blockDimZ != 1 || sharedMemBytes != 0 || hStream == NULL || kernelParams == NULL || extra != NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    launches++;
    const char *name = (const char *)f;
    if (strcmp(name, "transpose2d_f32") == 0) {
        const float *x = ARG(const float *, 0);
        float *y = ARG(float *, 1);
        int rows = ARG(int, 2), cols = ARG(int, 3);
        for (long long i = 0; i < (long long)rows * cols; i++) y[(i % cols) * rows + i / cols] = x[i];
    } else if (strcmp(name, "pad2d_f32") == 0) {
        const float *x = ARG(const float *, 0);
        float *y = ARG(float *, 1);
        long long n = ARG(long long, 2);
        int h = ARG(int, 3), w = ARG(int, 4), c = ARG(int, 5), top = ARG(int, 6), left = ARG(int, 7);
        int oh = ARG(int, 8), ow = ARG(int, 9);
        float value = ARG(float, 10);
        for (long long i = 0; i < n; i++) {
            int ch = (int)(i % c), j = (int)((i / c) % ow), r = (int)((i / ((long long)c * ow)) % oh);
            long long b = i / ((long long)c * ow * oh);
            int xr = r - top, xj = j - left;
            y[i] = (xr >= 0 && xr < h && xj >= 0 && xj < w) ? x[((b * h + xr) * w + xj) * c + ch] : value;
        }
    } else if (strcmp(name, "crop2d_f32") == 0) {
        const float *dy = ARG(const float *, 0);
        float *dx = ARG(float *, 1);
        long long n = ARG(long long, 2);
        int oh = ARG(int, 3), ow = ARG(int, 4), c = ARG(int, 5), top = ARG(int, 6), left = ARG(int, 7);
        int ih = ARG(int, 8), iw = ARG(int, 9);
        for (long long i = 0; i < n; i++) {
            int ch = (int)(i % c), j = (int)((i / c) % ow), r = (int)((i / ((long long)c * ow)) % oh);
            long long b = i / ((long long)c * ow * oh);
            dx[i] = dy[((b * ih + r + top) * iw + j + left) * c + ch];
        }
    }
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
