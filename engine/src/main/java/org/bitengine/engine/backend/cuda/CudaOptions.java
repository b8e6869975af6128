package org.bitengine.engine.backend.cuda;

/**
 * How a CUDA backend is opened.
 *
 * @param device             the GPU ordinal (0 for the first)
 * @param allowTf32          let cuDNN convolutions and cuBLAS GEMM use TF32 tensor cores (10-bit
 *                           mantissa products, float32 accumulation), as PyTorch does for
 *                           convolutions by default; false computes in full float32
 * @param convWorkspaceLimit the most scratch memory, in bytes, a cuDNN algorithm may need to be chosen
 */
public record CudaOptions(int device, boolean allowTf32, long convWorkspaceLimit) {

    /** System property that turns TF32 off ({@code -Dbitengine.cuda.tf32=false}); TF32 is on otherwise. */
    public static final String TF32_PROPERTY = "bitengine.cuda.tf32";

    private static final long DEFAULT_WORKSPACE_LIMIT = 1L << 30;

    public CudaOptions {
        if (device < 0) throw new IllegalArgumentException("device ordinal must be >= 0, got " + device);
        if (convWorkspaceLimit < 0) throw new IllegalArgumentException("workspace limit must be >= 0");
    }

    /** Device {@code device}, TF32 as {@value #TF32_PROPERTY} says (on unless "false"), a 1 GiB workspace limit. */
    public static CudaOptions defaults(int device) {
        boolean tf32 = !"false".equalsIgnoreCase(System.getProperty(TF32_PROPERTY, "true").strip());
        return new CudaOptions(device, tf32, DEFAULT_WORKSPACE_LIMIT);
    }

    public CudaOptions withTf32(boolean allow) {
        return new CudaOptions(device, allow, convWorkspaceLimit);
    }
}
