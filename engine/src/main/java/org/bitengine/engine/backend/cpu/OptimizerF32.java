package org.bitengine.engine.backend.cpu;

/**
 * Float32 loops of the optimizers' updates, split over the CPU threads in ranges (each element's
 * update is independent, so the result does not depend on the thread count); each range loop is a
 * small method of its own so that C2 vectorises it (see {@link RowKernels}). Every array has the
 * parameter's length; the arithmetic is float32 throughout, as PyTorch's kernels do it.
 */
final class OptimizerF32 {

    private static final int GRAIN = ElementwiseF32.GRAIN;

    private OptimizerF32() {}

    /** SGD with momentum: see {@link org.bitengine.engine.backend.Backend#sgdMomentumInPlace}. */
    static void sgdMomentum(float[] p, float[] g, float[] buf, float lr, float momentum) {
        CpuParallel.forRange(0, p.length, GRAIN, (from, to) -> sgdRange(p, g, buf, lr, momentum, from, to));
    }

    private static void sgdRange(float[] p, float[] g, float[] buf, float lr, float momentum, int from, int to) {
        for (int i = from; i < to; i++) {
            float b = momentum * buf[i] + g[i];
            buf[i] = b;
            p[i] -= lr * b;
        }
    }

    /** Adam: see {@link org.bitengine.engine.backend.Backend#adamInPlace}; stepSize = lr/(1−β1^t). */
    static void adam(float[] p, float[] g, float[] m, float[] v, float stepSize, float beta1, float beta2, float eps,
                     float sqrtCorrection) {
        CpuParallel.forRange(0, p.length, GRAIN,
                (from, to) -> adamRange(p, g, m, v, stepSize, beta1, beta2, eps, sqrtCorrection, from, to));
    }

    private static void adamRange(float[] p, float[] g, float[] m, float[] v, float stepSize, float beta1, float beta2,
                                  float eps, float sqrtCorrection, int from, int to) {
        float oneMinusBeta1 = 1 - beta1;
        float oneMinusBeta2 = 1 - beta2;
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float mi = beta1 * m[i] + oneMinusBeta1 * gi;
            float vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= stepSize * mi / ((float) Math.sqrt(vi) / sqrtCorrection + eps);
        }
    }

    /** RMSprop: see {@link org.bitengine.engine.backend.Backend#rmspropInPlace}. */
    static void rmsprop(float[] p, float[] g, float[] v, float lr, float alpha, float eps) {
        CpuParallel.forRange(0, p.length, GRAIN, (from, to) -> rmspropRange(p, g, v, lr, alpha, eps, from, to));
    }

    private static void rmspropRange(float[] p, float[] g, float[] v, float lr, float alpha, float eps, int from, int to) {
        float oneMinusAlpha = 1 - alpha;
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float vi = alpha * v[i] + oneMinusAlpha * gi * gi;
            v[i] = vi;
            p[i] -= lr * gi / ((float) Math.sqrt(vi) + eps);
        }
    }
}
