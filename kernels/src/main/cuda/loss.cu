// Softmax cross-entropy, per sample, for hard (int32 class index) and soft (distribution) labels.
//
// One thread per sample walks the K logits of its row three times (max, log-sum-exp, output):
// K is the class count (10 to 1000s) and N the batch, so the loss is a negligible part of a
// step and a row-per-thread kernel keeps the summation order the same as the CPU reference's.
// Log-sum-exp is accumulated in double.
//
// Launch (all): 1-D grid-stride over the N samples, any sizes.

#include "common.cuh"

// log(sum_j exp(z[j])) of one row of k logits, shifted by the row maximum so exp never overflows.
__device__ inline double be_log_sum_exp(const float* z, int k) {
    float m = z[0];
    for (int j = 1; j < k; j++) m = fmaxf(m, z[j]);
    double s = 0.0;
    for (int j = 0; j < k; j++) s += exp((double)z[j] - m);
    return m + log(s);
}

extern "C" {

// loss[i] = logsumexp(z[i, :]) - z[i, label[i]]. A label outside [0, K) gives NaN: the device
// cannot throw, and NaN reaches the loss the training loop prints.
//   logits: [N, K] float32; labels: [N] int32; loss: [N] float32
__global__ void xent_hard_fwd_f32(const float* logits, const int* labels, float* loss, int n,
                                  int k) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float* z = logits + i * (long long)k;
        const int label = labels[i];
        loss[i] = (label < 0 || label >= k) ? __int_as_float(0x7fc00000)
                                            : (float)(be_log_sum_exp(z, k) - z[label]);
    }
}

// loss[i] = -sum_j t[i, j] * log_softmax(z[i, :])[j], skipping zero targets (0 * -inf stays 0).
//   logits, target: [N, K] float32; loss: [N] float32
__global__ void xent_soft_fwd_f32(const float* logits, const float* target, float* loss, int n,
                                  int k) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float* z = logits + i * (long long)k;
        const float* t = target + i * (long long)k;
        const double lse = be_log_sum_exp(z, k);
        double l = 0.0;
        for (int j = 0; j < k; j++) {
            if (t[j] != 0.0f) l -= (double)t[j] * (z[j] - lse);
        }
        loss[i] = (float)l;
    }
}

// dlogits[i, j] = dloss[i] * (softmax(z[i])[j] - (j == label[i])).
//   logits: [N, K] float32; labels: [N] int32; dloss: [N] float32; dlogits: [N, K] float32
__global__ void xent_hard_bwd_f32(const float* logits, const int* labels, const float* dloss,
                                  float* dlogits, int n, int k) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float* z = logits + i * (long long)k;
        float* dz = dlogits + i * (long long)k;
        const double lse = be_log_sum_exp(z, k);
        const double g = dloss[i];
        for (int j = 0; j < k; j++) {
            dz[j] = (float)(g * (exp(z[j] - lse) - (j == labels[i] ? 1.0 : 0.0)));
        }
    }
}

// dlogits[i, j] = dloss[i] * (softmax(z[i])[j] * sum(t[i]) - t[i, j]); sum(t[i]) is 1 for a
// distribution, and keeping it makes the gradient exact for any target row.
//   logits, target: [N, K] float32; dloss: [N] float32; dlogits: [N, K] float32
__global__ void xent_soft_bwd_f32(const float* logits, const float* target, const float* dloss,
                                  float* dlogits, int n, int k) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const float* z = logits + i * (long long)k;
        const float* t = target + i * (long long)k;
        float* dz = dlogits + i * (long long)k;
        const double lse = be_log_sum_exp(z, k);
        double mass = 0.0;
        for (int j = 0; j < k; j++) mass += t[j];
        const double g = dloss[i];
        for (int j = 0; j < k; j++) {
            dz[j] = (float)(g * (exp(z[j] - lse) * mass - t[j]));
        }
    }
}

}  // extern "C"
