// Lets the CUDA C kernels of kernels/src/main/cuda compile as host C++ for the fake driver
// (fake_cuda.cpp), which runs them on the CPU: the CUDA qualifiers become plain C++, the built-in
// indices become variables the fake launcher sets, and __syncthreads() is a barrier across the
// threads that emulate one block. Only what the kernels use is provided.
#pragma once
#include <cmath>
#include <cstring>

#define __global__
#define __device__
// Blocks run one after another, so one static array per __shared__ declaration is the block's.
#define __shared__ static

struct be_dim3 { unsigned int x = 0, y = 0, z = 0; };
extern thread_local be_dim3 threadIdx, blockIdx;
extern be_dim3 blockDim, gridDim;
void be_sync_threads();
#define __syncthreads() be_sync_threads()

inline long long min(long long a, long long b) { return a < b ? a : b; }
inline float __int_as_float(int bits) { float f; std::memcpy(&f, &bits, sizeof f); return f; }
using std::exp;
using std::fmax;
using std::log;
using std::sqrt;
