// Device helpers shared by the kernel modules.
//
// Reductions accumulate in double, as the CPU backend does, so that a float32 sum over the
// hundreds of thousands of elements of one GroupNorm group or one BatchNorm channel loses no more
// than the final rounding, and the CUDA results stay within float32 tolerance of the CPU reference.
#pragma once

// Threads per block of every reduction kernel. A power of two (the tree below halves it), and
// the launcher in CudaBackend uses the same number (REDUCE_THREADS). Overridable only for the
// engine tests' CPU emulation of the kernels, which runs blocks with fewer threads.
#ifndef BE_REDUCE_THREADS
#define BE_REDUCE_THREADS 256
#endif

// Sums a and b over the block; thread 0 receives both totals. Every thread of the block must
// call it (it synchronises), and the block must have BE_REDUCE_THREADS threads.
__device__ inline void be_block_sum2(double& a, double& b) {
    __shared__ double sa[BE_REDUCE_THREADS];
    __shared__ double sb[BE_REDUCE_THREADS];
    sa[threadIdx.x] = a;
    sb[threadIdx.x] = b;
    __syncthreads();
    for (int half = BE_REDUCE_THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) {
            sa[threadIdx.x] += sa[threadIdx.x + half];
            sb[threadIdx.x] += sb[threadIdx.x + half];
        }
        __syncthreads();
    }
    a = sa[0];
    b = sb[0];
    // A second call in the same kernel reuses the arrays; nobody may overwrite them before every
    // thread has read the totals.
    __syncthreads();
}

// The index of the first element of this thread in a 1-D grid-stride loop, and the stride.
#define BE_GRID_STRIDE_LOOP(i, n)                                                           \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n);           \
         i += (long long)gridDim.x * blockDim.x)
