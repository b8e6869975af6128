// Spatial kernels over NHWC activations: padding, cropping, pooling, and the kernel-layout
// transpose that cuDNN needs.
//
// Launch (all): 1-D grid-stride over the output elements, any sizes; no shared memory.

#include "common.cuh"

extern "C" {

// Constant padding: y[b, i, j, ch] = x[b, i-top, j-left, ch] inside, value on the border.
//   x: [N, H, W, C] float32
//   y: [N, OH, OW, C] float32, OH = H + top + bottom, OW = W + left + right
//   n: N*OH*OW*C
__global__ void pad2d_f32(const float* x, float* y, long long n, int h, int w, int c, int top,
                          int left, int oh, int ow, float value) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % c);
        const int j = (int)((i / c) % ow);
        const int r = (int)((i / ((long long)c * ow)) % oh);
        const long long b = i / ((long long)c * ow * oh);
        const int xr = r - top, xj = j - left;
        y[i] = (xr >= 0 && xr < h && xj >= 0 && xj < w)
                   ? x[((b * h + xr) * w + xj) * c + ch]
                   : value;
    }
}

// The adjoint of pad2d: dx is the interior of dy.
//   dy: [N, IH, IW, C] float32 (the padded gradient)
//   dx: [N, OH, OW, C] float32, OH = IH - top - bottom, OW = IW - left - right
//   n: N*OH*OW*C
__global__ void crop2d_f32(const float* dy, float* dx, long long n, int oh, int ow, int c,
                           int top, int left, int ih, int iw) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % c);
        const int j = (int)((i / c) % ow);
        const int r = (int)((i / ((long long)c * ow)) % oh);
        const long long b = i / ((long long)c * ow * oh);
        dx[i] = dy[((b * ih + r + top) * iw + j + left) * c + ch];
    }
}

// Max-pool without padding, window k, stride s.
//   x: [N, H, W, C] float32; y: [N, OH, OW, C] float32, OH = (H-k)/s + 1, OW = (W-k)/s + 1
//   n: N*OH*OW*C
__global__ void maxpool_fwd_f32(const float* x, float* y, long long n, int h, int w, int c,
                                int k, int s, int oh, int ow) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % c);
        const int j = (int)((i / c) % ow);
        const int r = (int)((i / ((long long)c * ow)) % oh);
        const long long b = i / ((long long)c * ow * oh);
        float best = x[((b * h + r * s) * w + j * s) * c + ch];
        for (int dr = 0; dr < k; dr++) {
            for (int dj = 0; dj < k; dj++) {
                const float v = x[((b * h + r * s + dr) * w + j * s + dj) * c + ch];
                if (v > best) best = v;
            }
        }
        y[i] = best;
    }
}

// Gradient of maxpool_fwd_f32: each window's dy goes to its first maximum (scan order h, then
// w, as the CPU backend). Written as a gather, one thread per input element visiting the windows
// that contain it, so overlapping windows (3x3 stride 2) need no atomics and the sum order is
// fixed.
//   x: [N, H, W, C] float32 (forward input); dy: [N, OH, OW, C] float32; dx: [N, H, W, C]
//   n: N*H*W*C
__global__ void maxpool_bwd_f32(const float* x, const float* dy, float* dx, long long n, int h,
                                int w, int c, int k, int s, int oh, int ow) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const int ch = (int)(i % c);
        const int xj = (int)((i / c) % w);
        const int xr = (int)((i / ((long long)c * w)) % h);
        const long long b = i / ((long long)c * w * h);
        // Windows r with r*s <= xr < r*s + k.
        const int rLo = xr >= k ? (xr - k) / s + 1 : 0;
        const int rHi = min(oh - 1, xr / s);
        const int jLo = xj >= k ? (xj - k) / s + 1 : 0;
        const int jHi = min(ow - 1, xj / s);
        float acc = 0.0f;
        for (int r = rLo; r <= rHi; r++) {
            for (int j = jLo; j <= jHi; j++) {
                int argR = r * s, argJ = j * s;
                float best = x[((b * h + argR) * w + argJ) * c + ch];
                for (int dr = 0; dr < k; dr++) {
                    for (int dj = 0; dj < k; dj++) {
                        const float v = x[((b * h + r * s + dr) * w + j * s + dj) * c + ch];
                        if (v > best) {
                            best = v;
                            argR = r * s + dr;
                            argJ = j * s + dj;
                        }
                    }
                }
                if (argR == xr && argJ == xj) {
                    acc += dy[((b * oh + r) * ow + j) * c + ch];
                }
            }
        }
        dx[i] = acc;
    }
}

// Mean over the positions of each sample: y[b, ch] = mean over p of x[b, p, ch].
//   x: [N, P, C] float32 (P = H*W); y: [N, C] float32
__global__ void global_avg_pool_f32(const float* x, float* y, int samples, long long positions,
                                    int c) {
    BE_GRID_STRIDE_LOOP(i, (long long)samples * c) {
        const long long b = i / c;
        const int ch = (int)(i % c);
        const float* base = x + b * positions * c + ch;
        double acc = 0.0;
        for (long long p = 0; p < positions; p++) {
            acc += base[p * c];
        }
        y[i] = (float)(acc / positions);
    }
}

// dx[b, p, ch] = dy[b, ch] / P.
//   dy: [N, C] float32; dx: [N, P, C] float32; n = N*P*C
__global__ void global_avg_pool_bwd_f32(const float* dy, float* dx, long long n,
                                        long long positions, int c) {
    BE_GRID_STRIDE_LOOP(i, n) {
        const long long b = i / (positions * c);
        const int ch = (int)(i % c);
        dx[i] = dy[b * c + ch] / (float)positions;
    }
}

// y = x^T for x viewed as [rows, cols]: y[j, i] = x[i, j]. Turns an HWIO kernel ([KH*KW*I, O])
// into cuDNN's KRSC filter ([O, KH*KW*I], i.e. O,H,W,I) and back.
//   x: [rows, cols] float32; y: [cols, rows] float32
__global__ void transpose2d_f32(const float* x, float* y, int rows, int cols) {
    BE_GRID_STRIDE_LOOP(i, (long long)rows * cols) {
        const long long r = i / cols;
        const long long col = i % cols;
        y[col * rows + r] = x[i];
    }
}

}  // extern "C"
