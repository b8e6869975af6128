package org.bitengine.engine.backend.cuda;

import java.util.List;

/**
 * Every kernel the CUDA backend launches: its module (the .cu file in kernels/src/main/cuda), its
 * entry name ({@code {op}_{dtype}}) and the kind of each parameter, in order. The launcher checks
 * each launch's arguments against these kinds, and {@code CudaKernelPtxTest} checks the kinds
 * against the PTX the build produced, so a kernel renamed, removed, reordered or retyped in a .cu
 * fails a test on any machine with nvcc instead of corrupting memory on a GPU. Shapes of the
 * arguments are documented above each kernel in its .cu file.
 */
enum CudaKernel {
    // elementwise.cu
    RELU_FWD("elementwise", "relu_fwd_f32", Arg.PTR, Arg.PTR, Arg.I64),
    RELU_BWD("elementwise", "relu_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64),
    ADD("elementwise", "add_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64),
    BINARY_BCAST("elementwise", "binary_bcast_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I64, Arg.I32),
    SCALE("elementwise", "scale_f32", Arg.PTR, Arg.PTR, Arg.F32, Arg.I64),
    SIGMOID_FWD("elementwise", "sigmoid_fwd_f32", Arg.PTR, Arg.PTR, Arg.I64),
    SIGMOID_BWD("elementwise", "sigmoid_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64),
    SWISH_FWD("elementwise", "swish_fwd_f32", Arg.PTR, Arg.PTR, Arg.I64),
    SWISH_BWD("elementwise", "swish_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64),
    SCALE_CHANNELS("elementwise", "scale_channels_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I64, Arg.I32),
    SCALE_CHANNELS_BWD_SCALE("elementwise", "scale_channels_bwd_scale_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I64, Arg.I32),
    CAST_I32_TO_F32("elementwise", "cast_i32_to_f32", Arg.PTR, Arg.PTR, Arg.I64),
    CAST_F32_TO_I32("elementwise", "cast_f32_to_i32", Arg.PTR, Arg.PTR, Arg.I64),
    CAST_F64_TO_F32("elementwise", "cast_f64_to_f32", Arg.PTR, Arg.PTR, Arg.I64),
    CAST_F32_TO_F64("elementwise", "cast_f32_to_f64", Arg.PTR, Arg.PTR, Arg.I64),
    // reduce.cu
    SUM_PARTIAL("reduce", "sum_partial_f32", Arg.PTR, Arg.PTR, Arg.I64),
    SUM_FINISH("reduce", "sum_finish_f32", Arg.PTR, Arg.PTR, Arg.I32),
    COLUMN_SUMS_PARTIAL("reduce", "column_sums_partial_f32", Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I64),
    COLUMN_SUMS_FINISH("reduce", "column_sums_finish_f32", Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    // normalization.cu
    WS_FWD("normalization", "ws_fwd_f32", Arg.PTR, Arg.PTR, Arg.I32, Arg.I32, Arg.F32),
    WS_BWD("normalization", "ws_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32, Arg.F32),
    GN_STATS("normalization", "gn_stats_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I32, Arg.F32),
    GN_FWD("normalization", "gn_fwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I64, Arg.I32, Arg.I32),
    GN_BWD_SUMS("normalization", "gn_bwd_sums_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I32),
    GN_BWD_DX("normalization", "gn_bwd_dx_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I64, Arg.I32, Arg.I32),
    GN_PARAM_GRADS_PARTIAL("normalization", "gn_param_grads_partial_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I64, Arg.I32, Arg.I32, Arg.I64),
    PAIR_SUMS_FINISH("normalization", "pair_sums_finish_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    BN_STATS_PARTIAL("normalization", "bn_stats_partial_f32", Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I64),
    BN_STATS_FINISH("normalization", "bn_stats_finish_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32, Arg.I64, Arg.F32),
    BN_FWD("normalization", "bn_fwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32),
    RSTD_FROM_VAR("normalization", "rstd_from_var_f32", Arg.PTR, Arg.PTR, Arg.I32, Arg.F32),
    BN_PARAM_GRADS_PARTIAL("normalization", "bn_param_grads_partial_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I64),
    BN_BWD_DX("normalization", "bn_bwd_dx_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I64),
    BN_INFERENCE_BWD_DX("normalization", "bn_inference_bwd_dx_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32),
    RUNNING_STAT_UPDATE("normalization", "running_stat_update_f32", Arg.PTR, Arg.PTR, Arg.F32, Arg.I32),
    // spatial.cu
    PAD2D("spatial", "pad2d_f32", Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.F32),
    CROP2D("spatial", "crop2d_f32", Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32),
    MAXPOOL_FWD("spatial", "maxpool_fwd_f32", Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32),
    MAXPOOL_BWD("spatial", "maxpool_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I64, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32, Arg.I32),
    GLOBAL_AVG_POOL("spatial", "global_avg_pool_f32", Arg.PTR, Arg.PTR, Arg.I32, Arg.I64, Arg.I32),
    GLOBAL_AVG_POOL_BWD("spatial", "global_avg_pool_bwd_f32", Arg.PTR, Arg.PTR, Arg.I64, Arg.I64, Arg.I32),
    TRANSPOSE2D("spatial", "transpose2d_f32", Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    // loss.cu
    XENT_HARD_FWD("loss", "xent_hard_fwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    XENT_SOFT_FWD("loss", "xent_soft_fwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    XENT_HARD_BWD("loss", "xent_hard_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    XENT_SOFT_BWD("loss", "xent_soft_bwd_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.I32, Arg.I32),
    // sgd.cu
    SGD_MOMENTUM("sgd", "sgd_momentum_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.F32, Arg.F32, Arg.I64),
    ADAM("sgd", "adam_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.PTR, Arg.F32, Arg.F32, Arg.F32, Arg.F32, Arg.F32, Arg.I64),
    RMSPROP("sgd", "rmsprop_f32", Arg.PTR, Arg.PTR, Arg.PTR, Arg.F32, Arg.F32, Arg.F32, Arg.I64);

    /** A kernel parameter as the launcher passes it and as it appears in PTX. */
    enum Arg {
        /** A device address (Java long), PTX .u64. */
        PTR("u64"),
        /** A 64-bit count, C long long (Java long), PTX .u64. */
        I64("u64"),
        /** C int (Java int), PTX .u32. */
        I32("u32"),
        /** C float (Java float), PTX .f32. */
        F32("f32");

        final String ptxType;

        Arg(String ptxType) {
            this.ptxType = ptxType;
        }
    }

    final String module;
    final String entry;
    final List<Arg> params;

    CudaKernel(String module, String entry, Arg... params) {
        this.module = module;
        this.entry = entry;
        this.params = List.of(params);
    }
}
