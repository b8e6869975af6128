package org.bitengine.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The FLOP rate of a benchmark as a JMH secondary result. Each op adds its FLOPs in GFLOP to
 * {@code msPerGflop}; in the time-per-op modes JMH divides the iteration's time by an OPERATIONS
 * counter, so the result reads "ms/op" and means milliseconds per GFLOP: GFLOP/s = 1000 / it.
 * (In throughput mode the same counter would read GFLOP per time unit.) results_table.py converts
 * either form to GFLOP/s, and {@link Compare} prints GFLOP/s directly.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class FlopRate {

    /** GFLOP done in the current iteration. */
    public double msPerGflop;

    @Setup(Level.Iteration)
    public void reset() {
        msPerGflop = 0;
    }

    /** Records one op of {@code flops} floating-point operations. */
    public void add(double flops) {
        msPerGflop += flops * 1e-9;
    }
}
