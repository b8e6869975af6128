package org.bitengine.io.data;

import java.util.List;
import java.util.Objects;

/**
 * A view of some examples of another dataset, in the given order ({@link Subsets} picks them). Example
 * {@code i} of the view is example {@code indices[i]} of the base; classes are the base's.
 */
public final class SubsetDataset implements ImageDataset {

    private final ImageDataset base;
    private final int[] indices;

    /**
     * @throws IndexOutOfBoundsException if an index is outside the base dataset
     */
    public SubsetDataset(ImageDataset base, int[] indices) {
        this.base = Objects.requireNonNull(base, "base");
        this.indices = indices.clone();
        for (int i : this.indices) {
            Objects.checkIndex(i, base.size());
        }
    }

    /** The dataset this is a view of. */
    public ImageDataset base() {
        return base;
    }

    /** The base index of example {@code index}. */
    public int baseIndex(int index) {
        return indices[Objects.checkIndex(index, indices.length)];
    }

    /** The base indices, in order (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public List<String> classes() {
        return base.classes();
    }

    @Override
    public int label(int index) {
        return base.label(baseIndex(index));
    }

    @Override
    public Image image(int index) {
        return base.image(baseIndex(index));
    }

    @Override
    public String describe(int index) {
        return base.describe(baseIndex(index));
    }

    @Override
    public int[] nominalSize() {
        return base.nominalSize();
    }

    @Override
    public String toString() {
        return indices.length + " examples of " + base;
    }
}
