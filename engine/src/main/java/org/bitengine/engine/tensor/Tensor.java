package org.bitengine.engine.tensor;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.Storage;
import org.bitengine.engine.backend.cpu.CpuBackend;

/**
 * A shape over a storage on some backend. Row-major; activations are NHWC and convolution kernels
 * HWIO throughout the engine.
 *
 * <p>A tensor that {@linkplain #requiresGrad() requires a gradient} is a leaf of the autograd graph
 * (a parameter): {@code Tape.backward} accumulates into its {@link #grad()}, so micro-batches add up
 * until the gradient is {@linkplain #zeroGrad() cleared}.
 */
public final class Tensor {

    private final Shape shape;
    private final Storage storage;
    private boolean requiresGrad;
    private Tensor grad;

    public Tensor(Shape shape, Storage storage) {
        if (shape.size() != storage.size()) {
            throw new IllegalArgumentException("shape " + shape + " has " + shape.size() + " elements, storage " + storage.size());
        }
        this.shape = shape;
        this.storage = storage;
    }

    /** A float32 tensor on the CPU holding {@code data} (not copied). */
    public static Tensor of(float[] data, int... dims) {
        return CpuBackend.get().wrap(data, Shape.of(dims));
    }

    /** A float64 tensor on the CPU holding {@code data} (not copied). */
    public static Tensor of(double[] data, int... dims) {
        return CpuBackend.get().wrap(data, Shape.of(dims));
    }

    /** An int32 tensor on the CPU holding {@code data} (not copied); used for class labels. */
    public static Tensor ofInts(int[] data, int... dims) {
        return CpuBackend.get().wrap(data, Shape.of(dims));
    }

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Storage storage() {
        return storage;
    }

    public Backend backend() {
        return storage.backend();
    }

    public int size() {
        return shape.size();
    }

    /** The same storage seen with another shape of the same size; not recorded by autograd. */
    public Tensor view(Shape newShape) {
        return new Tensor(newShape, storage);
    }

    public float[] toFloatArray() {
        return backend().toFloatArray(this);
    }

    public double[] toDoubleArray() {
        return backend().toDoubleArray(this);
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (size() != 1) throw new IllegalStateException("item() of a tensor of shape " + shape);
        return toDoubleArray()[0];
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public Tensor requiresGrad(boolean value) {
        this.requiresGrad = value;
        return this;
    }

    /** The accumulated gradient, or null before the first backward pass. */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor g) {
        if (g != null && !g.shape.equals(shape)) {
            throw new IllegalArgumentException("gradient shape " + g.shape + " does not match tensor shape " + shape);
        }
        this.grad = g;
    }

    public void zeroGrad() {
        this.grad = null;
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype() + " on " + backend().name();
    }
}
