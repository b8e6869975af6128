// Normalisation kernels: weight standardisation (BiT's StdConv), GroupNorm, BatchNorm.
//
// Layouts: activations are channels-last, x [N, P, C] with P the spatial positions of a sample
// (H*W for NHWC); convolution kernels are HWIO, viewed here as w [K, O] with K = KH*KW*I.
// Statistics are accumulated in double (common.cuh) and stored as float32, like the CPU backend's
// float32 path.

#include "common.cuh"

extern "C" {

// ---- weight standardisation ---------------------------------------------------------------

// Per output channel o: y[:, o] = (w[:, o] - mean) / sqrt(var + eps), biased variance over K.
//   w: [K, O] float32 (HWIO kernel); y: [K, O] float32
// Launch: O blocks (one per output channel) of BE_REDUCE_THREADS threads. The column is read
// with stride O; kernels are small next to activations, so this is not worth a transpose.
__global__ void ws_fwd_f32(const float* w, float* y, int k, int o, float eps) {
    const int oc = blockIdx.x;
    double sum = 0.0, sumsq = 0.0;
    for (int r = threadIdx.x; r < k; r += blockDim.x) {
        const double v = w[(long long)r * o + oc];
        sum += v;
        sumsq += v * v;
    }
    be_block_sum2(sum, sumsq);
    const double mean = sum / k;
    const double var = fmax(sumsq / k - mean * mean, 0.0);
    const double rstd = 1.0 / sqrt(var + (double)eps);
    for (int r = threadIdx.x; r < k; r += blockDim.x) {
        const long long i = (long long)r * o + oc;
        y[i] = (float)((w[i] - mean) * rstd);
    }
}

// Gradient of ws_fwd_f32: with what = (w - mean) * rstd per channel,
//   dw = rstd * (g - mean(g) - what * mean(g * what)).
//   w: [K, O] float32 (the raw kernel); g: [K, O] float32 (gradient of the standardised kernel)
//   dw: [K, O] float32
// Launch: O blocks of BE_REDUCE_THREADS threads.
__global__ void ws_bwd_f32(const float* w, const float* g, float* dw, int k, int o, float eps) {
    const int oc = blockIdx.x;
    double sum = 0.0, sumsq = 0.0;
    for (int r = threadIdx.x; r < k; r += blockDim.x) {
        const double v = w[(long long)r * o + oc];
        sum += v;
        sumsq += v * v;
    }
    be_block_sum2(sum, sumsq);
    const double mean = sum / k;
    const double rstd = 1.0 / sqrt(fmax(sumsq / k - mean * mean, 0.0) + (double)eps);
    double sumG = 0.0, sumGW = 0.0;
    for (int r = threadIdx.x; r < k; r += blockDim.x) {
        const long long i = (long long)r * o + oc;
        const double gi = g[i];
        sumG += gi;
        sumGW += gi * (w[i] - mean) * rstd;
    }
    be_block_sum2(sumG, sumGW);
    const double meanG = sumG / k, meanGW = sumGW / k;
    for (int r = threadIdx.x; r < k; r += blockDim.x) {
        const long long i = (long long)r * o + oc;
        const double what = (w[i] - mean) * rstd;
        dw[i] = (float)((g[i] - meanG - what * meanGW) * rstd);
    }
}

// ---- GroupNorm --------------------------------------------------------------------------------

// Statistics of each (sample b, group g) over its P * C/G elements.
//   x:    [N, P, C] float32
//   mean: [N, G] float32; rstd: [N, G] float32, 1 / sqrt(biased var + eps)
// Launch: N*G blocks (block index = b*G + g) of BE_REDUCE_THREADS threads.
__global__ void gn_stats_f32(const float* x, float* mean, float* rstd, long long positions,
                             int channels, int groups, float eps) {
    const int b = blockIdx.x / groups, g = blockIdx.x % groups;
    const int cg = channels / groups;
    const long long count = positions * cg;
    const float* base = x + (long long)b * positions * channels + (long long)g * cg;
    double sum = 0.0, sumsq = 0.0;
    for (long long e = threadIdx.x; e < count; e += blockDim.x) {
        const double v = base[(e / cg) * channels + e % cg];
        sum += v;
        sumsq += v * v;
    }
    be_block_sum2(sum, sumsq);
    if (threadIdx.x == 0) {
        const double mu = sum / count;
        const double var = fmax(sumsq / count - mu * mu, 0.0);
        mean[blockIdx.x] = (float)mu;
        rstd[blockIdx.x] = (float)(1.0 / sqrt(var + (double)eps));
    }
}

// y[b,p,ch] = (x[b,p,ch] - mean[b,g]) * rstd[b,g] * gamma[ch] + beta[ch], g = ch / (C/G).
//   x, y: [N, P, C] float32; mean, rstd: [N, G]; gamma, beta: [C]
//   n: N*P*C
// Launch: 1-D, any sizes.
__global__ void gn_fwd_f32(const float* x, const float* mean, const float* rstd,
                           const float* gamma, const float* beta, float* y, long long n,
                           long long positions, int channels, int groups) {
    const int cg = channels / groups;
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % channels);
        const long long s = (i / (positions * channels)) * groups + ch / cg;
        y[i] = (x[i] - mean[s]) * rstd[s] * gamma[ch] + beta[ch];
    }
}

