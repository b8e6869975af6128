// Element-wise kernels over flat, contiguous float32 buffers.
//
// Every tensor here is viewed as a flat array of n elements: the caller has already made the
// operands contiguous and of equal shape (broadcasting is resolved on the Java side), so one
// kernel serves every rank. n is a 64-bit count because activations of a large batch exceed
// 2^31 elements; the grid-stride loop lets any launch size cover any n.
//
// Launch: 1-D grid and block, any sizes (the loop covers the remainder); no shared memory.

extern "C" {

// y[i] = max(x[i], 0)
//   x: [n] float32, input
//   y: [n] float32, output; may alias x (in-place ReLU)
//   n: element count
__global__ void relu_fwd_f32(const float* x, float* y, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
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
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
    }
}

// y[i] = a[i] + b[i]
//   a: [n] float32
//   b: [n] float32
//   y: [n] float32, output; may alias a or b (in-place accumulation of gradients)
//   n: element count
__global__ void add_f32(const float* a, const float* b, float* y, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = a[i] + b[i];
    }
}

}  // extern "C"
