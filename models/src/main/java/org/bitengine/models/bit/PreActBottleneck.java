package org.bitengine.models.bit;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.nn.GroupNorm;
import org.bitengine.engine.nn.Module;
import org.bitengine.engine.nn.Params;
import org.bitengine.engine.nn.StdConv2d;
import org.bitengine.engine.tensor.Tensor;

/**
 * BiT's pre-activation bottleneck unit: {@code a} = GN → ReLU → 1×1, {@code b} = GN → ReLU → 3×3
 * (carrying the stride), {@code c} = GN → ReLU → 1×1, plus the input (or its projection
 * {@code a/proj}, a strided 1×1 applied to the pre-activation relu(gn_a(x))).
 */
final class PreActBottleneck implements Module {

    private final GroupNorm gnA;
    private final GroupNorm gnB;
    private final GroupNorm gnC;
    private final StdConv2d convA;
    private final StdConv2d convB;
    private final StdConv2d convC;
    private final StdConv2d projection;

    PreActBottleneck(int in, int out, int mid, int stride, Params p) {
        Params a = p.at("a");
        Params b = p.at("b");
        Params c = p.at("c");
        gnA = new GroupNorm(GroupNorm.Config.bit(in), a.at("group_norm"));
        convA = new StdConv2d(new StdConv2d.Config(in, mid, 1, ConvSpec.of(1, 0)), a);
        gnB = new GroupNorm(GroupNorm.Config.bit(mid), b.at("group_norm"));
        convB = new StdConv2d(new StdConv2d.Config(mid, mid, 3, ConvSpec.of(stride, 1)), b);
        gnC = new GroupNorm(GroupNorm.Config.bit(mid), c.at("group_norm"));
        convC = new StdConv2d(new StdConv2d.Config(mid, out, 1, ConvSpec.of(1, 0)), c);
        projection = (stride != 1 || in != out)
                ? new StdConv2d(new StdConv2d.Config(in, out, 1, ConvSpec.of(stride, 0)), a.at("proj"))
                : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor pre = gnA.forwardRelu(x);
        Tensor shortcut = projection == null ? x : projection.forward(pre);
        Tensor y = convA.forward(pre);
        y = convB.forward(gnB.forwardRelu(y));
        y = convC.forward(gnC.forwardRelu(y));
        return Ops.add(y, shortcut);
    }
}
