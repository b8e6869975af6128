package org.bitengine.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cuda.bindings.CudaDriver;
import org.bitengine.kernels.Kernels;

/**
 * Loads the PTX modules of bit-engine-kernels once and queues {@link CudaKernel}s on the backend's
 * stream, checking every argument against the kernel's declared parameter kinds.
 */
final class KernelLauncher {

    /** Threads per block of element-wise kernels. */
    static final int THREADS = 256;
    /** Threads per block of block-reduction kernels; BE_REDUCE_THREADS in common.cuh. */
    static final int REDUCE_THREADS = 256;
    /** Grid-stride kernels cover any n; more blocks than this only adds scheduling overhead. */
    private static final long MAX_BLOCKS = 1L << 16;

    private final CudaDriver driver;
    private final long stream;
    private final Map<CudaKernel, Long> functions = new EnumMap<>(CudaKernel.class);

    /** Loads every module a {@link CudaKernel} names and resolves every kernel, so a missing one fails at start-up. */
    KernelLauncher(CudaDriver driver, long stream) {
        if (!Kernels.compiled()) {
            throw new BitEngineException("CUDA kernels unavailable: " + Kernels.unavailableReason());
        }
        this.driver = driver;
        this.stream = stream;
        Map<String, Long> modules = new HashMap<>();
        for (CudaKernel k : CudaKernel.values()) {
            long module = modules.computeIfAbsent(k.module, name -> driver.loadModule(Kernels.ptx(name).orElseThrow(
                    () -> new BitEngineException("this build of bit-engine-kernels has no module '" + name
                            + "' (kernel " + k.entry + "); rebuild bit-engine-kernels")), name));
            functions.put(k, driver.function(module, k.entry));
        }
    }

    /** A 1-D grid-stride launch over {@code n} elements; nothing is queued when n is 0. */
    void elementwise(CudaKernel k, long n, Object... args) {
        if (n == 0) return;
        int blocks = (int) Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS);
        launch(k, blocks, 1, THREADS, args);
    }

    /** {@code blocks} blocks of {@link #REDUCE_THREADS} threads (one block per reduced group). */
    void blocks(CudaKernel k, int blocks, Object... args) {
        if (blocks == 0) return;
        launch(k, blocks, 1, REDUCE_THREADS, args);
    }

    /** A 2-D grid of {@link #THREADS}-thread blocks: x over channels, y over row chunks. */
    void grid2d(CudaKernel k, int gridX, int gridY, Object... args) {
        if (gridX == 0 || gridY == 0) return;
        launch(k, gridX, gridY, THREADS, args);
    }

    private void launch(CudaKernel k, int gridX, int gridY, int block, Object... args) {
        if (args.length != k.params.size()) {
            throw new IllegalArgumentException(k.entry + " takes " + k.params.size() + " arguments, got " + args.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(ADDRESS, args.length);
            for (int i = 0; i < args.length; i++) {
                params.setAtIndex(ADDRESS, i, value(arena, k, i, args[i]));
            }
            driver.launch(functions.get(k), gridX, gridY, block, 0, stream, params, k.entry);
        }
    }

    private static MemorySegment value(Arena arena, CudaKernel k, int i, Object arg) {
        return switch (k.params.get(i)) {
            case PTR, I64 -> {
                if (!(arg instanceof Long v)) throw badArgument(k, i, "long", arg);
                yield arena.allocateFrom(JAVA_LONG, v);
            }
            case I32 -> {
                if (!(arg instanceof Integer v)) throw badArgument(k, i, "int", arg);
                yield arena.allocateFrom(JAVA_INT, v);
            }
            case F32 -> {
                if (!(arg instanceof Float v)) throw badArgument(k, i, "float", arg);
                yield arena.allocateFrom(JAVA_FLOAT, v);
            }
        };
    }

    private static IllegalArgumentException badArgument(CudaKernel k, int i, String expected, Object got) {
        return new IllegalArgumentException(k.entry + ": argument " + i + " must be a " + expected + ", got "
                + (got == null ? "null" : got.getClass().getSimpleName()));
    }
}
