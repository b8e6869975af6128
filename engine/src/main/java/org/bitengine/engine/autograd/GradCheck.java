package org.bitengine.engine.autograd;

import java.util.SplittableRandom;

import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Tensor;

/**
 * Finite-difference check of an op's derivative rule, in float64.
 *
 * <p>For L = Σ r ⊙ op(inputs) with a fixed random r, the analytic gradient of every differentiable
 * input is {@code op.backward(r)}; the numeric one perturbs each element by ±h (central
 * differences). Both must agree to {@code tolerance · max(1, max|analytic|)}.
 */
public final class GradCheck {

    private GradCheck() {}

    /** The largest disagreement found, per input (0 for inputs that are not checked). */
    public record Result(double[] maxError, double[] maxAnalytic) {
        public boolean passes(double tolerance) {
            for (int i = 0; i < maxError.length; i++) {
                if (maxError[i] > tolerance * Math.max(1, maxAnalytic[i])) return false;
            }
            return true;
        }
    }

    /**
     * @param inputs         float64 inputs (int32 for labels)
     * @param differentiable which inputs to check
     * @param h              the finite-difference step
     */
    public static Result check(Op op, Tensor[] inputs, boolean[] differentiable, double h, long seed) {
        for (int i = 0; i < inputs.length; i++) {
            if (differentiable[i] && inputs[i].dtype() != DType.F64) {
                throw new IllegalArgumentException("gradient checks run in float64; input " + i + " is " + inputs[i].dtype());
            }
        }
        Tensor out = op.forward(new Context(false), inputs);
        SplittableRandom rng = new SplittableRandom(seed);
        double[] r = new double[out.size()];
        for (int i = 0; i < r.length; i++) r[i] = rng.nextDouble(-1, 1);
        Tensor rT = Tensor.of(r, out.shape().dims());

        Context ctx = new Context(true);
        op.forward(ctx, inputs);
        Tensor[] analytic = op.backward(ctx, rT);

        double[] maxError = new double[inputs.length];
        double[] maxAnalytic = new double[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (!differentiable[i]) continue;
            double[] a = analytic[i].toDoubleArray();
            double[] x = inputs[i].toDoubleArray();
            for (int j = 0; j < x.length; j++) {
                double numeric = (objective(op, inputs, i, x, j, h, r) - objective(op, inputs, i, x, j, -h, r)) / (2 * h);
                maxError[i] = Math.max(maxError[i], Math.abs(numeric - a[j]));
                maxAnalytic[i] = Math.max(maxAnalytic[i], Math.abs(a[j]));
            }
        }
        return new Result(maxError, maxAnalytic);
    }

    /** Σ r ⊙ op(inputs) with element j of input i moved by delta. */
    private static double objective(Op op, Tensor[] inputs, int i, double[] x, int j, double delta, double[] r) {
        double[] moved = x.clone();
        moved[j] += delta;
        Tensor[] in = inputs.clone();
        in[i] = Tensor.of(moved, inputs[i].shape().dims());
        double[] y = op.forward(new Context(false), in).toDoubleArray();
        double s = 0;
        for (int k = 0; k < y.length; k++) s += r[k] * y[k];
        return s;
    }
}
