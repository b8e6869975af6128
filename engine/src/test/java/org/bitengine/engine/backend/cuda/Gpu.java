package org.bitengine.engine.backend.cuda;

import static org.junit.jupiter.api.Assumptions.abort;

import org.bitengine.engine.BitEngineException;

/**
 * The GPU the CUDA tests run on, opened once per test JVM; where none can be opened, every GPU test
 * is skipped (JUnit assumption) with the one-line reason the backend gave.
 */
final class Gpu {

    private static final Object LOCK = new Object();
    private static CudaBackend tf32Off;
    private static CudaBackend tf32On;
    private static String unavailable;

    private Gpu() {}

    /** Full float32 (TF32 off): results comparable with the CPU to float32 rounding. */
    static CudaBackend exact() {
        return open(false);
    }

    /** The default configuration, TF32 allowed for convolutions and GEMM. */
    static CudaBackend tf32() {
        return open(true);
    }

    /** The reason no GPU is usable here, or null when one is. */
    static String unavailableReason() {
        try {
            exact();
            return null;
        } catch (org.opentest4j.TestAbortedException e) {
            return unavailable;
        }
    }

    private static CudaBackend open(boolean tf32) {
        synchronized (LOCK) {
            if (unavailable != null) abort("no usable GPU, CUDA test skipped: " + unavailable);
            try {
                if (tf32) {
                    if (tf32On == null) tf32On = CudaBackend.open(CudaOptions.defaults(0).withTf32(true));
                    return tf32On;
                }
                if (tf32Off == null) tf32Off = CudaBackend.open(CudaOptions.defaults(0).withTf32(false));
                return tf32Off;
            } catch (BitEngineException e) {
                unavailable = e.getMessage();
                return abort("no usable GPU, CUDA test skipped: " + unavailable);
            }
        }
    }
}
