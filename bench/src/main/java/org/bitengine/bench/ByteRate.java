package org.bitengine.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The effective bandwidth of a memory-bound benchmark as a JMH secondary result: each op adds the
 * bytes it must at least move (every input read once, every output written once) in GB to
 * {@code msPerGB}; JMH reports the iteration's time per GB in "ms/op", so GB/s = 1000 / it
 * (see {@link FlopRate}).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ByteRate {

    /** GB moved in the current iteration. */
    public double msPerGB;

    @Setup(Level.Iteration)
    public void reset() {
        msPerGB = 0;
    }

    /** Records one op that moves {@code bytes}. */
    public void add(double bytes) {
        msPerGB += bytes * 1e-9;
    }
}
