package org.bitengine.engine.backend;

/** Element-wise binary operations with suffix broadcasting of the second operand. */
public enum BinaryOp {
    ADD,
    SUB,
    MUL;

    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
        };
    }
}
