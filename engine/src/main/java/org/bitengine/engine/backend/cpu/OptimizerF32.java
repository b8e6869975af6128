package org.bitengine.engine.backend.cpu;

/**
 * Float32 loops of the adaptive optimizers' updates, each in a small method of its own so that C2
 * vectorises it (see {@link RowKernels}). Every array has the parameter's length; the arithmetic is
 * float32 throughout, as PyTorch's foreach kernels do it.
 */
final class OptimizerF32 {

    private OptimizerF32() {}

    /** Adam: see {@link org.bitengine.engine.backend.Backend#adamInPlace}; stepSize = lr/(1−β1^t). */
    static void adam(float[] p, float[] g, float[] m, float[] v, float stepSize, float beta1, float beta2, float eps,
                     float sqrtCorrection) {
        float oneMinusBeta1 = 1 - beta1;
        float oneMinusBeta2 = 1 - beta2;
        for (int i = 0; i < p.length; i++) {
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
        float oneMinusAlpha = 1 - alpha;
        for (int i = 0; i < p.length; i++) {
            float gi = g[i];
            float vi = alpha * v[i] + oneMinusAlpha * gi * gi;
            v[i] = vi;
            p[i] -= lr * gi / ((float) Math.sqrt(vi) + eps);
        }
    }
}
