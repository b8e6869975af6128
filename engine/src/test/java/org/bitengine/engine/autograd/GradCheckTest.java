package org.bitengine.engine.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every op of the {@link Op} table against central finite differences, in float64. */
class GradCheckTest {

    private static final double H = 1e-6;
    private static final double TOLERANCE = 1e-6;

    /** One finite-difference case: an op, its inputs, and which of them get a gradient. */
    record Case(String name, Op op, Tensor[] inputs, boolean[] differentiable) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final SplittableRandom RNG = new SplittableRandom(20241125);

    private static Tensor random(int... dims) {
        double[] v = new double[Shape.of(dims).size()];
        for (int i = 0; i < v.length; i++) v[i] = RNG.nextDouble(-1, 1);
        return Tensor.of(v, dims);
    }

    /** Values in [0.5, 1.5): variances. */
    private static Tensor positive(int... dims) {
        double[] v = random(dims).toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = 1 + 0.5 * v[i];
        return Tensor.of(v, dims);
    }

    /** Values away from zero so no ReLU input sits within the finite-difference step of its kink. */
    private static Tensor awayFromZero(int... dims) {
        double[] v = random(dims).toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.copySign(0.05 + Math.abs(v[i]), v[i]);
        return Tensor.of(v, dims);
    }

    private static Case c(String name, Op op, Tensor... inputs) {
        boolean[] d = new boolean[inputs.length];
        Arrays.fill(d, true);
        return new Case(name, op, inputs, d);
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(c("conv 3x3 pad 1", new Op.Conv2d(ConvSpec.of(1, 1)), random(2, 5, 5, 4), random(3, 3, 4, 6)));
        cases.add(c("conv 7x7/2 pad 3 (BiT root)", new Op.Conv2d(ConvSpec.of(2, 3)), random(1, 9, 9, 3), random(7, 7, 3, 4)));
        cases.add(c("conv 1x1/2 (projection)", new Op.Conv2d(ConvSpec.of(2, 0)), random(2, 5, 6, 3), random(1, 1, 3, 5)));
        cases.add(c("conv 3x3/2 groups 2", new Op.Conv2d(new ConvSpec(2, 2, 1, 1, 1, 1, 2)), random(1, 6, 7, 4), random(3, 3, 2, 6)));
        cases.add(c("conv 3x3/2 asymmetric pad", new Op.Conv2d(new ConvSpec(2, 2, 0, 1, 0, 1, 1)), random(1, 6, 6, 2), random(3, 3, 2, 3)));
        cases.add(c("weight standardisation", new Op.WeightStandardize(1e-10), random(3, 3, 2, 4)));
        cases.add(c("weight standardisation 1x1", new Op.WeightStandardize(1e-10), random(1, 1, 5, 3)));
        cases.add(c("group norm 2 groups", new Op.GroupNorm(2, 1e-5), random(2, 3, 3, 4), random(4), random(4)));
        cases.add(c("group norm 1 channel per group", new Op.GroupNorm(8, 1e-5), random(2, 2, 2, 8), random(8), random(8)));
        cases.add(c("group norm + relu", new Op.GroupNormRelu(2, 1e-5), random(2, 3, 3, 4), random(4), awayFromZero(4)));
        cases.add(c("batch norm, train, NHWC", new Op.BatchNorm(1e-5, null), random(3, 2, 2, 4), random(4), random(4)));
        cases.add(c("batch norm, train, [N,C], stats sink", new Op.BatchNorm(1e-3, new BatchStats()), random(5, 3), random(3), random(3)));
        cases.add(new Case("batch norm, inference", new Op.BatchNormInference(1e-3, true),
                new Tensor[] {random(2, 3, 2, 4), random(4), random(4), random(4), positive(4)}, new boolean[] {true, true, true, false, false}));
        cases.add(new Case("batch norm, frozen (no affine grad)", new Op.BatchNormInference(1e-5, false),
                new Tensor[] {random(2, 2, 2, 3), random(3), random(3), random(3), positive(3)}, new boolean[] {true, false, false, false, false}));
        cases.add(c("sigmoid", new Op.Sigmoid(), random(3, 5)));
        cases.add(c("sigmoid, large inputs", new Op.Sigmoid(), Tensor.of(new double[] {-30, -8, -3, 0.5, 3, 8, 30}, 7)));
        cases.add(c("swish", new Op.Swish(), random(3, 5)));
        cases.add(c("swish, large inputs", new Op.Swish(), Tensor.of(new double[] {-30, -8, -3, 0.5, 3, 8, 30}, 7)));
        cases.add(c("scale channels (SE)", new Op.ScaleChannels(), random(2, 3, 3, 4), random(2, 4)));
        cases.add(c("scale channels [N,C] by [N,C]", new Op.ScaleChannels(), random(3, 5), random(3, 5)));
        cases.add(c("dropout, fixed mask p=0.5", new Op.Dropout(Tensor.of(new double[] {2, 0, 2, 2, 0, 0, 2, 0, 2, 2, 0, 2}, 3, 4)), random(3, 4)));
        cases.add(c("stochastic depth, fixed mask p=0.2", new Op.StochasticDepth(Tensor.of(new double[] {1.25, 0, 1.25}, 3)), random(3, 2, 2, 2)));
        cases.add(c("relu", new Op.Relu(), awayFromZero(3, 5)));
        cases.add(c("add broadcast", new Op.Binary(BinaryOp.ADD), random(2, 3, 4), random(4)));
        cases.add(c("sub same shape", new Op.Binary(BinaryOp.SUB), random(2, 3), random(2, 3)));
        cases.add(c("mul broadcast", new Op.Binary(BinaryOp.MUL), random(2, 3, 4), random(3, 4)));
        cases.add(c("scale", new Op.Scale(-0.7), random(2, 5)));
        cases.add(c("sum", new Op.Sum(), random(3, 4)));
        cases.add(c("reshape", new Op.Reshape(Shape.of(6, 2)), random(3, 4)));
        cases.add(c("zero pad 1", new Op.Pad2d(1, 1, 1, 1, 0.0), random(2, 3, 4, 2)));
        cases.add(c("asymmetric pad", new Op.Pad2d(0, 2, 1, 0, 0.5), random(1, 3, 3, 2)));
        cases.add(c("max-pool 3/2", new Op.MaxPool2d(3, 2), random(2, 7, 7, 3)));
        cases.add(c("max-pool 2/2", new Op.MaxPool2d(2, 2), random(1, 4, 6, 2)));
        cases.add(c("global average pool", new Op.GlobalAvgPool(), random(2, 3, 4, 5)));
        cases.add(c("matmul", new Op.MatMul(), random(3, 4), random(4, 5)));
        cases.add(new Case("softmax cross-entropy, labels", new Op.SoftmaxCrossEntropy(),
                new Tensor[] {random(4, 5), Tensor.ofInts(new int[] {0, 4, 2, 2}, 4)}, new boolean[] {true, false}));
        double[] soft = new double[4 * 5];
        for (int i = 0; i < 4; i++) {
            double s = 0;
            for (int j = 0; j < 5; j++) s += soft[i * 5 + j] = RNG.nextDouble();
            for (int j = 0; j < 5; j++) soft[i * 5 + j] /= s;
        }
        cases.add(new Case("softmax cross-entropy, soft labels", new Op.SoftmaxCrossEntropy(),
                new Tensor[] {random(4, 5), Tensor.of(soft, 4, 5)}, new boolean[] {true, false}));
        return cases;
    }

    static Stream<Case> caseStream() {
        return cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseStream")
    void derivativeRuleMatchesFiniteDifferences(Case c) {
        GradCheck.Result r = GradCheck.check(c.op(), c.inputs(), c.differentiable(), H, 7);
        assertTrue(r.passes(TOLERANCE), () -> c.name() + ": max |numeric − analytic| per input "
                + Arrays.toString(r.maxError()) + ", max |analytic| " + Arrays.toString(r.maxAnalytic()));
        for (int i = 0; i < c.inputs().length; i++) {
            if (c.differentiable()[i]) {
                int input = i;
                assertTrue(r.maxAnalytic()[i] > 0, () -> c.name() + ": gradient of input " + input + " is identically zero");
            }
        }
    }

    @Test
    void everyOpOfTheTableHasACase() {
        Set<Class<?>> covered = new HashSet<>();
        for (Case c : cases()) covered.add(c.op().getClass());
        for (Class<?> op : Op.class.getPermittedSubclasses()) {
            assertTrue(covered.contains(op), "op " + op.getSimpleName() + " has no gradient-check case");
        }
    }
}
