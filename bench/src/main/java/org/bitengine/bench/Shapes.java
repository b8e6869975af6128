package org.bitengine.bench;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.bitengine.engine.backend.ConvGeometry;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.models.bit.BitConfig;

/**
 * The shapes the benchmarks run and how many FLOPs each one is worth, in one place so that the JMH
 * benchmarks, {@link Compare} and the PyTorch script (which repeats these tables) agree.
 *
 * <p>FLOPs count a multiply-add as two: {@code 2·M·N·K} for a GEMM and
 * {@code 2·N·OH·OW·O·KH·KW·C/groups} for each convolution pass (forward, backward-data and
 * backward-filter do the same number of multiply-adds).
 */
public final class Shapes {

    private Shapes() {
    }

    /** Batch of every convolution and training-step benchmark. */
    public static final int BATCH = 8;

    /**
     * One convolution layer of BiT-R50x1, its input size given as a divisor of the image resolution
     * (the root sees the image itself, block 1 and the first unit of block 2 see resolution / 4).
     *
     * @param name    the label used in parameters and tables
     * @param divisor input height and width = resolution / divisor
     * @param c       input channels
     * @param o       output channels
     * @param k       kernel height and width
     * @param stride  stride on both axes
     * @param pad     zero padding on every side
     */
    public record ConvLayer(String name, int divisor, int c, int o, int k, int stride, int pad) {

        /** The layer at {@code resolution} with batch {@code n}. */
        public ConvGeometry geometry(int resolution, int n) {
            int h = resolution / divisor;
            return new ConvGeometry(n, h, h, c, k, k, o, ConvSpec.of(stride, pad));
        }
    }

    /**
     * The representative R50x1 layers: the 7×7/2 root; block 1's 1×1 expansion and 3×3 (56×56 input at
     * 224); block 2's first unit, whose 3×3 carries the stride and whose projection is a strided 1×1
     * from the pre-activation.
     */
    public static final List<ConvLayer> CONV_LAYERS = List.of(
            new ConvLayer("root7x7s2_3to64", 1, 3, 64, 7, 2, 3),
            new ConvLayer("b1_1x1_64to256", 4, 64, 256, 1, 1, 0),
            new ConvLayer("b1_3x3_64to64", 4, 64, 64, 3, 1, 1),
            new ConvLayer("b2_3x3s2_128to128", 4, 128, 128, 3, 2, 1),
            new ConvLayer("b2_proj1x1s2_256to512", 4, 256, 512, 1, 2, 0));

    public static ConvLayer convLayer(String name) {
        for (ConvLayer l : CONV_LAYERS) if (l.name().equals(name)) return l;
        throw new IllegalArgumentException("unknown conv layer '" + name + "'; known: "
                + CONV_LAYERS.stream().map(ConvLayer::name).toList());
    }

    /** FLOPs of one pass of the convolution {@code g} (any of the three passes). */
    public static double convFlops(ConvGeometry g) {
        return 2.0 * g.n() * g.oh() * g.ow() * g.o() * g.kh() * g.kw() * g.cPerGroup();
    }

    /**
     * A GEMM {@code C[M,N] = A[M,K]·B[K,N]}: the im2col product of a BiT-R50x1 convolution forward pass
     * at 128×128, batch 8 (M = 8·OH·OW, N = out channels, K = KH·KW·C), or a square reference.
     */
    public record Gemm(String name, int m, int n, int k) {
        public double flops() {
            return 2.0 * m * n * k;
        }

        /** {@code label_MxNxK}, the form used as a JMH parameter value. */
        public String id() {
            return name + "_" + m + "x" + n + "x" + k;
        }
    }

    public static final List<Gemm> GEMMS = List.of(
            new Gemm("root7x7s2", 32768, 64, 147),
            new Gemm("b1_1x1_64to256", 8192, 256, 64),
            new Gemm("b1_3x3_64to64", 8192, 64, 576),
            new Gemm("b2_3x3_128to128", 2048, 128, 1152),
            new Gemm("b3_1x1_1024to256", 512, 256, 1024),
            new Gemm("b4_3x3_512to512", 128, 512, 4608),
            new Gemm("b4_1x1_512to2048", 128, 2048, 512),
            new Gemm("square", 1024, 1024, 1024));

    /** Parses {@code label_MxNxK} or plain {@code MxNxK}. */
    public static Gemm gemm(String id) {
        String dims = id.substring(id.lastIndexOf('_') + 1);
        String[] p = dims.toLowerCase(Locale.ROOT).split("x");
        if (p.length != 3) throw new IllegalArgumentException("GEMM shape '" + id + "' is not [label_]MxNxK");
        String name = id.contains("_") ? id.substring(0, id.lastIndexOf('_')) : "gemm";
        return new Gemm(name, Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
    }

    /**
     * Multiply-add FLOPs of one BiT forward pass (every convolution and the head's matmul; GroupNorm,
     * ReLU, pooling and weight standardisation are not counted).
     */
    public static double bitForwardFlops(BitConfig config, int resolution, int batch) {
        return bitFlops(config, resolution, batch, false);
    }

    /**
     * FLOPs a training step needs: the forward pass, then for every convolution and the head both
     * gradients, except the input gradient of the root convolution, which nothing uses (the "model
     * FLOPs" of the step; work the engine does beyond them is not counted).
     */
    public static double bitTrainStepFlops(BitConfig config, int resolution, int batch) {
        return bitFlops(config, resolution, batch, true);
    }

    private static double bitFlops(BitConfig config, int resolution, int batch, boolean training) {
        int wf = config.widthFactor();
        ConvGeometry root = new ConvGeometry(batch, resolution, resolution, 3, 7, 7, 64 * wf, ConvSpec.of(2, 3));
        double fwd = convFlops(root);
        double bwd = convFlops(root); // filter gradient only
        int s = (root.oh() + 2 - 3) / 2 + 1; // zero pad 1, then 3×3/2 max-pool
        int in = 64 * wf;
        for (int b = 0; b < 4; b++) {
            int mid = 64 * wf << b, out = 4 * mid;
            for (int u = 0; u < config.blockUnits().get(b); u++) {
                int stride = (u == 0 && b > 0) ? 2 : 1;
                int cin = u == 0 ? in : out;
                ConvGeometry a = new ConvGeometry(batch, s, s, cin, 1, 1, mid, ConvSpec.of(1, 0));
                ConvGeometry bb = new ConvGeometry(batch, s, s, mid, 3, 3, mid, ConvSpec.of(stride, 1));
                int so = bb.oh();
                ConvGeometry c = new ConvGeometry(batch, so, so, mid, 1, 1, out, ConvSpec.of(1, 0));
                double unit = convFlops(a) + convFlops(bb) + convFlops(c);
                if (stride != 1 || cin != out) unit += convFlops(new ConvGeometry(batch, s, s, cin, 1, 1, out, ConvSpec.of(stride, 0)));
                fwd += unit;
                bwd += 2 * unit;
                s = so;
            }
            in = out;
        }
        double head = 2.0 * batch * in * config.headSize();
        fwd += head;
        bwd += 2 * head;
        return training ? fwd + bwd : fwd;
    }

    /** Uniform values in [-1, 1) from a fixed seed. */
    public static float[] random(int size, long seed) {
        float[] a = new float[size];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextDouble() * 2 - 1);
        return a;
    }
}
