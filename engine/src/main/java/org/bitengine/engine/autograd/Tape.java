package org.bitengine.engine.autograd;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bitengine.engine.tensor.Tensor;

/**
 * Records the ops applied while it is open on this thread, so that {@link #backward} can walk them in
 * reverse and accumulate gradients into the parameters ({@link Tensor#requiresGrad() leaves}).
 *
 * <pre>{@code
 * try (Tape tape = Tape.record()) {
 *     Tensor loss = Ops.mean(Ops.softmaxCrossEntropy(model.forward(x), labels));
 *     tape.backward(loss);
 * }
 * }</pre>
 *
 * Only ops with at least one input that needs a gradient are recorded; without an open tape nothing
 * is recorded and forward passes keep no activations.
 */
public final class Tape implements AutoCloseable {

    private static final ThreadLocal<Tape> CURRENT = new ThreadLocal<>();

    private record Entry(Op op, Context ctx, Tensor[] inputs, Tensor output) {}

    private final Tape previous;
    private final List<Entry> entries = new ArrayList<>();
    private final Set<Tensor> outputs = Collections.newSetFromMap(new IdentityHashMap<>());

    private Tape(Tape previous) {
        this.previous = previous;
    }

    /** Opens a tape on this thread; close it to stop recording. */
    public static Tape record() {
        Tape tape = new Tape(CURRENT.get());
        CURRENT.set(tape);
        return tape;
    }

    @Override
    public void close() {
        CURRENT.set(previous);
        entries.clear();
        outputs.clear();
    }

    /** Runs {@code op} and records it on this thread's open tape when a gradient will be needed. */
    static Tensor apply(Op op, Tensor... inputs) {
        Tape tape = CURRENT.get();
        boolean[] needsGrad = tape == null ? null : tape.needsGrad(inputs);
        boolean record = needsGrad != null && anyTrue(needsGrad);
        Context ctx = new Context(record, needsGrad);
        Tensor out = op.forward(ctx, inputs);
        if (record) {
            tape.entries.add(new Entry(op, ctx, inputs, out));
            tape.outputs.add(out);
        }
        return out;
    }

    private boolean[] needsGrad(Tensor[] inputs) {
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) needs[i] = needsGrad(inputs[i]);
        return needs;
    }

    private static boolean anyTrue(boolean[] flags) {
        for (boolean f : flags) if (f) return true;
        return false;
    }

    private boolean needsGrad(Tensor t) {
        return t.requiresGrad() || outputs.contains(t);
    }

    /** Back-propagates from a one-element loss (seed 1). */
    public void backward(Tensor loss) {
        if (loss.size() != 1) throw new IllegalArgumentException("backward(loss) wants a single value, got " + loss.shape());
        backward(loss, loss.backend().full(loss.dtype(), loss.shape(), 1.0));
    }

    /**
     * Back-propagates {@code seed} (the gradient of some scalar with respect to {@code output}) and
     * adds the result into each leaf's {@link Tensor#grad()}. The tape is consumed: saved tensors are
     * released as soon as their op's backward has run.
     */
    public void backward(Tensor output, Tensor seed) {
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(output, seed);
        for (int i = entries.size() - 1; i >= 0; i--) {
            Entry e = entries.get(i);
            entries.set(i, null);
            Tensor dy = grads.remove(e.output());
            if (dy == null) continue;
            Tensor[] dIn = e.op().backward(e.ctx(), dy);
            for (int j = 0; j < e.inputs().length; j++) {
                Tensor in = e.inputs()[j];
                if (dIn[j] == null || !needsGrad(in)) continue;
                if (outputs.contains(in)) {
                    Tensor prev = grads.get(in);
                    grads.put(in, prev == null ? dIn[j] : sum(prev, dIn[j]));
                } else if (in.grad() == null) {
                    // Later micro-batches add into the leaf's gradient in place, so it must own its storage:
                    // a fresh gradient is taken as it is, one sharing storage with dy or with another
                    // input's gradient (pass-through ops such as Add) is copied.
                    in.setGrad(ownsStorage(dIn, j, dy) ? dIn[j] : in.backend().copy(dIn[j]));
                } else {
                    in.backend().addInPlace(in.grad(), dIn[j]);
                }
            }
        }
        entries.clear();
        outputs.clear();
    }

    /** Whether {@code grads[j]} shares its storage with neither {@code dy} nor another of {@code grads}. */
    private static boolean ownsStorage(Tensor[] grads, int j, Tensor dy) {
        if (grads[j].storage() == dy.storage()) return false;
        for (int k = 0; k < grads.length; k++) {
            if (k != j && grads[k] != null && grads[k].storage() == grads[j].storage()) return false;
        }
        return true;
    }

    private static Tensor sum(Tensor a, Tensor b) {
        // A fresh tensor: a or b may alias a gradient another op still holds (Add passes dy through).
        Tensor out = a.backend().copy(a);
        out.backend().addInPlace(out, b);
        return out;
    }
}
