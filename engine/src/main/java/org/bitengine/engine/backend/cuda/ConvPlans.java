package org.bitengine.engine.backend.cuda;

import java.util.HashMap;
import java.util.Map;

import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.cuda.bindings.Cudnn;

/**
 * cuDNN descriptors and the chosen algorithm per convolution shape and direction, found once
 * (cuDNN times every algorithm, as {@code torch.backends.cudnn.benchmark} does) and kept for the
 * backend's life; and the one workspace every convolution shares, grown to the largest need.
 * Used from the thread that drives the backend; not thread-safe.
 */
final class ConvPlans {

    /** One convolution shape with symmetric padding ({@code padH}, {@code padW} on both sides). */
    private record Key(Cudnn.Direction direction, int n, int h, int w, int c, int o, int kh, int kw, int padH, int padW,
                       int strideH, int strideW, int groups) {}

    record Plan(Cudnn.ConvDescriptors descriptors, Cudnn.Algorithm algorithm) {}

    private final Cudnn cudnn;
    private final DeviceAllocator allocator;
    private final CudaOptions options;
    private final Map<Key, Plan> plans = new HashMap<>();
    private DeviceAllocator.Block workspace = new DeviceAllocator.Block(0, 0);

    ConvPlans(Cudnn cudnn, DeviceAllocator allocator, CudaOptions options) {
        this.cudnn = cudnn;
        this.allocator = allocator;
        this.options = options;
    }

    /** The plan for {@code g} (whose padding must be symmetric) in {@code direction}. */
    Plan plan(Cudnn.Direction direction, ConvGeometry g) {
        var s = g.spec();
        Key key = new Key(direction, g.n(), g.h(), g.w(), g.c(), g.o(), g.kh(), g.kw(), s.padTop(), s.padLeft(),
                s.strideH(), s.strideW(), s.groups());
        Plan plan = plans.get(key);
        if (plan == null) {
            Cudnn.ConvDescriptors d = cudnn.describe(g.n(), g.h(), g.w(), g.c(), g.o(), g.kh(), g.kw(), g.oh(), g.ow(),
                    s.padTop(), s.padLeft(), s.strideH(), s.strideW(), s.groups(), options.allowTf32());
            // cuDNN's search allocates its own scratch memory; give it what the cache holds.
            allocator.trim();
            Cudnn.Algorithm algo = cudnn.find(d, direction, options.convWorkspaceLimit(), options.allowTf32());
            if (options.allowTf32()) d.useMathType(algo.mathType());
            plan = new Plan(d, algo);
            plans.put(key, plan);
        }
        return plan;
    }

    /**
     * The shared workspace, at least {@code bytes} long. The old one goes back to the allocator
     * when a larger one is needed: the convolutions already queued on the stream still run before
     * anything queued later can reuse it.
     */
    long workspace(long bytes) {
        if (bytes > workspace.bytes()) {
            allocator.release(workspace);
            workspace = allocator.allocate(bytes);
        }
        return workspace.address();
    }
}
