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

// Adam as torch.optim.Adam computes it (no weight decay, no AMSGrad), step t >= 1:
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   param -= step_size * m / (sqrt(v) / sqrt_correction + eps)
// with step_size = lr / (1 - beta1^t) and sqrt_correction = sqrt(1 - beta2^t) computed on the host
// in double, as PyTorch does.
//   param: [n] float32, updated in place; grad: [n] float32 (read only)
//   m, v:  [n] float32, first and second moment, zero before the first step, updated in place
__global__ void adam_f32(float* param, const float* grad, float* m, float* v, float step_size, float beta1,
                         float beta2, float eps, float sqrt_correction, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float g = grad[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * g;
        const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= step_size * mi / (sqrtf(vi) / sqrt_correction + eps);
    }
}

// RMSprop as torch.optim.RMSprop computes it (not centred, no momentum, no weight decay):
//   v = alpha * v + (1 - alpha) * g^2
//   param -= lr * g / (sqrt(v) + eps)
//   param: [n] float32, updated in place; grad: [n] float32 (read only)
//   v:     [n] float32, zero before the first step, updated in place
__global__ void rmsprop_f32(float* param, const float* grad, float* v, float lr, float alpha, float eps, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float g = grad[i];
        const float vi = alpha * v[i] + (1.0f - alpha) * g * g;
        v[i] = vi;
        param[i] -= lr * g / (sqrtf(vi) + eps);
    }
}

}  // extern "C"