// Per (sample, group) sums for the input gradient, with d = dy * gamma and xhat the normalised x:
//   sums[s, 0] = sum of d,  sums[s, 1] = sum of d * xhat.
//   dy, x: [N, P, C] float32; gamma: [C]; mean, rstd: [N, G]; sums: [N*G, 2] float64
// Launch: N*G blocks of BE_REDUCE_THREADS threads.
__global__ void gn_bwd_sums_f32(const float* dy, const float* x, const float* gamma,
                                const float* mean, const float* rstd, double* sums,
                                long long positions, int channels, int groups) {
    const int b = blockIdx.x / groups, g = blockIdx.x % groups;
    const int cg = channels / groups;
    const long long count = positions * cg;
    const long long offset = (long long)b * positions * channels + (long long)g * cg;
    const double mu = mean[blockIdx.x], r = rstd[blockIdx.x];
    double sumD = 0.0, sumDX = 0.0;
    for (long long e = threadIdx.x; e < count; e += blockDim.x) {
        const int j = (int)(e % cg);
        const long long i = offset + (e / cg) * channels + j;
        const double d = (double)dy[i] * gamma[g * cg + j];
        sumD += d;
        sumDX += d * (x[i] - mu) * r;
    }
    be_block_sum2(sumD, sumDX);
    if (threadIdx.x == 0) {
        sums[2 * (long long)blockIdx.x] = sumD;
        sums[2 * (long long)blockIdx.x + 1] = sumDX;
    }
}

// dx = rstd * (dy*gamma - mean(d) - xhat * mean(d * xhat)), the means over the group's M = P*C/G.
//   dy, x, dx: [N, P, C] float32; gamma: [C]; mean, rstd: [N, G]; sums: [N*G, 2] from gn_bwd_sums_f32
// Launch: 1-D, any sizes.
__global__ void gn_bwd_dx_f32(const float* dy, const float* x, const float* gamma,
                              const float* mean, const float* rstd, const double* sums, float* dx,
                              long long n, long long positions, int channels, int groups) {
    const int cg = channels / groups;
    const double count = (double)positions * cg;
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % channels);
        const long long s = (i / (positions * channels)) * groups + ch / cg;
        const double r = rstd[s];
        const double xhat = (x[i] - mean[s]) * r;
        dx[i] = (float)(r * ((double)dy[i] * gamma[ch] - sums[2 * s] / count
                             - xhat * sums[2 * s + 1] / count));
    }
}

