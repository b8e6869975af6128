// A stand-in for libcudnn.so.9 for FakeGpuTest: the descriptor API Cudnn binds, with cuDNN's C
// signatures (handles and descriptors as pointers, enums as int), and naive float32 convolutions in
// cuDNN's documented layouts: NHWC tensors, KRSC ([O, KH, KW, C/groups]) filters, cross-correlation,
// symmetric padding, groups. It checks the CUDA backend's glue (descriptor arguments, the HWIO <->
// KRSC transposes, explicit asymmetric padding, the workspace) against the CPU backend; it says
// nothing about cuDNN itself.
#include <stdlib.h>
#include <string.h>

typedef struct { int format, type, n, c, h, w; } Tensor4d;
typedef struct { int type, format, k, c, h, w; } Filter4d;
typedef struct { int padH, padW, u, v, dilH, dilW, mode, type, groups, math; } Conv2d;

size_t cudnnGetVersion(void) { return 91000; }
const char *cudnnGetErrorString(int status) { return status == 2000 ? "CUDNN_STATUS_BAD_PARAM" : "CUDNN_STATUS_FAKE"; }
int cudnnCreate(void **handle) { *handle = malloc(1); return 0; }
int cudnnSetStream(void *handle, void *stream) { return handle && stream ? 0 : 2000; }
int cudnnCreateTensorDescriptor(Tensor4d **d) { *d = calloc(1, sizeof(Tensor4d)); return 0; }
int cudnnSetTensor4dDescriptor(Tensor4d *d, int format, int type, int n, int c, int h, int w) {
    if (format != 1 || type != 0 || n < 1 || c < 1 || h < 1 || w < 1) return 2000;  // NHWC float only
    *d = (Tensor4d){format, type, n, c, h, w};
    return 0;
}
int cudnnDestroyTensorDescriptor(Tensor4d *d) { free(d); return 0; }
int cudnnCreateFilterDescriptor(Filter4d **d) { *d = calloc(1, sizeof(Filter4d)); return 0; }
int cudnnSetFilter4dDescriptor(Filter4d *d, int type, int format, int k, int c, int h, int w) {
    if (format != 1 || type != 0 || k < 1 || c < 1 || h < 1 || w < 1) return 2000;
    *d = (Filter4d){type, format, k, c, h, w};
    return 0;
}
int cudnnDestroyFilterDescriptor(Filter4d *d) { free(d); return 0; }
int cudnnCreateConvolutionDescriptor(Conv2d **d) { *d = calloc(1, sizeof(Conv2d)); (*d)->groups = 1; return 0; }
int cudnnSetConvolution2dDescriptor(Conv2d *d, int padH, int padW, int u, int v, int dilH, int dilW, int mode, int type) {
    if (padH < 0 || padW < 0 || u < 1 || v < 1 || dilH != 1 || dilW != 1 || mode != 1 || type != 0) return 2000;
    d->padH = padH; d->padW = padW; d->u = u; d->v = v; d->dilH = dilH; d->dilW = dilW; d->mode = mode; d->type = type;
    return 0;
}
int cudnnSetConvolutionGroupCount(Conv2d *d, int groups) { d->groups = groups; return groups >= 1 ? 0 : 2000; }
int cudnnSetConvolutionMathType(Conv2d *d, int math) { d->math = math; return math >= 0 && math <= 3 ? 0 : 2000; }
int cudnnDestroyConvolutionDescriptor(Conv2d *d) { free(d); return 0; }

/** Checks that x, w, y describe one convolution (cuDNN would return BAD_PARAM otherwise). */
static int consistent(const Tensor4d *x, const Filter4d *w, const Conv2d *c, const Tensor4d *y) {
    int oh = (x->h + 2 * c->padH - w->h) / c->u + 1, ow = (x->w + 2 * c->padW - w->w) / c->v + 1;
    return x->n == y->n && x->c == w->c * c->groups && w->k == y->c && w->k % c->groups == 0 && y->h == oh && y->w == ow;
}

/** One result {algo 0, success, 1 ms, 256 bytes of workspace, deterministic, the descriptor's math}: the 48-byte perf struct. */
static int perf(const Conv2d *c, int requested, int *returned, void *out) {
    if (requested < 1) return 2000;
    char *p = out;
    memset(p, 0, 48);
    int zero = 0, one = 1;
    float ms = 1;
    size_t ws = 256;
    memcpy(p + 0, &zero, 4);
    memcpy(p + 4, &zero, 4);
    memcpy(p + 8, &ms, 4);
    memcpy(p + 16, &ws, 8);
    memcpy(p + 24, &one, 4);
    memcpy(p + 28, &c->math, 4);
    *returned = 1;
    return 0;
}

