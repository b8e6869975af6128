package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.backend.Devices;
import org.bitengine.engine.backend.cpu.CpuBackend;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Every {@link Backend} op of a CUDA backend against the CPU backend on the same random float32
 * inputs, forward and backward, at BiT's shapes (root 7×7/2 conv, 3×3 and strided 3×3, 1×1
 * projections, GroupNorm 32 groups, 3×3/2 max-pool, head) and EfficientNet's (depthwise conv through
 * groups, asymmetric padding, BatchNorm, swish, SE scaling). TF32 off, so the tolerance is float32
 * rounding (relative to the largest magnitude).
 *
 * <p>Run against a real GPU by {@link CudaBackendParityTest} and against the CPU-emulated fake
 * driver by {@link FakeGpuParityTest}.
 */
abstract class CudaOpsParity {

    /** The backend under test, TF32 off; aborts the test (a skip) where it cannot be opened. */
    abstract CudaBackend backend();

    static final CpuBackend CPU = CpuBackend.get();
    private static final double TOL = 1e-4;

    static Tensor random(Random r, double lo, double hi, int... dims) {
        float[] a = new float[Shape.of(dims).size()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return CPU.wrap(a, Shape.of(dims));
    }

    static Tensor gpu(CudaBackend g, Tensor cpu) {
        return Devices.to(cpu, g);
    }

    /** |gpu − cpu| ≤ tol · max(1, max |cpu|) element-wise, shapes equal. */
    static void assertClose(String what, Tensor cpu, Tensor gpu, double tol) {
        assertEquals(cpu.shape(), gpu.shape(), what + ": shape");
        assertTrue(gpu.backend() instanceof CudaBackend, what + ": the result is not on the GPU");
        double[] e = cpu.toDoubleArray(), a = gpu.toDoubleArray();
        double scale = 1;
        for (double v : e) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(a[i] - e[i]) <= tol * scale)) {
                throw new AssertionError(what + ": element " + i + " is " + a[i] + ", CPU " + e[i] + " (tolerance " + tol * scale + ")");
            }
        }
    }

    private static void assertClose(String what, Tensor cpu, Tensor gpu) {
        assertClose(what, cpu, gpu, TOL);
    }

    // ---- memory ---------------------------------------------------------------------------------

    @Test
    void transfersFillsCastsAndCopies() {
        CudaBackend g = backend();
        float[] f = {1.5f, -2.25f, 3e-8f, Float.MAX_VALUE, -0f, 7};
        assertArrayEquals(f, g.fromHost(f, Shape.of(2, 3)).toFloatArray());
        double[] d = {Math.PI, -1e300, 1e-300};
        assertArrayEquals(d, g.fromHost(d, Shape.of(3)).toDoubleArray());
        int[] labels = {0, 5, -3, Integer.MAX_VALUE};
        Tensor l = g.fromHost(labels, Shape.of(4));
        assertEquals(DType.I32, l.dtype());
        assertArrayEquals(new double[] {0, 5, -3, Integer.MAX_VALUE}, l.toDoubleArray());
        assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f}, g.full(DType.F32, Shape.of(3), 2.5).toFloatArray());
        assertArrayEquals(new double[] {-4, -4}, g.full(DType.F64, Shape.of(2), -4).toDoubleArray());
        assertArrayEquals(new double[] {7, 7}, g.full(DType.I32, Shape.of(2), 7).toDoubleArray());
        assertArrayEquals(new float[4], g.zeros(DType.F32, Shape.of(2, 2)).toFloatArray());
        assertArrayEquals(new float[] {(float) Math.PI, (float) -1e300, 0f}, g.cast(g.fromHost(d, Shape.of(3)), DType.F32).toFloatArray());
        assertArrayEquals(new float[] {0, 5, -3, (float) Integer.MAX_VALUE}, g.cast(l, DType.F32).toFloatArray());
        assertArrayEquals(new double[] {1, -2, 0}, g.cast(g.fromHost(new float[] {1.7f, -2.9f, 0.2f}, Shape.of(3)), DType.I32).toDoubleArray());
        Tensor x = g.fromHost(f, Shape.of(6));
        Tensor c = g.copy(x);
        g.addInPlace(x, x);
        assertArrayEquals(f, c.toFloatArray(), "the copy is independent of the original");
        Tensor dst = g.zeros(DType.F32, Shape.of(6));
        g.copyInPlace(dst, Tensor.of(f, 6));
        assertArrayEquals(f, dst.toFloatArray(), "copyInPlace from a CPU tensor");
        assertEquals(0, g.fromHost(new float[0], Shape.of(0, 3)).toFloatArray().length);
    }

    // ---- convolution ----------------------------------------------------------------------------

    record ConvCase(String name, int[] x, int[] w, ConvSpec spec) {}

    static final ConvCase[] CONVS = {
            new ConvCase("root 7x7/2 pad 3", new int[] {2, 32, 32, 3}, new int[] {7, 7, 3, 64}, ConvSpec.of(2, 3)),
            new ConvCase("3x3/1 pad 1", new int[] {2, 16, 16, 64}, new int[] {3, 3, 64, 64}, ConvSpec.of(1, 1)),
            new ConvCase("3x3/2 pad 1 (stride on the 3x3)", new int[] {2, 16, 16, 64}, new int[] {3, 3, 64, 64}, ConvSpec.of(2, 1)),
            new ConvCase("1x1 expand", new int[] {2, 8, 8, 64}, new int[] {1, 1, 64, 256}, ConvSpec.of(1, 0)),
            new ConvCase("1x1/2 projection", new int[] {2, 8, 8, 256}, new int[] {1, 1, 256, 512}, ConvSpec.of(2, 0)),
            new ConvCase("head 1x1 on [N,1,1,C]", new int[] {3, 1, 1, 512}, new int[] {1, 1, 512, 10}, ConvSpec.of(1, 0)),
            new ConvCase("depthwise 3x3 (groups = C)", new int[] {2, 12, 12, 32}, new int[] {3, 3, 1, 32}, ConvSpec.of(1, 1).withGroups(32)),
            new ConvCase("grouped 3x3 (4 groups)", new int[] {2, 9, 9, 16}, new int[] {3, 3, 4, 24}, ConvSpec.of(1, 1).withGroups(4)),
            new ConvCase("Keras correct_pad 3x3/2 (0,1,0,1) depthwise", new int[] {2, 12, 12, 16}, new int[] {3, 3, 1, 16},
                    new ConvSpec(2, 2, 0, 1, 0, 1, 16)),
            new ConvCase("odd size 5x5/2 asymmetric (1,2,2,1)", new int[] {1, 11, 13, 8}, new int[] {5, 5, 8, 12},
                    new ConvSpec(2, 2, 1, 2, 2, 1, 1)),
    };

    @Test
    void convolutionForwardAndBothBackwardsMatchTheCpu() {
        CudaBackend g = backend();
        Random r = new Random(1);
        for (ConvCase c : CONVS) {
            Tensor x = random(r, -1, 1, c.x()), w = random(r, -0.5, 0.5, c.w());
            Tensor y = CPU.conv2d(x, w, c.spec());
            Tensor yg = g.conv2d(gpu(g, x), gpu(g, w), c.spec());
            assertClose(c.name() + " forward", y, yg);
            Tensor dy = random(r, -1, 1, y.shape().dims());
            assertClose(c.name() + " backward data", CPU.conv2dBackwardData(dy, w, x.shape(), c.spec()),
                    g.conv2dBackwardData(gpu(g, dy), gpu(g, w), x.shape(), c.spec()));
            assertClose(c.name() + " backward filter", CPU.conv2dBackwardFilter(x, dy, w.shape(), c.spec()),
                    g.conv2dBackwardFilter(gpu(g, x), gpu(g, dy), w.shape(), c.spec()));
            // The algorithm cached for the shape gives the same result the second time.
            assertArrayEquals(yg.toFloatArray(), g.conv2d(gpu(g, x), gpu(g, w), c.spec()).toFloatArray(), c.name() + " repeat");
        }
    }


    // ---- normalisation --------------------------------------------------------------------------

    @Test
    void weightStandardisationForwardAndBackward() {
        CudaBackend g = backend();
        Random r = new Random(3);
        for (int[] dims : new int[][] {{3, 3, 64, 64}, {1, 1, 256, 1024}, {7, 7, 3, 64}, {1, 1, 2048, 10}}) {
            Tensor w = random(r, -0.3, 0.7, dims), dwHat = random(r, -1, 1, dims);
            assertClose("ws " + Shape.of(dims), CPU.weightStandardize(w, 1e-10), g.weightStandardize(gpu(g, w), 1e-10));
            assertClose("ws backward " + Shape.of(dims), CPU.weightStandardizeBackward(w, dwHat, 1e-10),
                    g.weightStandardizeBackward(gpu(g, w), gpu(g, dwHat), 1e-10));
        }
    }

    @Test
    void groupNormForwardAndBackward() {
        CudaBackend g = backend();
        Random r = new Random(4);
        for (int[] dims : new int[][] {{2, 16, 16, 256}, {3, 4, 4, 64}, {2, 1, 1, 2048}, {2, 7, 5, 96}}) {
            int c = dims[3];
            Tensor x = random(r, -2, 3, dims), gamma = random(r, 0.5, 1.5, c), beta = random(r, -0.5, 0.5, c);
            Backend.GroupNormResult ref = CPU.groupNorm(x, gamma, beta, 32, 1e-5);
            Backend.GroupNormResult out = g.groupNorm(gpu(g, x), gpu(g, gamma), gpu(g, beta), 32, 1e-5);
            String s = " " + Shape.of(dims);
            assertClose("gn y" + s, ref.y(), out.y());
            assertClose("gn mean" + s, ref.mean(), out.mean());
            assertClose("gn rstd" + s, ref.rstd(), out.rstd());
            Tensor dy = random(r, -1, 1, dims);
            Backend.GroupNormGrads gr = CPU.groupNormBackward(dy, x, gamma, ref.mean(), ref.rstd(), 32);
            Backend.GroupNormGrads gg = g.groupNormBackward(gpu(g, dy), gpu(g, x), gpu(g, gamma), out.mean(), out.rstd(), 32);
            assertClose("gn dx" + s, gr.dx(), gg.dx());
            assertClose("gn dgamma" + s, gr.dgamma(), gg.dgamma());
            assertClose("gn dbeta" + s, gr.dbeta(), gg.dbeta());
        }
    }

    @Test
    void batchNormTrainingInferenceAndRunningStatistics() {
        CudaBackend g = backend();
        Random r = new Random(5);
        for (int[] dims : new int[][] {{4, 8, 8, 32}, {2, 1, 1, 1280}, {1, 3, 3, 16}}) {
            int c = dims[3];
            String s = " " + Shape.of(dims);
            Tensor x = random(r, -1, 4, dims), gamma = random(r, 0.5, 1.5, c), beta = random(r, -0.5, 0.5, c);
            Backend.BatchNormResult ref = CPU.batchNorm(x, gamma, beta, 1e-3);
            Backend.BatchNormResult out = g.batchNorm(gpu(g, x), gpu(g, gamma), gpu(g, beta), 1e-3);
            assertClose("bn y" + s, ref.y(), out.y());
            assertClose("bn mean" + s, ref.mean(), out.mean());
            assertClose("bn rstd" + s, ref.rstd(), out.rstd());
            assertClose("bn unbiased var" + s, ref.unbiasedVar(), out.unbiasedVar());
            Tensor dy = random(r, -1, 1, dims);
            Backend.BatchNormGrads gr = CPU.batchNormBackward(dy, x, gamma, ref.mean(), ref.rstd());
            Backend.BatchNormGrads gg = g.batchNormBackward(gpu(g, dy), gpu(g, x), gpu(g, gamma), out.mean(), out.rstd());
            assertClose("bn dx" + s, gr.dx(), gg.dx());
            assertClose("bn dgamma" + s, gr.dgamma(), gg.dgamma());
            assertClose("bn dbeta" + s, gr.dbeta(), gg.dbeta());

            Tensor rm = random(r, -1, 1, c), rv = random(r, 0.5, 2, c);
            assertClose("bn inference" + s, CPU.batchNormInference(x, gamma, beta, rm, rv, 1e-3),
                    g.batchNormInference(gpu(g, x), gpu(g, gamma), gpu(g, beta), gpu(g, rm), gpu(g, rv), 1e-3));
            Backend.BatchNormGrads ir = CPU.batchNormInferenceBackward(dy, x, gamma, rm, rv, 1e-3);
            Backend.BatchNormGrads ig = g.batchNormInferenceBackward(gpu(g, dy), gpu(g, x), gpu(g, gamma), gpu(g, rm), gpu(g, rv), 1e-3);
            assertClose("bn inference dx" + s, ir.dx(), ig.dx());
            assertClose("bn inference dgamma" + s, ir.dgamma(), ig.dgamma());
            assertClose("bn inference dbeta" + s, ir.dbeta(), ig.dbeta());

            Tensor running = CPU.copy(rm), runningG = gpu(g, rm);
            CPU.runningStatUpdateInPlace(running, ref.mean(), 0.1);
            g.runningStatUpdateInPlace(runningG, out.mean(), 0.1);
            assertClose("running mean update" + s, running, runningG);
        }
    }

    // ---- element-wise ---------------------------------------------------------------------------

    @Test
    void activationsAndTheirGradients() {
        CudaBackend g = backend();
        Random r = new Random(6);
        Tensor x = random(r, -8, 8, 2, 9, 9, 40), dy = random(r, -1, 1, 2, 9, 9, 40);
        Tensor xg = gpu(g, x), dyg = gpu(g, dy);
        assertClose("relu", CPU.relu(x), g.relu(xg), 0);
        assertClose("relu backward", CPU.reluBackward(x, dy), g.reluBackward(xg, dyg), 0);
        Tensor s = CPU.sigmoid(x);
        assertClose("sigmoid", s, g.sigmoid(xg));
        assertClose("sigmoid backward", CPU.sigmoidBackward(s, dy), g.sigmoidBackward(gpu(g, s), dyg));
        assertClose("swish", CPU.swish(x), g.swish(xg));
        assertClose("swish backward", CPU.swishBackward(x, dy), g.swishBackward(xg, dyg));
        float[] nan = g.relu(g.fromHost(new float[] {Float.NaN, -1, 2}, Shape.of(3))).toFloatArray();
        assertTrue(Float.isNaN(nan[0]), "ReLU keeps NaN, as the CPU backend and torch.relu do");
    }

    @Test
    void channelScalingBinaryOpsAndReductions() {
        CudaBackend g = backend();
        Random r = new Random(7);
        Tensor x = random(r, -1, 1, 3, 6, 6, 24), sc = random(r, 0, 1, 3, 24), dy = random(r, -1, 1, 3, 6, 6, 24);
        assertClose("scaleChannels", CPU.scaleChannels(x, sc), g.scaleChannels(gpu(g, x), gpu(g, sc)));
        assertClose("scaleChannels ds", CPU.scaleChannelsBackwardScale(dy, x, sc.shape()),
                g.scaleChannelsBackwardScale(gpu(g, dy), gpu(g, x), sc.shape()));
        Tensor perSample = random(r, 0, 2, 3, 1), x1 = random(r, -1, 1, 3, 5, 5, 1);
        assertClose("scaleChannels with C = 1 (stochastic depth)", CPU.scaleChannels(x1, perSample), g.scaleChannels(gpu(g, x1), gpu(g, perSample)));
        for (BinaryOp op : BinaryOp.values()) {
            for (Tensor b : new Tensor[] {random(r, -1, 1, 3, 6, 6, 24), random(r, -1, 1, 24), random(r, -1, 1, 6, 24), random(r, -1, 1, 1)}) {
                assertClose(op + " with " + b.shape(), CPU.binary(op, x, b), g.binary(op, gpu(g, x), gpu(g, b)));
            }
        }
        assertClose("scale", CPU.scale(x, -0.37), g.scale(gpu(g, x), -0.37));
        for (Shape target : new Shape[] {Shape.of(24), Shape.of(6, 24), Shape.of(1), Shape.of(6, 6, 24)}) {
            assertClose("sumToSuffix " + target, CPU.sumToSuffix(x, target), g.sumToSuffix(gpu(g, x), target));
        }
        Tensor big = random(r, -1, 1, 1_000_003);
        assertClose("sum", CPU.sum(big), g.sum(gpu(g, big)));
        Tensor one = random(r, 1, 2, 1);
        assertClose("sum of one element", CPU.sum(one), g.sum(gpu(g, one)));
        Tensor acc = CPU.copy(x), accG = gpu(g, x);
        CPU.addInPlace(acc, dy);
        g.addInPlace(accG, gpu(g, dy));
        assertClose("addInPlace", acc, accG);
    }

    // ---- spatial --------------------------------------------------------------------------------

    @Test
    void paddingPoolingAndTheirAdjoints() {
        CudaBackend g = backend();
        Random r = new Random(8);
        Tensor x = random(r, -1, 1, 2, 17, 15, 64);
        Tensor xg = gpu(g, x);
        Tensor p = CPU.pad2d(x, 1, 1, 1, 1, 0);
        assertClose("zero pad 1 (BiT root)", p, g.pad2d(xg, 1, 1, 1, 1, 0), 0);
        assertClose("pad (0,2,3,1) value -5", CPU.pad2d(x, 0, 2, 3, 1, -5), g.pad2d(xg, 0, 2, 3, 1, -5), 0);
        Tensor dp = random(r, -1, 1, 2, 19, 21, 64);
        assertClose("crop", CPU.crop2d(dp, 1, 1, 3, 3), g.crop2d(gpu(g, dp), 1, 1, 3, 3), 0);
        // Ties: a coarse grid of values makes equal maxima in a window common, so the "first maximum" rule is tested.
        Tensor coarse = CPU.wrap(quantised(r, 2 * 17 * 15 * 64), Shape.of(2, 17, 15, 64));
        for (Tensor in : new Tensor[] {x, coarse}) {
            Tensor y = CPU.maxPool2d(in, 3, 2);
            assertClose("max-pool 3/2", y, g.maxPool2d(gpu(g, in), 3, 2), 0);
            Tensor dy = random(r, -1, 1, y.shape().dims());
            assertClose("max-pool 3/2 backward", CPU.maxPool2dBackward(in, dy, 3, 2), g.maxPool2dBackward(gpu(g, in), gpu(g, dy), 3, 2));
        }
        assertClose("global mean", CPU.globalAvgPool(x), g.globalAvgPool(xg));
        Tensor dm = random(r, -1, 1, 2, 64);
        assertClose("global mean backward", CPU.globalAvgPoolBackward(dm, x.shape()), g.globalAvgPoolBackward(gpu(g, dm), x.shape()));
    }

    private static float[] quantised(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextInt(4);
        return a;
    }

    // ---- dense, loss, optimiser -----------------------------------------------------------------

    @Test
    void matmulInAllFourTranspositions() {
        CudaBackend g = backend();
        Random r = new Random(9);
        int m = 37, k = 129, n = 10;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Tensor a = ta ? random(r, -1, 1, k, m) : random(r, -1, 1, m, k);
                Tensor b = tb ? random(r, -1, 1, n, k) : random(r, -1, 1, k, n);
                assertClose("matmul transA=" + ta + " transB=" + tb, CPU.matmul(a, b, ta, tb), g.matmul(gpu(g, a), gpu(g, b), ta, tb));
            }
        }
    }

    @Test
    void softmaxCrossEntropyWithHardAndSoftLabels() {
        CudaBackend g = backend();
        Random r = new Random(10);
        int n = 16, k = 1000;
        Tensor logits = random(r, -20, 20, n, k);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(k);
        Tensor labels = Tensor.ofInts(y, n);
        Tensor soft = mixup(r, y, n, k);
        Tensor dLoss = random(r, 0, 1, n);
        for (Tensor target : new Tensor[] {labels, soft}) {
            String kind = target.dtype() == DType.I32 ? "hard" : "soft";
            assertClose("xent " + kind, CPU.softmaxCrossEntropy(logits, target), g.softmaxCrossEntropy(gpu(g, logits), gpu(g, target)));
            assertClose("xent backward " + kind, CPU.softmaxCrossEntropyBackward(logits, target, dLoss),
                    g.softmaxCrossEntropyBackward(gpu(g, logits), gpu(g, target), gpu(g, dLoss)));
        }
    }

    /** MixUp-style targets: λ·onehot(y) + (1 − λ)·onehot(y reversed). */
    private static Tensor mixup(Random r, int[] y, int n, int k) {
        float[] t = new float[n * k];
        for (int i = 0; i < n; i++) {
            float lambda = (float) r.nextDouble();
            t[i * k + y[i]] += lambda;
            t[i * k + y[n - 1 - i]] += 1 - lambda;
        }
        return CPU.wrap(t, Shape.of(n, k));
    }

    @Test
    void sgdWithMomentumOverThreeSteps() {
        CudaBackend g = backend();
        Random r = new Random(11);
        Tensor p = random(r, -1, 1, 3, 3, 64, 64), buf = CPU.zeros(DType.F32, p.shape());
        Tensor pg = gpu(g, p), bufG = g.zeros(DType.F32, p.shape());
        for (int step = 0; step < 3; step++) {
            Tensor grad = random(r, -1, 1, 3, 3, 64, 64);
            CPU.sgdMomentumInPlace(p, grad, buf, 0.003, 0.9);
            g.sgdMomentumInPlace(pg, gpu(g, grad), bufG, 0.003, 0.9);
        }
        assertClose("parameters after 3 SGD steps", p, pg, 1e-6);
        assertClose("momentum after 3 SGD steps", buf, bufG, 1e-6);
    }

    @Test
    void adamAndRmspropOverThreeSteps() {
        CudaBackend g = backend();
        Random r = new Random(12);
        Tensor p = random(r, -1, 1, 3, 3, 32, 64), m = CPU.zeros(DType.F32, p.shape()), v = CPU.zeros(DType.F32, p.shape());
        Tensor q = random(r, -1, 1, 3, 3, 32, 64), w = CPU.zeros(DType.F32, q.shape());
        Tensor pg = gpu(g, p), mg = g.zeros(DType.F32, p.shape()), vg = g.zeros(DType.F32, p.shape());
        Tensor qg = gpu(g, q), wg = g.zeros(DType.F32, q.shape());
        for (int step = 1; step <= 3; step++) {
            Tensor grad = random(r, -1, 1, 3, 3, 32, 64);
            CPU.adamInPlace(p, grad, m, v, 0.01, 0.9, 0.999, 1e-8, step);
            g.adamInPlace(pg, gpu(g, grad), mg, vg, 0.01, 0.9, 0.999, 1e-8, step);
            CPU.rmspropInPlace(q, grad, w, 0.01, 0.9, 1e-8);
            g.rmspropInPlace(qg, gpu(g, grad), wg, 0.01, 0.9, 1e-8);
        }
        assertClose("parameters after 3 Adam steps", p, pg, 1e-5);
        assertClose("second moment after 3 Adam steps", v, vg, 1e-6);
        assertClose("parameters after 3 RMSprop steps", q, qg, 1e-5);
        assertClose("RMSprop average after 3 steps", w, wg, 1e-6);
    }
}