// dgamma and dbeta of GroupNorm, first pass over a chunk of rows (row = one (sample, position)):
//   partial[chunk, 0, ch] = sum of dy * xhat,  partial[chunk, 1, ch] = sum of dy.
//   dy, x: [N*P, C] float32; mean, rstd: [N, G]; partial: [chunks, 2, C] float64
// Launch: grid (ceil(C / blockDim.x), chunks); then pair_sums_finish_f32.
__global__ void gn_param_grads_partial_f32(const float* dy, const float* x, const float* mean,
                                           const float* rstd, double* partial, long long rows,
                                           long long positions, int channels, int groups,
                                           long long rowsPerChunk) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= channels) return;
    const int g = ch / (channels / groups);
    const long long begin = (long long)blockIdx.y * rowsPerChunk;
    const long long end = min(rows, begin + rowsPerChunk);
    double sumDX = 0.0, sumD = 0.0;
    for (long long row = begin; row < end; row++) {
        const long long s = (row / positions) * groups + g;
        const long long i = row * channels + ch;
        const double d = dy[i];
        sumDX += d * (x[i] - mean[s]) * rstd[s];
        sumD += d;
    }
    double* out = partial + (long long)blockIdx.y * 2 * channels;
    out[ch] = sumDX;
    out[channels + ch] = sumD;
}

// Second pass of the per-channel pair sums: a[ch] = sum over chunks of partial[chunk, 0, ch],
// b[ch] likewise of partial[chunk, 1, ch] (dgamma and dbeta for GroupNorm and BatchNorm).
//   partial: [chunks, 2, C] float64; a, b: [C] float32
// Launch: 1-D, any sizes.
__global__ void pair_sums_finish_f32(const double* partial, float* a, float* b, int chunks,
                                     int channels) {
    BE_GRID_STRIDE_LOOP(ch, channels) {
        double sa = 0.0, sb = 0.0;
        for (int k = 0; k < chunks; k++) {
            sa += partial[(long long)k * 2 * channels + ch];
            sb += partial[(long long)k * 2 * channels + channels + ch];
        }
        a[ch] = (float)sa;
        b[ch] = (float)sb;
    }
}

// ---- BatchNorm (x viewed as [M, C], M = N*P) -------------------------------------------------

// First pass of the batch statistics: partial[chunk, 0, ch] = sum of x, partial[chunk, 1, ch] =
// sum of x^2 over the chunk's rows.
//   x: [M, C] float32; partial: [chunks, 2, C] float64
// Launch: grid (ceil(C / blockDim.x), chunks); then bn_stats_finish_f32.
__global__ void bn_stats_partial_f32(const float* x, double* partial, long long rows, int channels,
                                     long long rowsPerChunk) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= channels) return;
    const long long begin = (long long)blockIdx.y * rowsPerChunk;
    const long long end = min(rows, begin + rowsPerChunk);
    double sum = 0.0, sumsq = 0.0;
    for (long long row = begin; row < end; row++) {
        const double v = x[row * channels + ch];
        sum += v;
        sumsq += v * v;
    }
    double* out = partial + (long long)blockIdx.y * 2 * channels;
    out[ch] = sum;
    out[channels + ch] = sumsq;
}

// mean[ch], rstd[ch] = 1/sqrt(biased var + eps) and the unbiased variance (0 when M = 1, as the
// CPU backend) from the partial sums of bn_stats_partial_f32.
//   partial: [chunks, 2, C] float64; mean, rstd, unbiasedVar: [C] float32
// Launch: 1-D, any sizes.
__global__ void bn_stats_finish_f32(const double* partial, float* mean, float* rstd,
                                    float* unbiasedVar, int chunks, int channels, long long rows,
                                    float eps) {
    BE_GRID_STRIDE_LOOP(ch, channels) {
        double sum = 0.0, sumsq = 0.0;
        for (int k = 0; k < chunks; k++) {
            sum += partial[(long long)k * 2 * channels + ch];
            sumsq += partial[(long long)k * 2 * channels + channels + ch];
        }
        const double mu = sum / rows;
        const double sq = fmax(sumsq - sum * mu, 0.0);  // sum of (x - mu)^2
        mean[ch] = (float)mu;
        rstd[ch] = (float)(1.0 / sqrt(sq / rows + (double)eps));
        unbiasedVar[ch] = rows > 1 ? (float)(sq / (rows - 1)) : 0.0f;
    }
}

