package org.bitengine.tests.cuda;

import static org.junit.jupiter.api.Assumptions.abort;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cuda.CudaBackend;
import org.bitengine.engine.backend.cuda.CudaOptions;

/** The GPU of the cross-module CUDA suites, TF32 off, opened once; tests skip with the reason where none opens. */
final class GpuBackends {

    private static CudaBackend exact;
    private static String unavailable;

    private GpuBackends() {}

    static synchronized CudaBackend exact() {
        if (unavailable != null) abort("no usable GPU, CUDA test skipped: " + unavailable);
        if (exact == null) {
            try {
                exact = CudaBackend.open(CudaOptions.defaults(0).withTf32(false));
                System.out.println("[cuda] " + exact.describe());
            } catch (BitEngineException e) {
                unavailable = e.getMessage();
                abort("no usable GPU, CUDA test skipped: " + unavailable);
            }
        }
        return exact;
    }
}
