package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.nn.BatchNorm;
import org.bitengine.engine.nn.Conv2d;
import org.bitengine.engine.nn.Params;
import org.bitengine.engine.nn.SqueezeExcite;
import org.bitengine.engine.tensor.Tensor;

/**
 * EfficientNet's inverted-residual block (torchvision's {@code MBConv}), x [N,H,W,in] → [N,H/s,W/s,out]:
 *
 * <pre>
 * expand     1×1 conv → BN → SiLU            (absent when the expand ratio is 1)
 * depthwise  k×k/s depthwise conv → BN → SiLU (symmetric padding (k−1)/2; Keras: correct_pad when s = 2)
 * se         squeeze-and-excitation, squeeze width max(1, in/4), SiLU then sigmoid
 * project    1×1 conv → BN                    (no activation)
 * residual   + x, through stochastic depth, when s = 1 and in = out
 * </pre>
 *
 * Parameters under the block's scope: {@code expand/conv/kernel}, {@code expand/bn/*},
 * {@code depthwise/conv/kernel} [k,k,1,C], {@code depthwise/bn/*}, {@code se/reduce/{kernel,bias}},
 * {@code se/expand/{kernel,bias}}, {@code project/conv/kernel}, {@code project/bn/*}.
 */
final class MBConv {

    private final EfficientNetConfig.Block block;
    private final Conv2d expandConv;
    private final BatchNorm expandBn;
    private final boolean kerasPad;
    private final Conv2d depthwiseConv;
    private final BatchNorm depthwiseBn;
    private final SqueezeExcite se;
    private final Conv2d projectConv;
    private final BatchNorm projectBn;
    private final List<BatchNorm> norms = new ArrayList<>();

    MBConv(EfficientNetConfig config, EfficientNetConfig.Block block, Params p) {
        this.block = block;
        int e = block.expanded();
        if (block.hasExpand()) {
            expandConv = new Conv2d(new Conv2d.Config(block.in(), e, 1, ConvSpec.of(1, 0), false), p.at("expand").at("conv"));
            expandBn = bn(config, e, p.at("expand").at("bn"));
        } else {
            expandConv = null;
            expandBn = null;
        }
        // Keras pads a strided depthwise conv itself (correct_pad) and runs it unpadded; stride 1 is "same", i.e. symmetric.
        kerasPad = config.padding() == EfficientNetConfig.Padding.KERAS && block.stride() > 1;
        ConvSpec dw = ConvSpec.of(block.stride(), kerasPad ? 0 : (block.kernel() - 1) / 2).withGroups(e);
        depthwiseConv = new Conv2d(new Conv2d.Config(e, e, block.kernel(), dw, false), p.at("depthwise").at("conv"));
        depthwiseBn = bn(config, e, p.at("depthwise").at("bn"));
        se = new SqueezeExcite(new SqueezeExcite.Config(e, block.squeeze()), p.at("se"));
        projectConv = new Conv2d(new Conv2d.Config(e, block.out(), 1, ConvSpec.of(1, 0), false), p.at("project").at("conv"));
        projectBn = bn(config, block.out(), p.at("project").at("bn"));
    }

    private BatchNorm bn(EfficientNetConfig config, int channels, Params p) {
        BatchNorm b = new BatchNorm(new BatchNorm.Config(channels, config.bnEps(), config.bnMomentum()), p);
        norms.add(b);
        return b;
    }

    List<BatchNorm> norms() {
        return norms;
    }

    EfficientNetConfig.Block block() {
        return block;
    }

    /** x [N,H,W,in] → [N,H',W',out]; {@code rng} is read only when {@code training} and the block is residual. */
    Tensor forward(Tensor x, boolean training, RandomGenerator rng) {
        Tensor y = x;
        if (expandConv != null) y = Ops.swish(expandBn.forward(expandConv.forward(y)));
        y = Ops.swish(depthwiseBn.forward(depthwiseConv.forward(kerasPad ? KerasPadding.pad(y, block.kernel()) : y)));
        y = se.forward(y);
        y = projectBn.forward(projectConv.forward(y));
        if (block.residual()) {
            y = Ops.add(Ops.stochasticDepth(y, block.stochasticDepth(), training, rng), x);
        }
        return y;
    }
}
