package org.bitengine.engine.backend.cuda;

/**
 * The op-by-op parity suite ({@link CudaOpsParity}) on the CPU-emulated fake GPU ({@link FakeGpu}):
 * the real kernel sources, launched through the real backend and FFM bindings, against the CPU
 * backend. Convolution and GEMM go through the fake cuDNN/cuBLAS, so for them it checks the glue only.
 */
class FakeGpuParityTest extends CudaOpsParity {

    @Override
    CudaBackend backend() {
        return FakeGpu.backend();
    }
}
