package org.bitengine.engine.backend.cpu;

import java.util.Arrays;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * The CPU backend. Float64 runs the plain reference loops ({@link CpuReference},
 * {@link Conv2dReference}), which the gradient checks and the float64 golden tests use. When all tensor
 * arguments are float32 an op takes its fast path, tested against the reference: convolution and matmul
 * through the blocked {@link Sgemm} ({@link Conv2dF32}), normalisation in {@link WeightStandardizeF32} and
 * {@link GroupNormF32}, element-wise ops and reductions in {@link ElementwiseF32}, padding and pooling in
 * {@link SpatialF32}. The rest (the loss, mixed dtypes) evaluates the reference in double precision and
 * rounds the result, which is at least as accurate as float32 arithmetic.
 */
public final class CpuBackend implements Backend {

    private static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    public static CpuBackend get() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "cpu";
    }

    // ---- memory ----------------------------------------------------------------------------

    public Tensor wrap(float[] data, Shape shape) {
        return new Tensor(shape, new CpuStorage.F32(data));
    }

    public Tensor wrap(double[] data, Shape shape) {
        return new Tensor(shape, new CpuStorage.F64(data));
    }

    public Tensor wrap(int[] data, Shape shape) {
        return new Tensor(shape, new CpuStorage.I32(data));
    }

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        return full(dtype, shape, 0);
    }

    @Override
    public Tensor full(DType dtype, Shape shape, double value) {
        return switch (dtype) {
            case F32 -> {
                float[] a = new float[shape.size()];
                if (value != 0) Arrays.fill(a, (float) value);
                yield wrap(a, shape);
            }
            case F64 -> {
                double[] a = new double[shape.size()];
                if (value != 0) Arrays.fill(a, value);
                yield wrap(a, shape);
            }
            case I32 -> {
                int[] a = new int[shape.size()];
                if (value != 0) Arrays.fill(a, (int) value);
                yield wrap(a, shape);
            }
        };
    }

    @Override
    public Tensor fromHost(float[] data, Shape shape) {
        return wrap(data.clone(), shape);
    }

    @Override
    public Tensor fromHost(double[] data, Shape shape) {
        return wrap(data.clone(), shape);
    }

    @Override
    public Tensor fromHost(int[] data, Shape shape) {
        return wrap(data.clone(), shape);
    }

    @Override
    public float[] toFloatArray(Tensor t) {
        return switch (storage(t)) {
            case CpuStorage.F32 s -> s.data().clone();
            case CpuStorage.F64 s -> toFloat(s.data());
            case CpuStorage.I32 s -> {
                float[] out = new float[s.data().length];
                for (int i = 0; i < out.length; i++) out[i] = s.data()[i];
                yield out;
            }
        };
    }

    @Override
    public double[] toDoubleArray(Tensor t) {
        return switch (storage(t)) {
            case CpuStorage.F64 s -> s.data().clone();
            default -> doubles(t);
        };
    }

    @Override
    public Tensor cast(Tensor x, DType to) {
        if (x.dtype() == to) return x;
        return switch (to) {
            case F32 -> wrap(toFloatArray(x), x.shape());
            case F64 -> wrap(toDoubleArray(x), x.shape());
            case I32 -> {
                double[] d = doubles(x);
                int[] out = new int[d.length];
                for (int i = 0; i < d.length; i++) out[i] = (int) d[i];
                yield wrap(out, x.shape());
            }
        };
    }

    @Override
    public Tensor copy(Tensor x) {
        return switch (storage(x)) {
            case CpuStorage.F32 s -> wrap(s.data().clone(), x.shape());
            case CpuStorage.F64 s -> wrap(s.data().clone(), x.shape());
            case CpuStorage.I32 s -> wrap(s.data().clone(), x.shape());
        };
    }

    // ---- convolution -----------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        ConvGeometry g = ConvGeometry.of(x.shape(), w.shape(), spec);
        Shape yShape = Shape.of(g.n(), g.oh(), g.ow(), g.o());
        if (bothF32(x, w)) {
            float[] y = new float[yShape.size()];
            Conv2dF32.forward(g, f32(x), f32(w), y);
            return wrap(y, yShape);
        }
        double[] y = new double[yShape.size()];
        Conv2dReference.forward(g, doubles(x), doubles(w), y);
        return result(y, yShape, x);
    }

    @Override
    public Tensor conv2dBackwardData(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        ConvGeometry g = ConvGeometry.of(xShape, w.shape(), spec);
        if (bothF32(dy, w)) {
            float[] dx = new float[xShape.size()];
            Conv2dF32.backwardData(g, f32(dy), f32(w), dx);
            return wrap(dx, xShape);
        }
        double[] dx = new double[xShape.size()];
        Conv2dReference.backwardData(g, doubles(dy), doubles(w), dx);
        return result(dx, xShape, dy);
    }

    @Override
    public Tensor conv2dBackwardFilter(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        ConvGeometry g = ConvGeometry.of(x.shape(), wShape, spec);
        if (bothF32(x, dy)) {
            float[] dw = new float[wShape.size()];
            Conv2dF32.backwardFilter(g, f32(x), f32(dy), dw);
            return wrap(dw, wShape);
        }
        double[] dw = new double[wShape.size()];
        Conv2dReference.backwardFilter(g, doubles(x), doubles(dy), dw);
        return result(dw, wShape, x);
    }

    // ---- normalisation ---------------------------------------------------------------------

    @Override
    public Tensor weightStandardize(Tensor w, double eps) {
        int o = w.shape().dim(-1);
        if (isF32(w)) return wrap(WeightStandardizeF32.forward(f32(w), w.size() / o, o, eps, new float[w.size()]), w.shape());
        return result(CpuReference.weightStandardize(doubles(w), w.size() / o, o, eps), w.shape(), w);
    }

    @Override
    public Tensor weightStandardizeBackward(Tensor w, Tensor dwHat, double eps) {
        int o = w.shape().dim(-1);
        if (bothF32(w, dwHat)) return wrap(WeightStandardizeF32.backward(f32(w), f32(dwHat), w.size() / o, o, eps, new float[w.size()]), w.shape());
        return result(CpuReference.weightStandardizeBackward(doubles(w), doubles(dwHat), w.size() / o, o, eps), w.shape(), w);
    }

    @Override
    public GroupNormResult groupNorm(Tensor x, Tensor gamma, Tensor beta, int groups, double eps) {
        int n = x.shape().dim(0);
        int c = x.shape().dim(-1);
        checkGroups(c, groups, gamma, beta);
        Shape stats = Shape.of(n, groups);
        if (allF32(x, gamma, beta)) {
            float[] y = new float[x.size()], mean = new float[n * groups], rstd = new float[n * groups];
            GroupNormF32.forward(f32(x), n, x.size() / (n * c), c, groups, f32(gamma), f32(beta), eps, y, mean, rstd);
            return new GroupNormResult(wrap(y, x.shape()), wrap(mean, stats), wrap(rstd, stats));
        }
        double[] y = new double[x.size()];
        double[] mean = new double[n * groups];
        double[] rstd = new double[n * groups];
        CpuReference.groupNorm(doubles(x), n, x.size() / (n * c), c, groups, doubles(gamma), doubles(beta), eps, y, mean, rstd);
        return new GroupNormResult(result(y, x.shape(), x), result(mean, stats, x), result(rstd, stats, x));
    }

    @Override
    public GroupNormGrads groupNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, int groups) {
        int n = x.shape().dim(0);
        int c = x.shape().dim(-1);
        if (allF32(dy, x, gamma, mean, rstd)) {
            float[] dx = new float[x.size()], dgamma = new float[c], dbeta = new float[c];
            GroupNormF32.backward(f32(dy), f32(x), n, x.size() / (n * c), c, groups, f32(gamma), f32(mean), f32(rstd), dx, dgamma, dbeta);
            return new GroupNormGrads(wrap(dx, x.shape()), wrap(dgamma, gamma.shape()), wrap(dbeta, gamma.shape()));
        }
        double[] dx = new double[x.size()];
        double[] dgamma = new double[c];
        double[] dbeta = new double[c];
        CpuReference.groupNormBackward(doubles(dy), doubles(x), n, x.size() / (n * c), c, groups, doubles(gamma),
                doubles(mean), doubles(rstd), dx, dgamma, dbeta);
        return new GroupNormGrads(result(dx, x.shape(), x), result(dgamma, gamma.shape(), gamma), result(dbeta, gamma.shape(), gamma));
    }

    /** Float32: one pass writes the ReLU of the normalised value ({@link GroupNormF32#forwardRelu}). */
    @Override
    public GroupNormResult groupNormRelu(Tensor x, Tensor gamma, Tensor beta, int groups, double eps) {
        if (!allF32(x, gamma, beta)) return Backend.super.groupNormRelu(x, gamma, beta, groups, eps);
        int n = x.shape().dim(0);
        int c = x.shape().dim(-1);
        checkGroups(c, groups, gamma, beta);
        Shape stats = Shape.of(n, groups);
        float[] y = new float[x.size()], mean = new float[n * groups], rstd = new float[n * groups];
        GroupNormF32.forwardRelu(f32(x), n, x.size() / (n * c), c, groups, f32(gamma), f32(beta), eps, y, mean, rstd);
        return new GroupNormResult(wrap(y, x.shape()), wrap(mean, stats), wrap(rstd, stats));
    }

    /** Float32: the ReLU mask is applied inside GroupNorm's backward sums ({@link GroupNormF32#backwardRelu}). */
    @Override
    public GroupNormGrads groupNormReluBackward(Tensor dy, Tensor y, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, int groups) {
        if (!allF32(dy, y, x, gamma, mean, rstd)) return Backend.super.groupNormReluBackward(dy, y, x, gamma, mean, rstd, groups);
        int n = x.shape().dim(0);
        int c = x.shape().dim(-1);
        float[] dx = new float[x.size()], dgamma = new float[c], dbeta = new float[c];
        GroupNormF32.backwardRelu(f32(dy), f32(x), f32(y), n, x.size() / (n * c), c, groups, f32(gamma), f32(mean), f32(rstd),
                dx, dgamma, dbeta);
        return new GroupNormGrads(wrap(dx, x.shape()), wrap(dgamma, gamma.shape()), wrap(dbeta, gamma.shape()));
    }

    private static void checkGroups(int c, int groups, Tensor gamma, Tensor beta) {
        if (c % groups != 0) throw new IllegalArgumentException("GroupNorm: " + c + " channels not divisible by " + groups + " groups");
        if (gamma.size() != c || beta.size() != c) {
            throw new IllegalArgumentException("GroupNorm: gamma " + gamma.shape() + " / beta " + beta.shape() + " do not match " + c + " channels");
        }
    }

    @Override
    public BatchNormResult batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        int c = checkBatchNorm(x, "batchNorm", gamma, beta);
        int m = x.size() / c;
        Shape cs = Shape.of(c);
        if (allF32(x, gamma, beta)) {
            float[] y = new float[x.size()], mean = new float[c], rstd = new float[c], var = new float[c];
            BatchNormF32.forward(f32(x), m, c, f32(gamma), f32(beta), eps, y, mean, rstd, var);
            return new BatchNormResult(wrap(y, x.shape()), wrap(mean, cs), wrap(rstd, cs), wrap(var, cs));
        }
        double[] y = new double[x.size()], mean = new double[c], rstd = new double[c], var = new double[c];
        CpuReference.batchNorm(doubles(x), m, c, doubles(gamma), doubles(beta), eps, y, mean, rstd, var);
        return new BatchNormResult(result(y, x.shape(), x), result(mean, cs, x), result(rstd, cs, x), result(var, cs, x));
    }

    @Override
    public BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd) {
        int c = checkBatchNorm(x, "batchNormBackward", gamma, mean, rstd);
        int m = x.size() / c;
        if (allF32(dy, x, gamma, mean, rstd)) {
            float[] dx = new float[x.size()], dgamma = new float[c], dbeta = new float[c];
            BatchNormF32.backward(f32(dy), f32(x), m, c, f32(gamma), f32(mean), f32(rstd), dx, dgamma, dbeta);
            return new BatchNormGrads(wrap(dx, x.shape()), wrap(dgamma, gamma.shape()), wrap(dbeta, gamma.shape()));
        }
        double[] dx = new double[x.size()], dgamma = new double[c], dbeta = new double[c];
        CpuReference.batchNormBackward(doubles(dy), doubles(x), m, c, doubles(gamma), doubles(mean), doubles(rstd), dx, dgamma, dbeta);
        return new BatchNormGrads(result(dx, x.shape(), dy), result(dgamma, gamma.shape(), gamma), result(dbeta, gamma.shape(), gamma));
    }

    @Override
    public Tensor batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps) {
        int c = checkBatchNorm(x, "batchNormInference", gamma, beta, runningMean, runningVar);
        int m = x.size() / c;
        if (allF32(x, gamma, beta, runningMean, runningVar)) {
            float[] y = new float[x.size()];
            BatchNormF32.inference(f32(x), m, c, f32(gamma), f32(beta), f32(runningMean), f32(runningVar), eps, y);
            return wrap(y, x.shape());
        }
        return result(CpuReference.batchNormInference(doubles(x), m, c, doubles(gamma), doubles(beta), doubles(runningMean),
                doubles(runningVar), eps), x.shape(), x);
    }

    @Override
    public BatchNormGrads batchNormInferenceBackward(Tensor dy, Tensor x, Tensor gamma, Tensor runningMean, Tensor runningVar, double eps) {
        int c = checkBatchNorm(x, "batchNormInferenceBackward", gamma, runningMean, runningVar);
        int m = x.size() / c;
        if (allF32(dy, x, gamma, runningMean, runningVar)) {
            float[] dx = new float[x.size()], dgamma = new float[c], dbeta = new float[c];
            BatchNormF32.inferenceBackward(f32(dy), f32(x), m, c, f32(gamma), f32(runningMean), f32(runningVar), eps, dx, dgamma, dbeta);
            return new BatchNormGrads(wrap(dx, x.shape()), wrap(dgamma, gamma.shape()), wrap(dbeta, gamma.shape()));
        }
        double[] dx = new double[x.size()], dgamma = new double[c], dbeta = new double[c];
        CpuReference.batchNormInferenceBackward(doubles(dy), doubles(x), m, c, doubles(gamma), doubles(runningMean),
                doubles(runningVar), eps, dx, dgamma, dbeta);
        return new BatchNormGrads(result(dx, x.shape(), dy), result(dgamma, gamma.shape(), gamma), result(dbeta, gamma.shape(), gamma));
    }

    @Override
    public void runningStatUpdateInPlace(Tensor running, Tensor batch, double momentum) {
        if (!running.shape().equals(batch.shape())) {
            throw new IllegalArgumentException("runningStatUpdateInPlace: running " + running.shape() + " vs batch " + batch.shape());
        }
        double[] b = doubles(batch);
        switch (storage(running)) {
            case CpuStorage.F32 s -> {
                float[] r = s.data();
                for (int i = 0; i < r.length; i++) r[i] = (float) ((1 - momentum) * r[i] + momentum * b[i]);
            }
            case CpuStorage.F64 s -> {
                double[] r = s.data();
                for (int i = 0; i < r.length; i++) r[i] = (1 - momentum) * r[i] + momentum * b[i];
            }
            case CpuStorage.I32 s -> throw new IllegalArgumentException("runningStatUpdateInPlace on an int32 tensor");
        }
    }

    /** The channel count C of x [N,...,C], after checking that every per-channel tensor has C elements. */
    private static int checkBatchNorm(Tensor x, String op, Tensor... perChannel) {
        if (x.shape().rank() < 2) throw new IllegalArgumentException(op + " wants x [N,...,C], got " + x.shape());
        int c = x.shape().dim(-1);
        for (Tensor t : perChannel) {
            if (t.size() != c) throw new IllegalArgumentException(op + ": per-channel tensor " + t.shape() + " does not match " + c + " channels of " + x.shape());
        }
        return c;
    }

    // ---- element-wise ----------------------------------------------------------------------

    @Override
    public Tensor relu(Tensor x) {
        if (isF32(x)) return wrap(ElementwiseF32.relu(f32(x), new float[x.size()]), x.shape());
        double[] v = doubles(x);
        // NaN passes through, as in torch.relu and the CUDA kernel, so a diverged run is not masked.
        for (int i = 0; i < v.length; i++) if (v[i] < 0) v[i] = 0;
        return result(v, x.shape(), x);
    }

    @Override
    public Tensor reluBackward(Tensor x, Tensor dy) {
        if (bothF32(x, dy)) return wrap(ElementwiseF32.reluBackward(f32(x), f32(dy), new float[x.size()]), x.shape());
        double[] xv = doubles(x);
        double[] g = doubles(dy);
        for (int i = 0; i < g.length; i++) if (!(xv[i] > 0)) g[i] = 0;
        return result(g, x.shape(), dy);
    }

    @Override
    public Tensor sigmoid(Tensor x) {
        if (isF32(x)) return wrap(ActivationF32.sigmoid(f32(x), new float[x.size()]), x.shape());
        return result(CpuReference.sigmoid(doubles(x)), x.shape(), x);
    }

    @Override
    public Tensor sigmoidBackward(Tensor y, Tensor dy) {
        sameShape(y, dy, "sigmoidBackward");
        if (bothF32(y, dy)) return wrap(ActivationF32.sigmoidBackward(f32(y), f32(dy), new float[y.size()]), y.shape());
        return result(CpuReference.sigmoidBackward(doubles(y), doubles(dy)), y.shape(), dy);
    }

    @Override
    public Tensor swish(Tensor x) {
        if (isF32(x)) return wrap(ActivationF32.swish(f32(x), new float[x.size()]), x.shape());
        return result(CpuReference.swish(doubles(x)), x.shape(), x);
    }

    @Override
    public Tensor swishBackward(Tensor x, Tensor dy) {
        sameShape(x, dy, "swishBackward");
        if (bothF32(x, dy)) return wrap(ActivationF32.swishBackward(f32(x), f32(dy), new float[x.size()]), x.shape());
        return result(CpuReference.swishBackward(doubles(x), doubles(dy)), x.shape(), dy);
    }

    @Override
    public Tensor scaleChannels(Tensor x, Tensor s) {
        int[] npc = scaleChannelsGeometry(x.shape(), s.shape());
        if (bothF32(x, s)) return wrap(ActivationF32.scaleChannels(f32(x), npc[0], npc[1], npc[2], f32(s), new float[x.size()]), x.shape());
        return result(CpuReference.scaleChannels(doubles(x), npc[0], npc[1], npc[2], doubles(s)), x.shape(), x);
    }

    @Override
    public Tensor scaleChannelsBackwardScale(Tensor dy, Tensor x, Shape sShape) {
        sameShape(x, dy, "scaleChannelsBackwardScale");
        int[] npc = scaleChannelsGeometry(x.shape(), sShape);
        if (bothF32(dy, x)) {
            return wrap(ActivationF32.scaleChannelsBackwardScale(f32(dy), f32(x), npc[0], npc[1], npc[2], new float[sShape.size()]), sShape);
        }
        return result(CpuReference.scaleChannelsBackwardScale(doubles(dy), doubles(x), npc[0], npc[1], npc[2]), sShape, dy);
    }

    /** {n, positions per sample, c} for x [N,...,C] and s [N,C]. */
    private static int[] scaleChannelsGeometry(Shape x, Shape s) {
        if (x.rank() < 2 || s.rank() != 2 || s.dim(0) != x.dim(0) || s.dim(1) != x.dim(-1)) {
            throw new IllegalArgumentException("scaleChannels wants x [N,...,C] and s [N,C], got x " + x + " and s " + s);
        }
        int n = x.dim(0), c = x.dim(-1);
        return new int[] {n, x.size() / Math.max(1, n * c), c};
    }

    private static void sameShape(Tensor a, Tensor b, String op) {
        if (!a.shape().equals(b.shape())) throw new IllegalArgumentException(op + ": " + a.shape() + " vs " + b.shape());
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        if (!isSuffix(b.shape(), a.shape()) && b.size() != 1) {
            throw new IllegalArgumentException(op + ": cannot broadcast " + b.shape() + " to " + a.shape());
        }
        if (bothF32(a, b)) return wrap(ElementwiseF32.binary(op, f32(a), f32(b), new float[a.size()]), a.shape());
        double[] av = doubles(a);
        double[] bv = doubles(b);
        int period = bv.length;
        for (int i = 0; i < av.length; i++) av[i] = op.apply(av[i], bv[i % period]);
        return result(av, a.shape(), a);
    }

    @Override
    public Tensor scale(Tensor x, double alpha) {
        if (isF32(x)) return wrap(ElementwiseF32.scale(f32(x), alpha, new float[x.size()]), x.shape());
        double[] v = doubles(x);
        for (int i = 0; i < v.length; i++) v[i] *= alpha;
        return result(v, x.shape(), x);
    }

    @Override
    public Tensor sumToSuffix(Tensor x, Shape target) {
        if (target.equals(x.shape())) return x;
        if (!isSuffix(target, x.shape()) && target.size() != 1) {
            throw new IllegalArgumentException("cannot sum " + x.shape() + " down to " + target);
        }
        if (isF32(x)) return wrap(ElementwiseF32.sumToSuffix(f32(x), target.size(), new float[target.size()]), target);
        double[] v = doubles(x);
        double[] out = new double[target.size()];
        for (int i = 0; i < v.length; i++) out[i % out.length] += v[i];
        return result(out, target, x);
    }

    @Override
    public Tensor sum(Tensor x) {
        if (isF32(x)) return wrap(new float[] {(float) ElementwiseF32.sum(f32(x))}, Shape.scalar());
        double s = 0;
        for (double v : doubles(x)) s += v;
        return result(new double[] {s}, Shape.scalar(), x);
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        if (!acc.shape().equals(x.shape())) throw new IllegalArgumentException("addInPlace: " + acc.shape() + " vs " + x.shape());
        switch (storage(acc)) {
            case CpuStorage.F32 s when isF32(x) -> ElementwiseF32.addInPlace(s.data(), f32(x));
            case CpuStorage.F32 s -> {
                float[] a = s.data();
                double[] v = doubles(x);
                for (int i = 0; i < a.length; i++) a[i] += (float) v[i];
            }
            case CpuStorage.F64 s -> {
                double[] a = s.data();
                double[] v = doubles(x);
                for (int i = 0; i < a.length; i++) a[i] += v[i];
            }
            case CpuStorage.I32 s -> throw new IllegalArgumentException("addInPlace on an int32 tensor");
        }
    }

    @Override
    public void copyInPlace(Tensor dst, Tensor src) {
        if (!dst.shape().equals(src.shape())) throw new IllegalArgumentException("copyInPlace: " + dst.shape() + " vs " + src.shape());
        switch (storage(dst)) {
            case CpuStorage.F32 s -> System.arraycopy(isF32(src) ? f32(src) : toFloat(doubles(src)), 0, s.data(), 0, s.data().length);
            case CpuStorage.F64 s -> System.arraycopy(doubles(src), 0, s.data(), 0, s.data().length);
            case CpuStorage.I32 s -> throw new IllegalArgumentException("copyInPlace into an int32 tensor");
        }
    }

    private static boolean isSuffix(Shape suffix, Shape full) {
        if (suffix.rank() > full.rank()) return false;
        int offset = full.rank() - suffix.rank();
        for (int i = 0; i < suffix.rank(); i++) if (suffix.dim(i) != full.dim(offset + i)) return false;
        return true;
    }

    // ---- spatial ---------------------------------------------------------------------------

    @Override
    public Tensor pad2d(Tensor x, int top, int bottom, int left, int right, double value) {
        int[] d = nhwc(x.shape(), "pad2d");
        Shape out = Shape.of(d[0], d[1] + top + bottom, d[2] + left + right, d[3]);
        if (isF32(x)) return wrap(SpatialF32.pad2d(f32(x), d[0], d[1], d[2], d[3], top, bottom, left, right, (float) value, new float[out.size()]), out);
        return result(CpuReference.pad2d(doubles(x), d[0], d[1], d[2], d[3], top, bottom, left, right, value), out, x);
    }

    @Override
    public Tensor crop2d(Tensor dy, int top, int bottom, int left, int right) {
        int[] d = nhwc(dy.shape(), "crop2d");
        Shape out = Shape.of(d[0], d[1] - top - bottom, d[2] - left - right, d[3]);
        if (isF32(dy)) return wrap(SpatialF32.crop2d(f32(dy), d[0], d[1], d[2], d[3], top, bottom, left, right, new float[out.size()]), out);
        return result(CpuReference.crop2d(doubles(dy), d[0], d[1], d[2], d[3], top, bottom, left, right), out, dy);
    }

    @Override
    public Tensor maxPool2d(Tensor x, int kernel, int stride) {
        int[] d = nhwc(x.shape(), "maxPool2d");
        Shape out = Shape.of(d[0], (d[1] - kernel) / stride + 1, (d[2] - kernel) / stride + 1, d[3]);
        if (isF32(x)) return wrap(SpatialF32.maxPool2d(f32(x), d[0], d[1], d[2], d[3], kernel, stride, new float[out.size()]), out);
        return result(CpuReference.maxPool2d(doubles(x), d[0], d[1], d[2], d[3], kernel, stride), out, x);
    }

    @Override
    public Tensor maxPool2dBackward(Tensor x, Tensor dy, int kernel, int stride) {
        int[] d = nhwc(x.shape(), "maxPool2dBackward");
        if (bothF32(x, dy)) return wrap(SpatialF32.maxPool2dBackward(f32(x), f32(dy), d[0], d[1], d[2], d[3], kernel, stride, new float[x.size()]), x.shape());
        return result(CpuReference.maxPool2dBackward(doubles(x), doubles(dy), d[0], d[1], d[2], d[3], kernel, stride), x.shape(), dy);
    }

    @Override
    public Tensor globalAvgPool(Tensor x) {
        int[] d = nhwc(x.shape(), "globalAvgPool");
        if (isF32(x)) return wrap(SpatialF32.globalAvgPool(f32(x), d[0], d[1] * d[2], d[3], new float[d[0] * d[3]]), Shape.of(d[0], d[3]));
        return result(CpuReference.globalAvgPool(doubles(x), d[0], d[1] * d[2], d[3]), Shape.of(d[0], d[3]), x);
    }

    @Override
    public Tensor globalAvgPoolBackward(Tensor dy, Shape xShape) {
        int[] d = nhwc(xShape, "globalAvgPoolBackward");
        if (isF32(dy)) return wrap(SpatialF32.globalAvgPoolBackward(f32(dy), d[0], d[1] * d[2], d[3], new float[xShape.size()]), xShape);
        return result(CpuReference.globalAvgPoolBackward(doubles(dy), d[0], d[1] * d[2], d[3]), xShape, dy);
    }

    private static int[] nhwc(Shape s, String op) {
        if (s.rank() != 4) throw new IllegalArgumentException(op + " wants an NHWC tensor [N,H,W,C], got " + s);
        return s.dims();
    }

    // ---- dense -----------------------------------------------------------------------------

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        if (a.shape().rank() != 2 || b.shape().rank() != 2) {
            throw new IllegalArgumentException("matmul wants 2-D tensors, got " + a.shape() + " and " + b.shape());
        }
        int m = transA ? a.shape().dim(1) : a.shape().dim(0);
        int k = transA ? a.shape().dim(0) : a.shape().dim(1);
        int kb = transB ? b.shape().dim(1) : b.shape().dim(0);
        int n = transB ? b.shape().dim(0) : b.shape().dim(1);
        if (k != kb) throw new IllegalArgumentException("matmul: inner dimensions differ: " + a.shape() + " · " + b.shape());
        Shape out = Shape.of(m, n);
        if (bothF32(a, b)) {
            float[] c = new float[m * n];
            Sgemm.gemm(transA, transB, m, n, k, 1f, f32(a), 0, a.shape().dim(1), f32(b), 0, b.shape().dim(1), 0f, c, 0, n);
            return wrap(c, out);
        }
        return result(CpuReference.matmul(doubles(a), doubles(b), m, n, k, transA, transB), out, a);
    }

    // ---- loss ------------------------------------------------------------------------------

    @Override
    public Tensor softmaxCrossEntropy(Tensor logits, Tensor target) {
        int n = logits.shape().dim(0);
        int k = logits.shape().dim(1);
        return result(CpuReference.softmaxCrossEntropy(doubles(logits), targetMatrix(target, n, k), n, k), Shape.of(n), logits);
    }

    @Override
    public Tensor softmaxCrossEntropyBackward(Tensor logits, Tensor target, Tensor dLoss) {
        int n = logits.shape().dim(0);
        int k = logits.shape().dim(1);
        double[] dz = CpuReference.softmaxCrossEntropyBackward(doubles(logits), targetMatrix(target, n, k), doubles(dLoss), n, k);
        return result(dz, logits.shape(), logits);
    }

    /** Integer labels [n] become one-hot rows; soft labels [n, k] are used as they are. */
    private static double[] targetMatrix(Tensor target, int n, int k) {
        if (target.dtype() == DType.I32) {
            if (!target.shape().equals(Shape.of(n))) {
                throw new IllegalArgumentException("labels " + target.shape() + " do not match " + n + " logit rows");
            }
            int[] labels = ((CpuStorage.I32) storage(target)).data();
            double[] oneHot = new double[n * k];
            for (int i = 0; i < n; i++) {
                if (labels[i] < 0 || labels[i] >= k) {
                    throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is outside [0, " + k + ")");
                }
                oneHot[i * k + labels[i]] = 1;
            }
            return oneHot;
        }
        if (!target.shape().equals(Shape.of(n, k))) {
            throw new IllegalArgumentException("soft labels " + target.shape() + " do not match logits (" + n + ", " + k + ")");
        }
        return doubles(target);
    }

    // ---- optimiser -------------------------------------------------------------------------

    @Override
    public void sgdMomentumInPlace(Tensor param, Tensor grad, Tensor buf, double lr, double momentum) {
        switch (storage(param)) {
            case CpuStorage.F32 p -> OptimizerF32.sgdMomentum(p.data(), f32(grad), f32(buf), (float) lr, (float) momentum);
            case CpuStorage.F64 p -> {
                double[] pv = p.data();
                double[] g = ((CpuStorage.F64) storage(grad)).data();
                double[] b = ((CpuStorage.F64) storage(buf)).data();
                for (int i = 0; i < pv.length; i++) {
                    b[i] = momentum * b[i] + g[i];
                    pv[i] -= lr * b[i];
                }
            }
            case CpuStorage.I32 p -> throw new IllegalArgumentException("SGD on an int32 tensor");
        }
    }

    @Override
    public void adamInPlace(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                            long t) {
        if (t < 1) throw new IllegalArgumentException("Adam's step count starts at 1, got " + t);
        // The bias corrections are computed once per step in double, as PyTorch computes them on the host.
        double stepSize = lr / (1 - Math.pow(beta1, t));
        double sqrtCorrection = Math.sqrt(1 - Math.pow(beta2, t));
        switch (storage(param)) {
            case CpuStorage.F32 p -> OptimizerF32.adam(p.data(), f32(grad), f32(m), f32(v), (float) stepSize,
                    (float) beta1, (float) beta2, (float) eps, (float) sqrtCorrection);
            case CpuStorage.F64 p -> {
                double[] pv = p.data();
                double[] g = ((CpuStorage.F64) storage(grad)).data();
                double[] mv = ((CpuStorage.F64) storage(m)).data();
                double[] vv = ((CpuStorage.F64) storage(v)).data();
                for (int i = 0; i < pv.length; i++) {
                    mv[i] = beta1 * mv[i] + (1 - beta1) * g[i];
                    vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i];
                    pv[i] -= stepSize * mv[i] / (Math.sqrt(vv[i]) / sqrtCorrection + eps);
                }
            }
            case CpuStorage.I32 p -> throw new IllegalArgumentException("Adam on an int32 tensor");
        }
    }

    @Override
    public void rmspropInPlace(Tensor param, Tensor grad, Tensor v, double lr, double alpha, double eps) {
        switch (storage(param)) {
            case CpuStorage.F32 p -> OptimizerF32.rmsprop(p.data(), f32(grad), f32(v), (float) lr, (float) alpha, (float) eps);
            case CpuStorage.F64 p -> {
                double[] pv = p.data();
                double[] g = ((CpuStorage.F64) storage(grad)).data();
                double[] vv = ((CpuStorage.F64) storage(v)).data();
                for (int i = 0; i < pv.length; i++) {
                    vv[i] = alpha * vv[i] + (1 - alpha) * g[i] * g[i];
                    pv[i] -= lr * g[i] / (Math.sqrt(vv[i]) + eps);
                }
            }
            case CpuStorage.I32 p -> throw new IllegalArgumentException("RMSprop on an int32 tensor");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static CpuStorage storage(Tensor t) {
        if (t.storage() instanceof CpuStorage s) return s;
        throw new IllegalArgumentException("tensor on " + t.backend().name() + " passed to the CPU backend");
    }

    private static boolean isF32(Tensor t) {
        return t.dtype() == DType.F32;
    }

    private static boolean bothF32(Tensor a, Tensor b) {
        return isF32(a) && isF32(b);
    }

    private static boolean allF32(Tensor... ts) {
        for (Tensor t : ts) if (!isF32(t)) return false;
        return true;
    }

    private static float[] f32(Tensor t) {
        if (storage(t) instanceof CpuStorage.F32 s) return s.data();
        throw new IllegalArgumentException("expected a float32 tensor, got " + t.dtype());
    }

    /** A fresh double copy of t's values, safe to modify. */
    private static double[] doubles(Tensor t) {
        return switch (storage(t)) {
            case CpuStorage.F32 s -> {
                double[] out = new double[s.data().length];
                for (int i = 0; i < out.length; i++) out[i] = s.data()[i];
                yield out;
            }
            case CpuStorage.F64 s -> s.data().clone();
            case CpuStorage.I32 s -> {
                double[] out = new double[s.data().length];
                for (int i = 0; i < out.length; i++) out[i] = s.data()[i];
                yield out;
            }
        };
    }

    private static float[] toFloat(double[] d) {
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
        return out;
    }

    /** Wraps a double result in the dtype of {@code like} (float32 results are rounded once). */
    private Tensor result(double[] values, Shape shape, Tensor like) {
        return like.dtype() == DType.F64 ? wrap(values, shape) : wrap(toFloat(values), shape);
    }
}
