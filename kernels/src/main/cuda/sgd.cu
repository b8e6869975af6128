// Optimizer updates over flat float32 parameter buffers.
//
// All parameters, gradients and momentum buffers may live in one arena (DESIGN.md §2), so one
// launch over the whole arena updates the model; n is therefore a 64-bit count.
//
// Launch: 1-D grid and block, any sizes (grid-stride loop); no shared memory.

extern "C" {

// SGD with momentum in PyTorch form, no weight decay, no dampening, no Nesterov:
//   buf = momentum * buf + grad
//   param -= lr * buf
// The caller zero-initialises buf before the first step, so that step gives buf = grad exactly
// as PyTorch's lazily created buffer does.
//   param:    [n] float32, updated in place
//   grad:     [n] float32, gradient of the loss with respect to param (read only)
//   buf:      [n] float32, momentum buffer, updated in place
//   lr:       learning rate for this step (the schedule is evaluated on the host)
//   momentum: momentum coefficient, e.g. 0.9
//   n:        element count of param, grad and buf
__global__ void sgd_momentum_f32(float* param, const float* grad, float* buf,
                                 float lr, float momentum, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float b = momentum * buf[i] + grad[i];
        buf[i] = b;
        param[i] -= lr * b;
    }
}

}  // extern "C"
