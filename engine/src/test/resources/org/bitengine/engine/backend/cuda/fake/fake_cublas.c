// A stand-in for libcublas.so.13 for FakeGpuTest: the five functions Cublas binds, with cuBLAS's C
// signatures (handles and streams as pointers, enums as int), and a plain column-major SGEMM over
// host memory, so the backend's row-major-to-column-major mapping is checked against the CPU backend.
#include <stdlib.h>

int cublasCreate_v2(void **handle) { *handle = malloc(1); return 0; }
int cublasSetStream_v2(void *handle, void *stream) { return handle && stream ? 0 : 7; }
int cublasSetMathMode(void *handle, int mode) { return handle && (mode == 0 || mode == 3) ? 0 : 7; }
const char *cublasGetStatusString(int status) { return status == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_FAKE"; }

// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, column-major, op = transpose when trans = 1.
int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha,
                   const float *A, int lda, const float *B, int ldb, const float *beta, float *C, int ldc) {
    if (!handle || m < 0 || n < 0 || k < 0 || lda < (transa ? k : m) || ldb < (transb ? n : k) || ldc < m) return 7;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                float a = transa ? A[p + (long)i * lda] : A[i + (long)p * lda];
                float b = transb ? B[j + (long)p * ldb] : B[p + (long)j * ldb];
                acc += (double)a * b;
            }
            float prior = *beta == 0 ? 0 : *beta * C[i + (long)j * ldc];
            C[i + (long)j * ldc] = (float)(*alpha * acc) + prior;
        }
    }
    return 0;
}
