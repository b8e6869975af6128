package org.bitengine.models.bit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.nn.GroupNorm;
import org.bitengine.engine.nn.Init;
import org.bitengine.engine.nn.Module;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.nn.Params;
import org.bitengine.engine.nn.StdConv2d;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.Classifier;

/**
 * BiT's ResNet-v2, as the official {@code bit_pytorch.models.ResNetV2} computes it, on NHWC input
 * scaled to [-1, 1]:
 *
 * <pre>
 * root   7×7/2 weight-standardised conv (pad 3) → zero pad 1 → 3×3/2 max-pool (no padding)
 * body   four blocks of pre-activation bottlenecks; widths 256, 512, 1024, 2048 (× width factor);
 *        the first unit of blocks 2–4 has stride 2 on its 3×3 conv
 * head   GroupNorm → ReLU → mean over H, W → 1×1 conv with bias (here: a matmul), [N, classes]
 * </pre>
 *
 * Parameters carry the official checkpoint names under {@code resnet/}, so loading and saving
 * use the published naming and HWIO layout directly.
 */
public final class BitResNet implements Module, Classifier {

    /** Names of the intermediate tensors {@link #forward(Tensor, Map)} can report. */
    public static final List<String> TAPS = List.of("root_conv", "root", "block1", "block2", "block3", "block4", "head_gn_relu");

    private final BitConfig config;
    private final ParameterStore store;
    private final StdConv2d rootConv;
    private final List<List<PreActBottleneck>> blocks = new ArrayList<>();
    private final GroupNorm headNorm;
    private final Tensor headKernel;
    private final Tensor headBias;

    public BitResNet(BitConfig config, ParameterStore store) {
        this.config = config;
        this.store = store;
        int wf = config.widthFactor();
        Params resnet = store.root().at("resnet");
        rootConv = new StdConv2d(new StdConv2d.Config(3, 64 * wf, 7, ConvSpec.of(2, 3)), resnet.at("root_block"));
        int in = 64 * wf;
        for (int b = 0; b < 4; b++) {
            int mid = 64 * wf << b;
            int out = 4 * mid;
            List<PreActBottleneck> units = new ArrayList<>();
            for (int u = 0; u < config.blockUnits().get(b); u++) {
                int stride = (u == 0 && b > 0) ? 2 : 1;
                Params p = resnet.at("block" + (b + 1)).at(String.format("unit%02d", u + 1));
                units.add(new PreActBottleneck(u == 0 ? in : out, out, mid, stride, p));
            }
            blocks.add(units);
            in = out;
        }
        headNorm = new GroupNorm(GroupNorm.Config.bit(in), resnet.at("group_norm"));
        Params head = resnet.at("head").at("conv2d");
        Init headInit = config.zeroHead() ? Init.zeros() : Init.normal(0.01);
        headKernel = head.get("kernel", Shape.of(1, 1, in, config.headSize()), headInit);
        headBias = head.get("bias", Shape.of(config.headSize()), Init.zeros());
    }

    @Override
    public BitConfig config() {
        return config;
    }

    @Override
    public int numClasses() {
        return config.headSize();
    }

    @Override
    public int featureSize() {
        return config.featureSize();
    }

    @Override
    public String describe() {
        return config.describe();
    }

    /** The head's keys: {@code resnet/head/conv2d/kernel} [1,1,features,classes] and {@code .../bias} [classes]. */
    @Override
    public List<String> headParameterKeys() {
        return List.of(BitConfig.HEAD_KERNEL, HEAD_BIAS);
    }

    /** Key of the head's bias, beside {@link BitConfig#HEAD_KERNEL}. */
    public static final String HEAD_BIAS = "resnet/head/conv2d/bias";

    /** Every parameter by its checkpoint key, in module order. */
    @Override
    public Map<String, Tensor> parameters() {
        return store.parameters();
    }

    /** x [N,H,W,3] → logits [N, classes]. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /** x [N,H,W,3] → pre-logit features [N, 2048·width]: the head's pooled activations. */
    @Override
    public Tensor features(Tensor x) {
        return pooledFeatures(x, null);
    }

    /** features [N, 2048·width] → logits [N, classes]: the 1×1 head conv with bias, as a matmul. */
    @Override
    public Tensor head(Tensor features) {
        int in = headKernel.shape().dim(2);
        return Ops.add(Ops.matmul(features, Ops.reshape(headKernel, in, config.headSize())), headBias);
    }

    /** Logits; when {@code taps} is not null, the tensors named in {@link #TAPS} are put into it (NHWC). */
    public Tensor forward(Tensor x, Map<String, Tensor> taps) {
        return head(pooledFeatures(x, taps));
    }

    private Tensor pooledFeatures(Tensor x, Map<String, Tensor> taps) {
        if (x.shape().rank() != 4 || x.shape().dim(3) != 3) {
            throw new IllegalArgumentException("BiT wants NHWC input [N,H,W,3], got " + x.shape());
        }
        Tensor y = rootConv.forward(x);
        tap(taps, "root_conv", y);
        y = Ops.maxPool2d(Ops.pad2d(y, 1, 1, 1, 1, 0.0), 3, 2);
        tap(taps, "root", y);
        for (int b = 0; b < blocks.size(); b++) {
            for (PreActBottleneck unit : blocks.get(b)) y = unit.forward(y);
            tap(taps, "block" + (b + 1), y);
        }
        y = headNorm.forwardRelu(y);
        tap(taps, "head_gn_relu", y);
        return Ops.globalAvgPool(y);
    }

    private static void tap(Map<String, Tensor> taps, String name, Tensor t) {
        if (taps != null) taps.put(name, t);
    }
}
