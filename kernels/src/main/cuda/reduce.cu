// Reductions over float32 buffers, accumulated in double (see common.cuh).

#include "common.cuh"

extern "C" {

// First pass of a full sum: block b adds a grid-stride share of x into partial[b].
//   x:       [n] float32
//   partial: [gridDim.x] float64, one per block
// Launch: BE_REDUCE_THREADS threads per block, any number of blocks.
__global__ void sum_partial_f32(const float* x, double* partial, long long n) {
    double acc = 0.0;
    double unused = 0.0;
    BE_GRID_STRIDE_LOOP(i, n) {
        acc += (double)x[i];
    }
    be_block_sum2(acc, unused);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = acc;
    }
}

// Second pass: y[0] = sum of the count partial sums, rounded once to float32.
//   partial: [count] float64; y: [1] float32
// Launch: one block of BE_REDUCE_THREADS threads.
__global__ void sum_finish_f32(const double* partial, float* y, int count) {
    double acc = 0.0;
    double unused = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        acc += partial[i];
    }
    be_block_sum2(acc, unused);
    if (threadIdx.x == 0) {
        y[0] = (float)acc;
    }
}

// Column sums of x viewed as [rows, cols], first pass: block (bx, by) sums column
// bx*blockDim.x + threadIdx.x over the rows of chunk by (rowsPerChunk rows each) into
// partial[by, column]. Adjacent threads read adjacent columns, so loads are coalesced.
//   x:       [rows, cols] float32
//   partial: [gridDim.y, cols] float64
// Launch: grid (ceil(cols / blockDim.x), ceil(rows / rowsPerChunk)); any block size.
__global__ void column_sums_partial_f32(const float* x, double* partial, long long rows, int cols,
                                        long long rowsPerChunk) {
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    const long long begin = (long long)blockIdx.y * rowsPerChunk;
    const long long end = min(rows, begin + rowsPerChunk);
    double acc = 0.0;
    for (long long r = begin; r < end; r++) {
        acc += (double)x[r * cols + col];
    }
    partial[(long long)blockIdx.y * cols + col] = acc;
}

// Column sums, second pass: y[col] = sum over the chunks of partial[chunk, col].
//   partial: [chunks, cols] float64; y: [cols] float32
// Launch: 1-D, any sizes.
__global__ void column_sums_finish_f32(const double* partial, float* y, int chunks, int cols) {
    BE_GRID_STRIDE_LOOP(col, cols) {
        double acc = 0.0;
        for (int k = 0; k < chunks; k++) {
            acc += partial[(long long)k * cols + col];
        }
        y[col] = (float)acc;
    }
}

}  // extern "C"
