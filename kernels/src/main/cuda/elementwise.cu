// Element-wise kernels over flat, contiguous buffers.
//
// Every tensor here is viewed as a flat array of n elements: the caller has already made the
// operands contiguous (broadcasting is reduced to a period on the Java side), so one kernel
// serves every rank. n is a 64-bit count because activations of a large batch exceed 2^31
// elements; the grid-stride loop lets any launch size cover any n.
//
// Launch: 1-D grid and block, any sizes (the loop covers the remainder); no shared memory.

#include "common.cuh"

extern "C" {

// y[i] = max(x[i], 0)
//   x: [n] float32, input
//   y: [n] float32, output; may alias x (in-place ReLU)
//   n: element count
__global__ void relu_fwd_f32(const float* x, float* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float v = x[i];
        // Not fmaxf(v, 0): that turns NaN into 0, and a NaN must reach the loss where it is seen
        // (torch.relu keeps NaN too). "v < 0" is false for NaN, so NaN passes through.
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

// dx[i] = x[i] > 0 ? dy[i] : 0   (the derivative at exactly 0 is taken as 0, as PyTorch does)
//   x:  [n] float32, the forward input (not the output: both give the same mask, and the input
//       is what the autograd tape keeps)
//   dy: [n] float32, gradient of the loss with respect to y
//   dx: [n] float32, output gradient with respect to x; may alias dy
//   n:  element count
__global__ void relu_bwd_f32(const float* x, const float* dy, float* dx, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
    }
}

// y[i] = a[i] + b[i]
//   a: [n] float32
//   b: [n] float32
//   y: [n] float32, output; may alias a or b (in-place accumulation of gradients)
//   n: element count
__global__ void add_f32(const float* a, const float* b, float* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = a[i] + b[i];
    }
}

// y[i] = a[i] (op) b[i % period]: b is a suffix of a's shape repeated over a's leading
// dimensions (period = b's element count; 1 for a scalar b). op: 0 add, 1 subtract, 2 multiply
// (the order of BinaryOp in the engine).
//   a: [n] float32
//   b: [period] float32
//   y: [n] float32, output; may alias a
__global__ void binary_bcast_f32(const float* a, const float* b, float* y, long long n,
                                 long long period, int op) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float u = a[i];
        const float v = b[i % period];
        y[i] = op == 0 ? u + v : (op == 1 ? u - v : u * v);
    }
}

// y[i] = alpha * x[i]
//   x: [n] float32; y: [n] float32, may alias x
__global__ void scale_f32(const float* x, float* y, float alpha, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = alpha * x[i];
    }
}

// Logistic sigmoid, written so that exp never overflows for either sign of x (as the CPU
// reference does).
__device__ inline float be_sigmoid(float x) {
    if (x >= 0.0f) {
        return 1.0f / (1.0f + expf(-x));
    }
    const float e = expf(x);
    return e / (1.0f + e);
}

// y[i] = 1 / (1 + exp(-x[i]))
//   x: [n] float32; y: [n] float32
__global__ void sigmoid_fwd_f32(const float* x, float* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = be_sigmoid(x[i]);
    }
}

// dx[i] = dy[i] * y[i] * (1 - y[i]); takes the forward output y, not the input.
//   y: [n] float32, sigmoid output; dy: [n] float32; dx: [n] float32
__global__ void sigmoid_bwd_f32(const float* y, const float* dy, float* dx, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float s = y[i];
        dx[i] = dy[i] * s * (1.0f - s);
    }
}

// Swish / SiLU: y[i] = x[i] * sigmoid(x[i])
//   x: [n] float32; y: [n] float32
__global__ void swish_fwd_f32(const float* x, float* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float v = x[i];
        y[i] = v * be_sigmoid(v);
    }
}

// dx[i] = dy[i] * (s + x[i]*s*(1 - s)), s = sigmoid(x[i])
//   x: [n] float32, forward input; dy: [n] float32; dx: [n] float32
__global__ void swish_bwd_f32(const float* x, const float* dy, float* dx, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float v = x[i];
        const float s = be_sigmoid(v);
        dx[i] = dy[i] * (s + v * s * (1.0f - s));
    }
}

// Squeeze-and-excitation channel scaling: y[b,p,ch] = x[b,p,ch] * s[b,ch].
//   x: [N, P, C] float32 (P = the spatial positions of one sample, H*W for NHWC)
//   s: [N, C] float32
//   y: [N, P, C] float32
//   n: N*P*C; positions: P; channels: C
__global__ void scale_channels_f32(const float* x, const float* s, float* y, long long n,
                                   long long positions, int channels) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const long long sample = i / (positions * channels);
        const int ch = (int)(i % channels);
        y[i] = x[i] * s[sample * channels + ch];
    }
}

// ds[b,ch] = sum over p of dy[b,p,ch] * x[b,p,ch]; one thread per (b, ch), adjacent threads read
// adjacent channels, so the loads of a warp are coalesced.
//   dy, x: [N, P, C] float32
//   ds:    [N, C] float32
//   samples: N; positions: P; channels: C
__global__ void scale_channels_bwd_scale_f32(const float* dy, const float* x, float* ds,
                                             int samples, long long positions, int channels) {
    BE_GRID_STRIDE_LOOP(i, (long long)samples * channels) {
        const long long sample = i / channels;
        const int ch = (int)(i % channels);
        const long long base = sample * positions * channels + ch;
        double acc = 0.0;
        for (long long p = 0; p < positions; p++) {
            acc += (double)dy[base + p * channels] * (double)x[base + p * channels];
        }
        ds[i] = (float)acc;
    }
}

// y[i] = (float) x[i]
//   x: [n] int32; y: [n] float32
__global__ void cast_i32_to_f32(const int* x, float* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = (float)x[i];
    }
}

// y[i] = (int) x[i], truncating toward zero as Java's (int) cast does for values in range.
//   x: [n] float32; y: [n] int32
__global__ void cast_f32_to_i32(const float* x, int* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = (int)x[i];
    }
}

// y[i] = (float) x[i], rounding to nearest: float64 tensors reach the device only to be narrowed
// (host data given as double, e.g. a dropout mask) or widened for a read-back.
//   x: [n] float64; y: [n] float32
__global__ void cast_f64_to_f32(const double* x, float* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = (float)x[i];
    }
}

// y[i] = (double) x[i], exact.
//   x: [n] float32; y: [n] float64
__global__ void cast_f32_to_f64(const float* x, double* y, long long n) {
    BE_GRID_STRIDE_LOOP(i, n) {
        y[i] = (double)x[i];
    }
}

}  // extern "C"
