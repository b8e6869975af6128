package org.bitengine.bench;

import java.lang.management.ManagementFactory;

import org.bitengine.engine.backend.cpu.CpuParallel;

/**
 * Runs {@link BitTrainStepBenchmark.TrainStep} in a loop and prints each step's time and the heap it
 * allocated: a steady workload for a profiler ({@code scripts/bench/profile-step.sh} records it with JFR
 * to see where a step's time goes).
 *
 * <p>Usage: {@code TrainStepLoop [model] [resolution] [batch] [threads] [steps]}, default BiT-R50x1 128 8 2 12.
 */
public final class TrainStepLoop {

    private TrainStepLoop() {
    }

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "BiT-R50x1";
        int res = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 12;
        CpuParallel.setThreads(threads);
        // Heap allocated by the step's thread: the backend allocates every tensor there, and zeroing new
        // arrays is time the step spends on one core.
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var step = new BitTrainStepBenchmark.TrainStep(model, res, batch);
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime(), bytes0 = mx.getCurrentThreadAllocatedBytes();
            step.run();
            System.out.printf("step %d: %.1f ms, %.0f MB allocated%n", i, (System.nanoTime() - t0) / 1e6,
                    (mx.getCurrentThreadAllocatedBytes() - bytes0) / 1e6);
        }
    }
}
