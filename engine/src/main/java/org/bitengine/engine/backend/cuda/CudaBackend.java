package org.bitengine.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.BinaryOp;
import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.backend.cuda.bindings.Cublas;
import org.bitengine.engine.backend.cuda.bindings.CudaDriver;
import org.bitengine.engine.backend.cuda.bindings.Cudnn;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * The CUDA backend: convolutions through cuDNN, matrix products through cuBLAS, everything else
 * through bit-engine's own kernels ({@link CudaKernel}), all queued on one stream of one GPU.
 *
 * <p>Dtypes: every computing op takes float32 tensors (class labels int32), as training does.
 * Float64 tensors can be created, read back and cast, so host data given as double reaches the
 * device, but an op asked to compute in float64 (the gradient checks' precision) throws a
 * {@link BitEngineException} saying to use the CPU backend.
 *
 * <p>Ops are asynchronous: a method returns once its kernels are queued. Reading a tensor back
 * ({@link #toFloatArray}, {@link Tensor#item()}) waits for the stream, and is where a kernel fault
 * is reported. One thread drives a backend at a time (as one training loop does); it may be a
 * different thread from call to call, since each call makes the context current first.
 *
 * <p>Kernel layout: the engine's convolution kernels are HWIO [KH,KW,I,O]; cuDNN's NHWC filter
 * format is KRSC [O,KH,KW,I]. Each convolution transposes the kernel ([KH·KW·I, O] → [O, KH·KW·I],
 * {@code transpose2d_f32}) and each filter gradient back. Asymmetric padding (Keras' "correct_pad"),
 * which cuDNN's 2-D descriptor cannot express, is applied explicitly with {@code pad2d_f32} (and the
 * data gradient cropped).
 */
public final class CudaBackend implements Backend {

    /** Rows of a per-channel reduction summed by one thread before the partial sums are combined. */
    private static final int TARGET_CHUNKS = 256;

    private final CudaOptions options;
    private final String name;
    private final String deviceName;
    private final CudaDriver driver;
    private final long context;
    private final long stream;
    private final DeviceAllocator allocator;
    private final KernelLauncher kernels;
    private final Cublas cublas;
    private final Cudnn cudnn;
    private final ConvPlans convPlans;
    /** Which threads have made {@link #context} current (a thread keeps its current context). */
    private final ThreadLocal<Boolean> entered = ThreadLocal.withInitial(() -> false);

    private CudaBackend(CudaOptions options) {
        this.options = options;
        this.driver = CudaDriver.load();
        int count = driver.deviceCount();
        if (count == 0) throw new BitEngineException("no CUDA device: the NVIDIA driver (" + driver.origin() + ") sees no GPU");
        if (options.device() >= count) {
            throw new BitEngineException("no CUDA device cuda:" + options.device() + ": this machine has " + count
                    + " (cuda:0" + (count > 1 ? " to cuda:" + (count - 1) : "") + ")");
        }
        int device = driver.device(options.device());
        this.name = "cuda:" + options.device();
        this.deviceName = driver.deviceName(device);
        this.context = driver.retainPrimaryContext(device);
        enter();
        this.stream = driver.createStream(CudaDriver.STREAM_NON_BLOCKING);
        this.allocator = new DeviceAllocator(driver, name + " (" + deviceName + ")", stream);
        this.kernels = new KernelLauncher(driver, stream);
        this.cublas = Cublas.open(stream, options.allowTf32());
        this.cudnn = Cudnn.open(stream);
        this.convPlans = new ConvPlans(cudnn, allocator, options);
    }

    /**
     * Opens GPU {@code options.device()}: loads the driver, the kernels, cuBLAS and cuDNN, and
     * creates the stream. Each call opens a separate backend (own stream, memory cache and handles);
     * {@code Devices.select} keeps one per device.
     *
     * @throws BitEngineException naming what is missing or failing (driver, device, library, kernels)
     */
    public static CudaBackend open(CudaOptions options) {
        return new CudaBackend(options);
    }

    @Override
    public String name() {
        return name;
    }

    /** One line for logs: "cuda:0 (NVIDIA H100 80GB HBM3), driver CUDA 13.0, cuDNN 91002, TF32 on". */
    public String describe() {
        return name + " (" + deviceName + "), driver CUDA " + CudaDriver.versionString(driver.driverVersion()) + " from "
                + driver.origin() + ", cuBLAS from " + cublas.origin() + ", cuDNN " + cudnn.version() + " from "
                + cudnn.origin() + ", TF32 " + (options.allowTf32() ? "on" : "off");
    }

    public CudaOptions options() {
        return options;
    }

    /** Waits until every op queued so far has finished (for timing; reads wait by themselves). */
    public void synchronize() {
        enter();
        driver.synchronize(stream);
    }

    /**
     * Frees the device memory cached for reuse (not the memory of live tensors), e.g. before another
     * backend or process needs the GPU.
     */
    public void releaseCachedMemory() {
        enter();
        allocator.trim();
    }

    /** Bytes of device memory held by live tensors, and cached for reuse. */
    public long[] memoryInUse() {
        return new long[] {allocator.liveBytes(), allocator.cachedBytes()};
    }

    /**
     * A queue that copies input batches from pinned host memory on a second stream while the
     * current step computes; see {@link BatchUploader}.
     */
    public BatchUploader batchUploader(Shape imageShape, int labelCount) {
        enter();
        return new BatchUploader(this, driver, allocator, imageShape, labelCount);
    }

    // ---- memory ----------------------------------------------------------------------------

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        return full(dtype, shape, 0);
    }

    @Override
    public Tensor full(DType dtype, Shape shape, double value) {
        enter();
        if (dtype == DType.F64 && value != 0) {
            double[] host = new double[shape.size()];
            java.util.Arrays.fill(host, value);
            return fromHost(host, shape);
        }
        Tensor t = allocate(dtype, shape);
        int words = dtype == DType.F64 ? 2 * shape.size() : shape.size();
        int pattern = dtype == DType.F32 ? Float.floatToRawIntBits((float) value) : dtype == DType.I32 ? (int) value : 0;
        if (words > 0) driver.fill32Async(address(t), pattern, words, stream);
        return t;
    }

    @Override
    public Tensor fromHost(float[] data, Shape shape) {
        try (Arena a = Arena.ofConfined()) {
            return upload(a.allocateFrom(JAVA_FLOAT, data), DType.F32, shape);
        }
    }

    @Override
    public Tensor fromHost(double[] data, Shape shape) {
        try (Arena a = Arena.ofConfined()) {
            return upload(a.allocateFrom(JAVA_DOUBLE, data), DType.F64, shape);
        }
    }

    @Override
    public Tensor fromHost(int[] data, Shape shape) {
        try (Arena a = Arena.ofConfined()) {
            return upload(a.allocateFrom(JAVA_INT, data), DType.I32, shape);
        }
    }

    private Tensor upload(MemorySegment host, DType dtype, Shape shape) {
        if (host.byteSize() != (long) shape.size() * dtype.byteSize()) {
            throw new IllegalArgumentException(host.byteSize() / dtype.byteSize() + " values for shape " + shape);
        }
        enter();
        Tensor t = allocate(dtype, shape);
        if (host.byteSize() > 0) {
            driver.copyHostToDeviceAsync(address(t), host, host.byteSize(), stream);
            // The host segment is freed when the caller's arena closes.
            driver.synchronize(stream);
        }
        return t;
    }

    @Override
    public float[] toFloatArray(Tensor t) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = download(t, a);
            return switch (t.dtype()) {
                case F32 -> host.toArray(JAVA_FLOAT);
                case F64 -> {
                    double[] d = host.toArray(JAVA_DOUBLE);
                    float[] f = new float[d.length];
                    for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
                    yield f;
                }
                case I32 -> {
                    int[] v = host.toArray(JAVA_INT);
                    float[] f = new float[v.length];
                    for (int i = 0; i < v.length; i++) f[i] = v[i];
                    yield f;
                }
            };
        }
    }

    @Override
    public double[] toDoubleArray(Tensor t) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = download(t, a);
            return switch (t.dtype()) {
                case F64 -> host.toArray(JAVA_DOUBLE);
                case F32 -> {
                    float[] f = host.toArray(JAVA_FLOAT);
                    double[] d = new double[f.length];
                    for (int i = 0; i < f.length; i++) d[i] = f[i];
                    yield d;
                }
                case I32 -> {
                    int[] v = host.toArray(JAVA_INT);
                    double[] d = new double[v.length];
                    for (int i = 0; i < v.length; i++) d[i] = v[i];
                    yield d;
                }
            };
        }
    }

    /** Waits for the stream and copies t into host memory of {@code arena}. */
    private MemorySegment download(Tensor t, Arena arena) {
        enter();
        long bytes = (long) t.size() * t.dtype().byteSize();
        MemorySegment host = arena.allocate(Math.max(bytes, 1), 8).asSlice(0, bytes);
        if (bytes > 0) driver.copyDeviceToHostAsync(host, address(t), bytes, stream);
        driver.synchronize(stream);
        return host;
    }

    @Override
    public Tensor cast(Tensor x, DType to) {
        enter();
        if (x.dtype() == to) return x;
        Tensor y = allocate(to, x.shape());
        CudaKernel k = switch (x.dtype()) {
            case F32 -> to == DType.F64 ? CudaKernel.CAST_F32_TO_F64 : CudaKernel.CAST_F32_TO_I32;
            case F64 -> to == DType.F32 ? CudaKernel.CAST_F64_TO_F32 : null;
            case I32 -> to == DType.F32 ? CudaKernel.CAST_I32_TO_F32 : null;
        };
        if (k == null) {
            throw new BitEngineException("the CUDA backend cannot cast " + x.dtype() + " to " + to + " directly; cast through F32");
        }
        kernels.elementwise(k, x.size(), address(x), address(y), (long) x.size());
        return y;
    }

    @Override
    public Tensor copy(Tensor x) {
        enter();
        Tensor y = allocate(x.dtype(), x.shape());
        long bytes = (long) x.size() * x.dtype().byteSize();
        if (bytes > 0) driver.copyDeviceToDeviceAsync(address(y), address(x), bytes, stream);
        return y;
    }

    // ---- convolution -----------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        requireF32("conv2d", x, w);
        ConvGeometry g = ConvGeometry.of(x.shape(), w.shape(), spec);
        if (!symmetric(spec)) {
            Tensor padded = pad2d(x, spec.padTop(), spec.padBottom(), spec.padLeft(), spec.padRight(), 0);
            Tensor y = conv2d(padded, w, unpadded(spec));
            free(padded);
            return y;
        }
        Tensor filter = hwioToKrsc(w);
        Tensor y = allocate(DType.F32, Shape.of(g.n(), g.oh(), g.ow(), g.o()));
        runConv(Cudnn.Direction.FORWARD, g, address(x), address(filter), address(y));
        free(filter);
        return y;
    }

    @Override
    public Tensor conv2dBackwardData(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        requireF32("conv2dBackwardData", dy, w);
        ConvGeometry g = ConvGeometry.of(xShape, w.shape(), spec);
        if (!symmetric(spec)) {
            Shape paddedShape = Shape.of(g.n(), g.h() + spec.padTop() + spec.padBottom(), g.w() + spec.padLeft() + spec.padRight(), g.c());
            Tensor dPadded = conv2dBackwardData(dy, w, paddedShape, unpadded(spec));
            Tensor dx = crop2d(dPadded, spec.padTop(), spec.padBottom(), spec.padLeft(), spec.padRight());
            free(dPadded);
            return dx;
        }
        Tensor filter = hwioToKrsc(w);
        Tensor dx = allocate(DType.F32, xShape);
        runConv(Cudnn.Direction.BACKWARD_DATA, g, address(filter), address(dy), address(dx));
        free(filter);
        return dx;
    }

    @Override
    public Tensor conv2dBackwardFilter(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        requireF32("conv2dBackwardFilter", x, dy);
        ConvGeometry g = ConvGeometry.of(x.shape(), wShape, spec);
        if (!symmetric(spec)) {
            Tensor padded = pad2d(x, spec.padTop(), spec.padBottom(), spec.padLeft(), spec.padRight(), 0);
            Tensor dw = conv2dBackwardFilter(padded, dy, wShape, unpadded(spec));
            free(padded);
            return dw;
        }
        int r = wShape.size() / g.o();
        Tensor dFilter = allocate(DType.F32, Shape.of(g.o(), r));
        runConv(Cudnn.Direction.BACKWARD_FILTER, g, address(x), address(dy), address(dFilter));
        Tensor dw = allocate(DType.F32, wShape);
        kernels.elementwise(CudaKernel.TRANSPOSE2D, wShape.size(), address(dFilter), address(dw), g.o(), r);
        free(dFilter);
        return dw;
    }

    private void runConv(Cudnn.Direction direction, ConvGeometry g, long in1, long in2, long out) {
        ConvPlans.Plan plan = convPlans.plan(direction, g);
        long workspace = convPlans.workspace(plan.algorithm().workspaceBytes());
        cudnn.run(plan.descriptors(), direction, plan.algorithm(), in1, in2, out, workspace);
    }

    /** w [KH,KW,I,O] seen as [R, O] → cuDNN's KRSC filter [O, R] (R = KH·KW·I). */
    private Tensor hwioToKrsc(Tensor w) {
        int o = w.shape().dim(3);
        int r = w.size() / o;
        Tensor k = allocate(DType.F32, Shape.of(o, r));
        kernels.elementwise(CudaKernel.TRANSPOSE2D, w.size(), address(w), address(k), r, o);
        return k;
    }

    private static boolean symmetric(ConvSpec s) {
        return s.padTop() == s.padBottom() && s.padLeft() == s.padRight();
    }

    private static ConvSpec unpadded(ConvSpec s) {
        return new ConvSpec(s.strideH(), s.strideW(), 0, 0, 0, 0, s.groups());
    }

    // ---- normalisation ---------------------------------------------------------------------

    @Override
    public Tensor weightStandardize(Tensor w, double eps) {
        requireF32("weightStandardize", w);
        int o = w.shape().dim(-1);
        Tensor y = allocate(DType.F32, w.shape());
        kernels.blocks(CudaKernel.WS_FWD, o, address(w), address(y), w.size() / o, o, (float) eps);
        return y;
    }

    @Override
    public Tensor weightStandardizeBackward(Tensor w, Tensor dwHat, double eps) {
        requireF32("weightStandardizeBackward", w, dwHat);
        sameShape(w, dwHat, "weightStandardizeBackward");
        int o = w.shape().dim(-1);
        Tensor dw = allocate(DType.F32, w.shape());
        kernels.blocks(CudaKernel.WS_BWD, o, address(w), address(dwHat), address(dw), w.size() / o, o, (float) eps);
        return dw;
    }

    @Override
    public GroupNormResult groupNorm(Tensor x, Tensor gamma, Tensor beta, int groups, double eps) {
        requireF32("groupNorm", x, gamma, beta);
        int n = x.shape().dim(0);
        int c = x.shape().dim(-1);
        if (c % groups != 0) throw new IllegalArgumentException("GroupNorm: " + c + " channels not divisible by " + groups + " groups");
        if (gamma.size() != c || beta.size() != c) {
            throw new IllegalArgumentException("GroupNorm: gamma " + gamma.shape() + " / beta " + beta.shape() + " do not match " + c + " channels");
        }
        long positions = x.size() / ((long) n * c);
        Tensor mean = allocate(DType.F32, Shape.of(n, groups));
        Tensor rstd = allocate(DType.F32, Shape.of(n, groups));
        kernels.blocks(CudaKernel.GN_STATS, n * groups, address(x), address(mean), address(rstd), positions, c, groups, (float) eps);
        Tensor y = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.GN_FWD, x.size(), address(x), address(mean), address(rstd), address(gamma), address(beta),
                address(y), (long) x.size(), positions, c, groups);
        return new GroupNormResult(y, mean, rstd);
    }

    @Override
    public GroupNormGrads groupNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, int groups) {
        requireF32("groupNormBackward", dy, x, gamma, mean, rstd);
        sameShape(x, dy, "groupNormBackward");
        int n = x.shape().dim(0);
        int c = x.shape().dim(-1);
        long positions = x.size() / ((long) n * c);
        DeviceAllocator.Block sums = allocator.allocate((long) n * groups * 2 * Double.BYTES);
        kernels.blocks(CudaKernel.GN_BWD_SUMS, n * groups, address(dy), address(x), address(gamma), address(mean), address(rstd),
                sums.address(), positions, c, groups);
        Tensor dx = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.GN_BWD_DX, x.size(), address(dy), address(x), address(gamma), address(mean), address(rstd),
                sums.address(), address(dx), (long) x.size(), positions, c, groups);
        allocator.release(sums);

        long rows = (long) n * positions;
        long rowsPerChunk = rowsPerChunk(rows);
        int chunks = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
        DeviceAllocator.Block partial = allocator.allocate((long) chunks * 2 * c * Double.BYTES);
        kernels.grid2d(CudaKernel.GN_PARAM_GRADS_PARTIAL, channelBlocks(c), chunks, address(dy), address(x), address(mean),
                address(rstd), partial.address(), rows, positions, c, groups, rowsPerChunk);
        Tensor dgamma = allocate(DType.F32, gamma.shape());
        Tensor dbeta = allocate(DType.F32, gamma.shape());
        kernels.elementwise(CudaKernel.PAIR_SUMS_FINISH, c, partial.address(), address(dgamma), address(dbeta), chunks, c);
        allocator.release(partial);
        return new GroupNormGrads(dx, dgamma, dbeta);
    }

    @Override
    public BatchNormResult batchNorm(Tensor x, Tensor gamma, Tensor beta, double eps) {
        requireF32("batchNorm", x, gamma, beta);
        int c = checkBatchNorm(x, "batchNorm", gamma, beta);
        long rows = x.size() / c;
        long rowsPerChunk = rowsPerChunk(rows);
        int chunks = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
        DeviceAllocator.Block partial = allocator.allocate((long) chunks * 2 * c * Double.BYTES);
        kernels.grid2d(CudaKernel.BN_STATS_PARTIAL, channelBlocks(c), chunks, address(x), partial.address(), rows, c, rowsPerChunk);
        Shape cs = Shape.of(c);
        Tensor mean = allocate(DType.F32, cs), rstd = allocate(DType.F32, cs), var = allocate(DType.F32, cs);
        kernels.elementwise(CudaKernel.BN_STATS_FINISH, c, partial.address(), address(mean), address(rstd), address(var), chunks, c,
                rows, (float) eps);
        allocator.release(partial);
        Tensor y = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.BN_FWD, x.size(), address(x), address(mean), address(rstd), address(gamma), address(beta),
                address(y), (long) x.size(), c);
        return new BatchNormResult(y, mean, rstd, var);
    }

    @Override
    public BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd) {
        requireF32("batchNormBackward", dy, x, gamma, mean, rstd);
        sameShape(x, dy, "batchNormBackward");
        int c = checkBatchNorm(x, "batchNormBackward", gamma, mean, rstd);
        Tensor[] params = batchNormParamGrads(dy, x, mean, rstd, c);
        Tensor dx = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.BN_BWD_DX, x.size(), address(dy), address(x), address(mean), address(rstd), address(gamma),
                address(params[0]), address(params[1]), address(dx), (long) x.size(), c, (long) (x.size() / c));
        return new BatchNormGrads(dx, params[0].view(gamma.shape()), params[1].view(gamma.shape()));
    }

    /** {dgamma, dbeta} [C] = {Σ dy·x̂, Σ dy} per channel with x̂ = (x − mean)·rstd. */
    private Tensor[] batchNormParamGrads(Tensor dy, Tensor x, Tensor mean, Tensor rstd, int c) {
        long rows = x.size() / c;
        long rowsPerChunk = rowsPerChunk(rows);
        int chunks = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
        DeviceAllocator.Block partial = allocator.allocate((long) chunks * 2 * c * Double.BYTES);
        kernels.grid2d(CudaKernel.BN_PARAM_GRADS_PARTIAL, channelBlocks(c), chunks, address(dy), address(x), address(mean),
                address(rstd), partial.address(), rows, c, rowsPerChunk);
        Tensor dgamma = allocate(DType.F32, Shape.of(c)), dbeta = allocate(DType.F32, Shape.of(c));
        kernels.elementwise(CudaKernel.PAIR_SUMS_FINISH, c, partial.address(), address(dgamma), address(dbeta), chunks, c);
        allocator.release(partial);
        return new Tensor[] {dgamma, dbeta};
    }

    @Override
    public Tensor batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps) {
        requireF32("batchNormInference", x, gamma, beta, runningMean, runningVar);
        int c = checkBatchNorm(x, "batchNormInference", gamma, beta, runningMean, runningVar);
        Tensor rstd = rstdFromVar(runningVar, c, eps);
        Tensor y = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.BN_FWD, x.size(), address(x), address(runningMean), address(rstd), address(gamma),
                address(beta), address(y), (long) x.size(), c);
        free(rstd);
        return y;
    }

    @Override
    public BatchNormGrads batchNormInferenceBackward(Tensor dy, Tensor x, Tensor gamma, Tensor runningMean, Tensor runningVar, double eps) {
        requireF32("batchNormInferenceBackward", dy, x, gamma, runningMean, runningVar);
        sameShape(x, dy, "batchNormInferenceBackward");
        int c = checkBatchNorm(x, "batchNormInferenceBackward", gamma, runningMean, runningVar);
        Tensor rstd = rstdFromVar(runningVar, c, eps);
        Tensor[] params = batchNormParamGrads(dy, x, runningMean, rstd, c);
        Tensor dx = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.BN_INFERENCE_BWD_DX, x.size(), address(dy), address(gamma), address(rstd), address(dx),
                (long) x.size(), c);
        free(rstd);
        return new BatchNormGrads(dx, params[0].view(gamma.shape()), params[1].view(gamma.shape()));
    }

    private Tensor rstdFromVar(Tensor var, int c, double eps) {
        Tensor rstd = allocate(DType.F32, Shape.of(c));
        kernels.elementwise(CudaKernel.RSTD_FROM_VAR, c, address(var), address(rstd), c, (float) eps);
        return rstd;
    }

    @Override
    public void runningStatUpdateInPlace(Tensor running, Tensor batch, double momentum) {
        requireF32("runningStatUpdateInPlace", running, batch);
        if (!running.shape().equals(batch.shape())) {
            throw new IllegalArgumentException("runningStatUpdateInPlace: running " + running.shape() + " vs batch " + batch.shape());
        }
        kernels.elementwise(CudaKernel.RUNNING_STAT_UPDATE, running.size(), address(running), address(batch), (float) momentum,
                running.size());
    }

    private static int checkBatchNorm(Tensor x, String op, Tensor... perChannel) {
        if (x.shape().rank() < 2) throw new IllegalArgumentException(op + " wants x [N,...,C], got " + x.shape());
        int c = x.shape().dim(-1);
        for (Tensor t : perChannel) {
            if (t.size() != c) throw new IllegalArgumentException(op + ": per-channel tensor " + t.shape() + " does not match " + c + " channels of " + x.shape());
        }
        return c;
    }

    /** Rows one thread sums in a per-channel reduction: about {@link #TARGET_CHUNKS} chunks in all. */
    private static long rowsPerChunk(long rows) {
        return Math.max(1, (rows + TARGET_CHUNKS - 1) / TARGET_CHUNKS);
    }

    private static int channelBlocks(int c) {
        return (c + KernelLauncher.THREADS - 1) / KernelLauncher.THREADS;
    }

    // ---- element-wise ----------------------------------------------------------------------

    @Override
    public Tensor relu(Tensor x) {
        return unary(CudaKernel.RELU_FWD, "relu", x);
    }

    @Override
    public Tensor reluBackward(Tensor x, Tensor dy) {
        return unaryBackward(CudaKernel.RELU_BWD, "reluBackward", x, dy);
    }

    @Override
    public Tensor sigmoid(Tensor x) {
        return unary(CudaKernel.SIGMOID_FWD, "sigmoid", x);
    }

    @Override
    public Tensor sigmoidBackward(Tensor y, Tensor dy) {
        return unaryBackward(CudaKernel.SIGMOID_BWD, "sigmoidBackward", y, dy);
    }

    @Override
    public Tensor swish(Tensor x) {
        return unary(CudaKernel.SWISH_FWD, "swish", x);
    }

    @Override
    public Tensor swishBackward(Tensor x, Tensor dy) {
        return unaryBackward(CudaKernel.SWISH_BWD, "swishBackward", x, dy);
    }

    private Tensor unary(CudaKernel k, String op, Tensor x) {
        requireF32(op, x);
        Tensor y = allocate(DType.F32, x.shape());
        kernels.elementwise(k, x.size(), address(x), address(y), (long) x.size());
        return y;
    }

    /** A kernel (saved forward tensor, dy) → dx, all like the saved tensor. */
    private Tensor unaryBackward(CudaKernel k, String op, Tensor saved, Tensor dy) {
        requireF32(op, saved, dy);
        sameShape(saved, dy, op);
        Tensor dx = allocate(DType.F32, saved.shape());
        kernels.elementwise(k, saved.size(), address(saved), address(dy), address(dx), (long) saved.size());
        return dx;
    }

    @Override
    public Tensor scaleChannels(Tensor x, Tensor s) {
        requireF32("scaleChannels", x, s);
        long[] npc = scaleChannelsGeometry(x.shape(), s.shape());
        Tensor y = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.SCALE_CHANNELS, x.size(), address(x), address(s), address(y), (long) x.size(), npc[1], (int) npc[2]);
        return y;
    }

    @Override
    public Tensor scaleChannelsBackwardScale(Tensor dy, Tensor x, Shape sShape) {
        requireF32("scaleChannelsBackwardScale", dy, x);
        sameShape(x, dy, "scaleChannelsBackwardScale");
        long[] npc = scaleChannelsGeometry(x.shape(), sShape);
        Tensor ds = allocate(DType.F32, sShape);
        kernels.elementwise(CudaKernel.SCALE_CHANNELS_BWD_SCALE, sShape.size(), address(dy), address(x), address(ds), (int) npc[0],
                npc[1], (int) npc[2]);
        return ds;
    }

    /** {n, positions per sample, c} for x [N,...,C] and s [N,C]. */
    private static long[] scaleChannelsGeometry(Shape x, Shape s) {
        if (x.rank() < 2 || s.rank() != 2 || s.dim(0) != x.dim(0) || s.dim(1) != x.dim(-1)) {
            throw new IllegalArgumentException("scaleChannels wants x [N,...,C] and s [N,C], got x " + x + " and s " + s);
        }
        int n = x.dim(0), c = x.dim(-1);
        return new long[] {n, x.size() / Math.max(1, (long) n * c), c};
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        requireF32(op.name().toLowerCase(), a, b);
        if (!isSuffix(b.shape(), a.shape()) && b.size() != 1) {
            throw new IllegalArgumentException(op + ": cannot broadcast " + b.shape() + " to " + a.shape());
        }
        Tensor y = allocate(DType.F32, a.shape());
        if (b.size() == 0) return y; // then a is empty too
        kernels.elementwise(CudaKernel.BINARY_BCAST, a.size(), address(a), address(b), address(y), (long) a.size(), (long) b.size(),
                op.ordinal());
        return y;
    }

    @Override
    public Tensor scale(Tensor x, double alpha) {
        requireF32("scale", x);
        Tensor y = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.SCALE, x.size(), address(x), address(y), (float) alpha, (long) x.size());
        return y;
    }

    @Override
    public Tensor sumToSuffix(Tensor x, Shape target) {
        if (target.equals(x.shape())) return x;
        requireF32("sumToSuffix", x);
        if (!isSuffix(target, x.shape()) && target.size() != 1) {
            throw new IllegalArgumentException("cannot sum " + x.shape() + " down to " + target);
        }
        int cols = target.size();
        Tensor y = allocate(DType.F32, target);
        if (cols == 0) return y;
        long rows = x.size() / cols;
        long rowsPerChunk = rowsPerChunk(rows);
        int chunks = (int) Math.max(1, (rows + rowsPerChunk - 1) / rowsPerChunk);
        DeviceAllocator.Block partial = allocator.allocate((long) chunks * cols * Double.BYTES);
        kernels.grid2d(CudaKernel.COLUMN_SUMS_PARTIAL, channelBlocks(cols), chunks, address(x), partial.address(), rows, cols, rowsPerChunk);
        kernels.elementwise(CudaKernel.COLUMN_SUMS_FINISH, cols, partial.address(), address(y), chunks, cols);
        allocator.release(partial);
        return y;
    }

    @Override
    public Tensor sum(Tensor x) {
        requireF32("sum", x);
        int blocks = Math.clamp((x.size() + KernelLauncher.REDUCE_THREADS - 1L) / KernelLauncher.REDUCE_THREADS, 1, 1024);
        DeviceAllocator.Block partial = allocator.allocate((long) blocks * Double.BYTES);
        kernels.blocks(CudaKernel.SUM_PARTIAL, blocks, address(x), partial.address(), (long) x.size());
        Tensor y = allocate(DType.F32, Shape.scalar());
        kernels.blocks(CudaKernel.SUM_FINISH, 1, partial.address(), address(y), blocks);
        allocator.release(partial);
        return y;
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        requireF32("addInPlace", acc, x);
        if (!acc.shape().equals(x.shape())) throw new IllegalArgumentException("addInPlace: " + acc.shape() + " vs " + x.shape());
        kernels.elementwise(CudaKernel.ADD, acc.size(), address(acc), address(x), address(acc), (long) acc.size());
    }

    /** Also accepts {@code src} on another backend (a checkpoint's values read on the CPU): they are uploaded. */
    @Override
    public void copyInPlace(Tensor dst, Tensor src) {
        if (!dst.shape().equals(src.shape())) throw new IllegalArgumentException("copyInPlace: " + dst.shape() + " vs " + src.shape());
        enter();
        if (dst.dtype() == DType.I32) throw new IllegalArgumentException("copyInPlace into an int32 tensor");
        Tensor onDevice = src.backend() == this ? src : switch (dst.dtype()) {
            case F64 -> fromHost(src.toDoubleArray(), src.shape());
            default -> fromHost(src.toFloatArray(), src.shape());
        };
        Tensor converted = onDevice.dtype() == dst.dtype() ? onDevice : cast(onDevice, dst.dtype());
        long bytes = (long) dst.size() * dst.dtype().byteSize();
        if (bytes > 0) driver.copyDeviceToDeviceAsync(address(dst), address(converted), bytes, stream);
    }

    private static boolean isSuffix(Shape suffix, Shape full) {
        if (suffix.rank() > full.rank()) return false;
        int offset = full.rank() - suffix.rank();
        for (int i = 0; i < suffix.rank(); i++) if (suffix.dim(i) != full.dim(offset + i)) return false;
        return true;
    }

    private static void sameShape(Tensor a, Tensor b, String op) {
        if (!a.shape().equals(b.shape())) throw new IllegalArgumentException(op + ": " + a.shape() + " vs " + b.shape());
    }

    // ---- spatial ---------------------------------------------------------------------------

    @Override
    public Tensor pad2d(Tensor x, int top, int bottom, int left, int right, double value) {
        requireF32("pad2d", x);
        int[] d = nhwc(x.shape(), "pad2d");
        Shape out = Shape.of(d[0], d[1] + top + bottom, d[2] + left + right, d[3]);
        Tensor y = allocate(DType.F32, out);
        kernels.elementwise(CudaKernel.PAD2D, out.size(), address(x), address(y), (long) out.size(), d[1], d[2], d[3], top, left,
                out.dim(1), out.dim(2), (float) value);
        return y;
    }

    @Override
    public Tensor crop2d(Tensor dy, int top, int bottom, int left, int right) {
        requireF32("crop2d", dy);
        int[] d = nhwc(dy.shape(), "crop2d");
        Shape out = Shape.of(d[0], d[1] - top - bottom, d[2] - left - right, d[3]);
        Tensor dx = allocate(DType.F32, out);
        kernels.elementwise(CudaKernel.CROP2D, out.size(), address(dy), address(dx), (long) out.size(), out.dim(1), out.dim(2), d[3],
                top, left, d[1], d[2]);
        return dx;
    }

    @Override
    public Tensor maxPool2d(Tensor x, int kernel, int stride) {
        requireF32("maxPool2d", x);
        int[] d = nhwc(x.shape(), "maxPool2d");
        Shape out = Shape.of(d[0], (d[1] - kernel) / stride + 1, (d[2] - kernel) / stride + 1, d[3]);
        Tensor y = allocate(DType.F32, out);
        kernels.elementwise(CudaKernel.MAXPOOL_FWD, out.size(), address(x), address(y), (long) out.size(), d[1], d[2], d[3], kernel,
                stride, out.dim(1), out.dim(2));
        return y;
    }

    @Override
    public Tensor maxPool2dBackward(Tensor x, Tensor dy, int kernel, int stride) {
        requireF32("maxPool2dBackward", x, dy);
        int[] d = nhwc(x.shape(), "maxPool2dBackward");
        int oh = (d[1] - kernel) / stride + 1, ow = (d[2] - kernel) / stride + 1;
        if (!dy.shape().equals(Shape.of(d[0], oh, ow, d[3]))) {
            throw new IllegalArgumentException("maxPool2dBackward: dy " + dy.shape() + " does not match the pooled shape of x " + x.shape());
        }
        Tensor dx = allocate(DType.F32, x.shape());
        kernels.elementwise(CudaKernel.MAXPOOL_BWD, x.size(), address(x), address(dy), address(dx), (long) x.size(), d[1], d[2], d[3],
                kernel, stride, oh, ow);
        return dx;
    }

    @Override
    public Tensor globalAvgPool(Tensor x) {
        requireF32("globalAvgPool", x);
        int[] d = nhwc(x.shape(), "globalAvgPool");
        Tensor y = allocate(DType.F32, Shape.of(d[0], d[3]));
        kernels.elementwise(CudaKernel.GLOBAL_AVG_POOL, (long) d[0] * d[3], address(x), address(y), d[0], (long) d[1] * d[2], d[3]);
        return y;
    }

    @Override
    public Tensor globalAvgPoolBackward(Tensor dy, Shape xShape) {
        requireF32("globalAvgPoolBackward", dy);
        int[] d = nhwc(xShape, "globalAvgPoolBackward");
        Tensor dx = allocate(DType.F32, xShape);
        kernels.elementwise(CudaKernel.GLOBAL_AVG_POOL_BWD, xShape.size(), address(dy), address(dx), (long) xShape.size(),
                (long) d[1] * d[2], d[3]);
        return dx;
    }

    private static int[] nhwc(Shape s, String op) {
        if (s.rank() != 4) throw new IllegalArgumentException(op + " wants an NHWC tensor [N,H,W,C], got " + s);
        return s.dims();
    }

    // ---- dense -----------------------------------------------------------------------------

    /**
     * Row-major C [m,n] = op(A)·op(B) through column-major cuBLAS: a row-major matrix is its own
     * transpose in column-major terms, so cuBLAS computes Cᵀ = op(B)ᵀ·op(A)ᵀ with the operands swapped.
     */
    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        requireF32("matmul", a, b);
        if (a.shape().rank() != 2 || b.shape().rank() != 2) {
            throw new IllegalArgumentException("matmul wants 2-D tensors, got " + a.shape() + " and " + b.shape());
        }
        int m = transA ? a.shape().dim(1) : a.shape().dim(0);
        int k = transA ? a.shape().dim(0) : a.shape().dim(1);
        int kb = transB ? b.shape().dim(1) : b.shape().dim(0);
        int n = transB ? b.shape().dim(0) : b.shape().dim(1);
        if (k != kb) throw new IllegalArgumentException("matmul: inner dimensions differ: " + a.shape() + " · " + b.shape());
        if (k == 0) return zeros(DType.F32, Shape.of(m, n));
        Tensor c = allocate(DType.F32, Shape.of(m, n));
        if (m == 0 || n == 0) return c;
        cublas.sgemm(transB ? Cublas.OP_T : Cublas.OP_N, transA ? Cublas.OP_T : Cublas.OP_N, n, m, k, 1f,
                address(b), b.shape().dim(1), address(a), a.shape().dim(1), 0f, address(c), n);
        return c;
    }

    // ---- loss ------------------------------------------------------------------------------

    @Override
    public Tensor softmaxCrossEntropy(Tensor logits, Tensor target) {
        requireF32("softmaxCrossEntropy", logits);
        int[] nk = lossGeometry(logits, target);
        Tensor loss = allocate(DType.F32, Shape.of(nk[0]));
        CudaKernel k = target.dtype() == DType.I32 ? CudaKernel.XENT_HARD_FWD : CudaKernel.XENT_SOFT_FWD;
        kernels.elementwise(k, nk[0], address(logits), address(target), address(loss), nk[0], nk[1]);
        return loss;
    }

    @Override
    public Tensor softmaxCrossEntropyBackward(Tensor logits, Tensor target, Tensor dLoss) {
        requireF32("softmaxCrossEntropyBackward", logits, dLoss);
        int[] nk = lossGeometry(logits, target);
        if (dLoss.size() != nk[0]) throw new IllegalArgumentException("dLoss " + dLoss.shape() + " does not match " + nk[0] + " samples");
        Tensor dLogits = allocate(DType.F32, logits.shape());
        CudaKernel k = target.dtype() == DType.I32 ? CudaKernel.XENT_HARD_BWD : CudaKernel.XENT_SOFT_BWD;
        kernels.elementwise(k, nk[0], address(logits), address(target), address(dLoss), address(dLogits), nk[0], nk[1]);
        return dLogits;
    }

    /**
     * {n, k} for logits [N,K] and labels [N] (int32) or soft labels [N,K] (float32). A label outside
     * [0, K) is not checked here (that would wait for the GPU); its sample's loss is NaN.
     */
    private int[] lossGeometry(Tensor logits, Tensor target) {
        if (logits.shape().rank() != 2) throw new IllegalArgumentException("softmaxCrossEntropy wants logits [N,K], got " + logits.shape());
        int n = logits.shape().dim(0), k = logits.shape().dim(1);
        if (target.dtype() == DType.I32) {
            if (!target.shape().equals(Shape.of(n))) throw new IllegalArgumentException("labels " + target.shape() + " do not match " + n + " logit rows");
        } else {
            requireF32("softmaxCrossEntropy (soft labels)", target);
            if (!target.shape().equals(Shape.of(n, k))) {
                throw new IllegalArgumentException("soft labels " + target.shape() + " do not match logits (" + n + ", " + k + ")");
            }
        }
        return new int[] {n, k};
    }

    // ---- optimiser -------------------------------------------------------------------------

    @Override
    public void sgdMomentumInPlace(Tensor param, Tensor grad, Tensor buf, double lr, double momentum) {
        requireF32("sgdMomentumInPlace", param, grad, buf);
        sameShape(param, grad, "sgdMomentumInPlace");
        sameShape(param, buf, "sgdMomentumInPlace");
        kernels.elementwise(CudaKernel.SGD_MOMENTUM, param.size(), address(param), address(grad), address(buf), (float) lr,
                (float) momentum, (long) param.size());
    }

    @Override
    public void adamInPlace(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                            long t) {
        if (t < 1) throw new IllegalArgumentException("Adam's step count starts at 1, got " + t);
        requireF32("adamInPlace", param, grad, m, v);
        sameShape(param, grad, "adamInPlace");
        sameShape(param, m, "adamInPlace");
        sameShape(param, v, "adamInPlace");
        // The bias corrections in double on the host, as PyTorch computes them (and as the CPU backend does).
        double stepSize = lr / (1 - Math.pow(beta1, t));
        double sqrtCorrection = Math.sqrt(1 - Math.pow(beta2, t));
        kernels.elementwise(CudaKernel.ADAM, param.size(), address(param), address(grad), address(m), address(v),
                (float) stepSize, (float) beta1, (float) beta2, (float) eps, (float) sqrtCorrection, (long) param.size());
    }

    @Override
    public void rmspropInPlace(Tensor param, Tensor grad, Tensor v, double lr, double alpha, double eps) {
        requireF32("rmspropInPlace", param, grad, v);
        sameShape(param, grad, "rmspropInPlace");
        sameShape(param, v, "rmspropInPlace");
        kernels.elementwise(CudaKernel.RMSPROP, param.size(), address(param), address(grad), address(v), (float) lr,
                (float) alpha, (float) eps, (long) param.size());
    }

    // ---- helpers ---------------------------------------------------------------------------

    /** Makes this backend's context current on the calling thread, once per thread. */
    private void enter() {
        if (!entered.get()) {
            driver.setCurrent(context);
            entered.set(true);
        }
    }

    /** A new tensor of uninitialised device memory. */
    private Tensor allocate(DType dtype, Shape shape) {
        enter();
        DeviceAllocator.Block block = allocator.allocate((long) shape.size() * dtype.byteSize());
        return new Tensor(shape, new CudaStorage(this, dtype, shape.size(), allocator, block));
    }

    /** A tensor over memory someone else owns ({@link BatchUploader}'s slots). */
    Tensor borrow(DType dtype, Shape shape, long address) {
        return new Tensor(shape, new CudaStorage(this, dtype, shape.size(), address));
    }

    /** Gives a temporary's memory back now (its last reader is queued; see DeviceAllocator). */
    private static void free(Tensor t) {
        ((CudaStorage) t.storage()).free();
    }

    long stream() {
        return stream;
    }

    private long address(Tensor t) {
        if (t.storage() instanceof CudaStorage s && s.backend() == this) return s.address;
        throw new IllegalArgumentException("tensor on " + t.backend().name() + " passed to the " + name
                + " backend; move it first (Devices.to)");
    }

    /** Every tensor must be float32: the CUDA backend does not compute in float64 or on labels. */
    private void requireF32(String op, Tensor... ts) {
        enter();
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32) {
                throw new BitEngineException("the CUDA backend computes " + op + " in float32 only, got a " + t.dtype()
                        + " tensor " + t.shape() + "; float64 (gradient checks, float64 golden tests) runs on the CPU backend");
            }
            address(t);
        }
    }
}
