package org.bitengine.engine.optim;

/** The learning rate of each step, counted from 0. */
@FunctionalInterface
public interface LrSchedule {

    double lr(int step);

    static LrSchedule constant(double lr) {
        return step -> lr;
    }
}
