package org.bitengine.engine.tensor;

/** Element types. The CPU backend computes in F32 (training) and F64 (gradient checks); I32 holds labels. */
public enum DType {
    F32(4),
    F64(8),
    I32(4);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == F64;
    }
}