int cudnnFindConvolutionForwardAlgorithm(void *h, Tensor4d *x, Filter4d *w, Conv2d *c, Tensor4d *y, int req, int *ret, void *out) {
    return h && consistent(x, w, c, y) ? perf(c, req, ret, out) : 2000;
}
int cudnnFindConvolutionBackwardDataAlgorithm(void *h, Filter4d *w, Tensor4d *dy, Conv2d *c, Tensor4d *dx, int req, int *ret, void *out) {
    return h && consistent(dx, w, c, dy) ? perf(c, req, ret, out) : 2000;
}
int cudnnFindConvolutionBackwardFilterAlgorithm(void *h, Tensor4d *x, Tensor4d *dy, Conv2d *c, Filter4d *dw, int req, int *ret, void *out) {
    return h && consistent(x, dw, c, dy) ? perf(c, req, ret, out) : 2000;
}

typedef enum { FORWARD, BACKWARD_DATA, BACKWARD_FILTER } Direction;

/**
 * The three directions share the loop nest: y[n,i,j,o] += x[n,hi,wi,ci] * w[o,r,s,cg]. The output of
 * each direction is accumulated in double and rounded once, so the stand-in adds no rounding error of
 * its own to what the tests compare.
 */
static void convolve(Direction dir, const Tensor4d *xd, const Filter4d *wd, const Conv2d *c, const Tensor4d *yd,
                     float *x, float *w, float *y) {
    int cpg = wd->c, opg = wd->k / c->groups;
    size_t nx = (size_t)xd->n * xd->h * xd->w * xd->c, nw = (size_t)wd->k * wd->h * wd->w * wd->c;
    size_t ny = (size_t)yd->n * yd->h * yd->w * yd->c;
    size_t nout = dir == FORWARD ? ny : dir == BACKWARD_DATA ? nx : nw;
    double *acc = calloc(nout, sizeof(double));
    for (int n = 0; n < yd->n; n++)
        for (int i = 0; i < yd->h; i++)
            for (int j = 0; j < yd->w; j++)
                for (int o = 0; o < yd->c; o++) {
                    int g = o / opg;
                    size_t yi = ((size_t)(n * yd->h + i) * yd->w + j) * yd->c + o;
                    for (int r = 0; r < wd->h; r++) {
                        int hi = i * c->u - c->padH + r;
                        if (hi < 0 || hi >= xd->h) continue;
                        for (int s = 0; s < wd->w; s++) {
                            int wi = j * c->v - c->padW + s;
                            if (wi < 0 || wi >= xd->w) continue;
                            for (int cg = 0; cg < cpg; cg++) {
                                size_t xi = ((size_t)(n * xd->h + hi) * xd->w + wi) * xd->c + g * cpg + cg;
                                size_t wj = ((size_t)(o * wd->h + r) * wd->w + s) * wd->c + cg;
                                if (dir == FORWARD) acc[yi] += (double)x[xi] * w[wj];
                                else if (dir == BACKWARD_DATA) acc[xi] += (double)y[yi] * w[wj];
                                else acc[wj] += (double)x[xi] * y[yi];
                            }
                        }
                    }
                }
    float *out = dir == FORWARD ? y : dir == BACKWARD_DATA ? x : w;
    for (size_t i = 0; i < nout; i++) out[i] = (float)acc[i];
    free(acc);
}

static int check_scalars(const float *alpha, const float *beta, void *ws, size_t wsBytes) {
    return *alpha == 1 && *beta == 0 && ws != NULL && wsBytes == 256;
}

int cudnnConvolutionForward(void *h, const float *alpha, Tensor4d *xd, float *x, Filter4d *wd, float *w, Conv2d *c, int algo,
                            void *ws, size_t wsBytes, const float *beta, Tensor4d *yd, float *y) {
    if (!h || algo != 0 || !check_scalars(alpha, beta, ws, wsBytes) || !consistent(xd, wd, c, yd)) return 2000;
    convolve(FORWARD, xd, wd, c, yd, x, w, y);
    return 0;
}
int cudnnConvolutionBackwardData(void *h, const float *alpha, Filter4d *wd, float *w, Tensor4d *dyd, float *dy, Conv2d *c,
                                 int algo, void *ws, size_t wsBytes, const float *beta, Tensor4d *dxd, float *dx) {
    if (!h || algo != 0 || !check_scalars(alpha, beta, ws, wsBytes) || !consistent(dxd, wd, c, dyd)) return 2000;
    convolve(BACKWARD_DATA, dxd, wd, c, dyd, dx, w, dy);
    return 0;
}
int cudnnConvolutionBackwardFilter(void *h, const float *alpha, Tensor4d *xd, float *x, Tensor4d *dyd, float *dy, Conv2d *c,
                                   int algo, void *ws, size_t wsBytes, const float *beta, Filter4d *dwd, float *dw) {
    if (!h || algo != 0 || !check_scalars(alpha, beta, ws, wsBytes) || !consistent(xd, dwd, c, dyd)) return 2000;
    convolve(BACKWARD_FILTER, xd, dwd, c, dyd, x, dw, dy);
    return 0;
}