// y[m, ch] = (x[m, ch] - mean[ch]) * rstd[ch] * gamma[ch] + beta[ch]; serves training mode
// (batch statistics) and, with rstd computed by rstd_from_var_f32, inference mode.
//   x, y: [M, C] float32; mean, rstd, gamma, beta: [C]; n = M*C
// Launch: 1-D, any sizes.
__global__ void bn_fwd_f32(const float* x, const float* mean, const float* rstd,
                           const float* gamma, const float* beta, float* y, long long n,
                           int channels) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % channels);
        y[i] = (x[i] - mean[ch]) * rstd[ch] * gamma[ch] + beta[ch];
    }
}

// rstd[ch] = 1 / sqrt(var[ch] + eps): BatchNorm's inference mode from the running variance.
//   var, rstd: [C] float32
__global__ void rstd_from_var_f32(const float* var, float* rstd, int channels, float eps) {
    BE_GRID_STRIDE_LOOP(ch, channels) {
        rstd[ch] = (float)(1.0 / sqrt((double)var[ch] + (double)eps));
    }
}

// First pass of BatchNorm's parameter gradients: partial[chunk, 0, ch] = sum of dy * xhat,
// partial[chunk, 1, ch] = sum of dy, xhat = (x - mean) * rstd (batch or running statistics).
//   dy, x: [M, C] float32; mean, rstd: [C]; partial: [chunks, 2, C] float64
// Launch: grid (ceil(C / blockDim.x), chunks); then pair_sums_finish_f32 gives dgamma, dbeta.
__global__ void bn_param_grads_partial_f32(const float* dy, const float* x, const float* mean,
                                           const float* rstd, double* partial, long long rows,
                                           int channels, long long rowsPerChunk) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= channels) return;
    const long long begin = (long long)blockIdx.y * rowsPerChunk;
    const long long end = min(rows, begin + rowsPerChunk);
    const double mu = mean[ch], r = rstd[ch];
    double sumDX = 0.0, sumD = 0.0;
    for (long long row = begin; row < end; row++) {
        const long long i = row * channels + ch;
        const double d = dy[i];
        sumDX += d * (x[i] - mu) * r;
        sumD += d;
    }
    double* out = partial + (long long)blockIdx.y * 2 * channels;
    out[ch] = sumDX;
    out[channels + ch] = sumD;
}

// Training-mode input gradient, through the batch statistics:
//   dx = gamma * rstd * (dy - dbeta/M - xhat * dgamma/M)
//   dy, x, dx: [M, C] float32; mean, rstd, gamma, dgamma, dbeta: [C]; n = M*C
// Launch: 1-D, any sizes.
__global__ void bn_bwd_dx_f32(const float* dy, const float* x, const float* mean,
                              const float* rstd, const float* gamma, const float* dgamma,
                              const float* dbeta, float* dx, long long n, int channels,
                              long long rows) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % channels);
        const double r = rstd[ch];
        const double xhat = (x[i] - mean[ch]) * r;
        dx[i] = (float)(gamma[ch] * r * (dy[i] - (double)dbeta[ch] / rows
                                          - xhat * (double)dgamma[ch] / rows));
    }
}

// Inference-mode input gradient (statistics are constants): dx = dy * gamma * rstd.
//   dy, dx: [M, C] float32; gamma, rstd: [C]; n = M*C
__global__ void bn_inference_bwd_dx_f32(const float* dy, const float* gamma, const float* rstd,
                                        float* dx, long long n, int channels) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % channels);
        dx[i] = dy[i] * gamma[ch] * rstd[ch];
    }
}

// running = (1 - momentum) * running + momentum * batch, in place (PyTorch's convention).
//   running, batch: [C] float32
__global__ void running_stat_update_f32(float* running, const float* batch, float momentum,
                                        int channels) {
    BE_GRID_STRIDE_LOOP(ch, channels) {
        running[ch] = (float)((1.0 - (double)momentum) * running[ch] + (double)momentum * batch[ch]);
    }
}

}  // extern "C"
