package org.bitengine.models.efficientnet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

import org.bitengine.engine.autograd.Ops;
import org.bitengine.engine.backend.ConvSpec;
import org.bitengine.engine.nn.BatchNorm;
import org.bitengine.engine.nn.Conv2d;
import org.bitengine.engine.nn.Linear;
import org.bitengine.engine.nn.Module;
import org.bitengine.engine.nn.ParameterStore;
import org.bitengine.engine.nn.Params;
import org.bitengine.engine.tensor.Tensor;
import org.bitengine.models.Classifier;

/**
 * EfficientNet B0–B7 as torchvision computes it ({@code torchvision.models.EfficientNet}), on NHWC input;
 * with {@link EfficientNetConfig.Padding#KERAS} as Keras' {@code keras.applications.EfficientNetB0…B7}
 * computes it (the same network with asymmetric padding before stride-2 convolutions, see
 * {@link KerasPadding}; Keras' built-in input scaling is not part of the network but the file's
 * preprocessing, see {@link org.bitengine.io.image.Preprocessing}):
 *
 * <pre>
 * stem        3×3/2 conv (pad 1, or Keras' correct_pad, no bias) → BN → SiLU, 32·width channels
 * blocks      the {@link MBConv} blocks of {@link EfficientNetConfig#blocks()}, 16 for B0
 * head        1×1 conv → BN → SiLU to 4 × the last stage's width (1280 for B0)
 * pool        global mean over H, W → the features [N, featureSize]
 * classifier  dropout → linear [featureSize → classes]
 * </pre>
 *
 * <h2>Parameter names</h2>
 * All keys sit under {@code efficientnet/}; kernels are HWIO, BatchNorms have {@code weight} (γ),
 * {@code bias} (β) and the buffers {@code running_mean}, {@code running_var}:
 *
 * <pre>
 * efficientnet/stem/conv/kernel                       [3,3,3,32]
 * efficientnet/stem/bn/{weight,bias,running_mean,running_var}
 * efficientnet/blocks/NN/expand/conv/kernel           [1,1,in,in·e]     (only when e ≠ 1)
 * efficientnet/blocks/NN/expand/bn/*
 * efficientnet/blocks/NN/depthwise/conv/kernel        [k,k,1,in·e]
 * efficientnet/blocks/NN/depthwise/bn/*
 * efficientnet/blocks/NN/se/reduce/{kernel,bias}      [1,1,in·e,sq], [sq]
 * efficientnet/blocks/NN/se/expand/{kernel,bias}      [1,1,sq,in·e], [in·e]
 * efficientnet/blocks/NN/project/conv/kernel          [1,1,in·e,out]
 * efficientnet/blocks/NN/project/bn/*
 * efficientnet/head/conv/kernel                       [1,1,320·width,features]
 * efficientnet/head/bn/*
 * efficientnet/classifier/{kernel,bias}               [features,classes], [classes]
 * </pre>
 *
 * {@code NN} is the block's global index over all stages, two digits ({@code 00} … {@code 15} for B0,
 * {@code 54} for B7). {@link TorchvisionNames} maps torchvision's state-dict keys onto these.
 *
 * <h2>Modes</h2>
 * A new model is in <em>evaluation</em> mode: BatchNorms use their running statistics, dropout and
 * stochastic depth are off. {@link #train(RandomGenerator)} switches to training (batch statistics,
 * dropout and stochastic depth drawn from the generator); {@link #batchNormMode(BatchNorm.Mode)} then
 * sets the BatchNorms alone, e.g. {@link BatchNorm.Mode#FROZEN} to fine-tune with frozen statistics
 * and affine parameters.
 */
public final class EfficientNet implements Module, Classifier {

    private final EfficientNetConfig config;
    private final ParameterStore store;
    /** Keras convention: the stem (and each stride-2 depthwise conv) is zero-padded by {@link KerasPadding}, then run unpadded. */
    private final boolean keras;
    private final Conv2d stemConv;
    private final BatchNorm stemBn;
    private final List<MBConv> blocks = new ArrayList<>();
    private final Conv2d headConv;
    private final BatchNorm headBn;
    private final Linear classifier;
    private final List<BatchNorm> norms = new ArrayList<>();
    private boolean training;
    private RandomGenerator rng;

    public static final String CLASSIFIER_KERNEL = "efficientnet/classifier/kernel";
    public static final String CLASSIFIER_BIAS = "efficientnet/classifier/bias";

    public EfficientNet(EfficientNetConfig config, ParameterStore store) {
        this.config = config;
        this.store = store;
        Params root = store.root().at("efficientnet");
        int stem = config.stemChannels();
        keras = config.padding() == EfficientNetConfig.Padding.KERAS;
        stemConv = new Conv2d(new Conv2d.Config(3, stem, 3, ConvSpec.of(2, keras ? 0 : 1), false), root.at("stem").at("conv"));
        stemBn = bn(stem, root.at("stem").at("bn"));
        for (EfficientNetConfig.Block b : config.blocks()) {
            MBConv m = new MBConv(config, b, root.at("blocks").at(String.format("%02d", b.index())));
            blocks.add(m);
            norms.addAll(m.norms());
        }
        int last = config.blocks().getLast().out(), head = config.headChannels();
        headConv = new Conv2d(new Conv2d.Config(last, head, 1, ConvSpec.of(1, 0), false), root.at("head").at("conv"));
        headBn = bn(head, root.at("head").at("bn"));
        classifier = new Linear(new Linear.Config(head, config.numClasses(), true), root.at("classifier"));
        eval();
    }

    private BatchNorm bn(int channels, Params p) {
        BatchNorm b = new BatchNorm(new BatchNorm.Config(channels, config.bnEps(), config.bnMomentum()), p);
        norms.add(b);
        return b;
    }

    /** Inference: running statistics, no dropout, no stochastic depth. */
    public EfficientNet eval() {
        training = false;
        rng = null;
        return batchNormMode(BatchNorm.Mode.EVAL);
    }

    /** Training: batch statistics (running ones updated), dropout and stochastic depth drawn from {@code rng}. */
    public EfficientNet train(RandomGenerator rng) {
        if (rng == null) throw new IllegalArgumentException("EfficientNet.train: a random generator is required");
        training = true;
        this.rng = rng;
        return batchNormMode(BatchNorm.Mode.TRAIN);
    }

    /** Sets every BatchNorm's mode, leaving dropout and stochastic depth as they are. */
    public EfficientNet batchNormMode(BatchNorm.Mode mode) {
        for (BatchNorm b : norms) b.mode(mode);
        return this;
    }

    @Override
    public void trainMode(RandomGenerator rng, boolean frozenNorms) {
        train(rng);
        if (frozenNorms) batchNormMode(BatchNorm.Mode.FROZEN);
    }

    @Override
    public void evalMode() {
        eval();
    }

    public boolean training() {
        return training;
    }

    /** Every BatchNorm in module order (stem, blocks, head). */
    public List<BatchNorm> batchNorms() {
        return Collections.unmodifiableList(norms);
    }

    @Override
    public EfficientNetConfig config() {
        return config;
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public int featureSize() {
        return config.featureSize();
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public Map<String, Tensor> parameters() {
        return store.parameters();
    }

    @Override
    public List<String> headParameterKeys() {
        return List.of(CLASSIFIER_KERNEL, CLASSIFIER_BIAS);
    }

    /** x [N,H,W,3] → logits [N, classes]. */
    @Override
    public Tensor forward(Tensor x) {
        return head(features(x));
    }

    /** x [N,H,W,3] → pooled features [N, featureSize] (before dropout). */
    @Override
    public Tensor features(Tensor x) {
        if (x.shape().rank() != 4 || x.shape().dim(3) != 3) {
            throw new IllegalArgumentException("EfficientNet wants NHWC input [N,H,W,3], got " + x.shape());
        }
        Tensor y = Ops.swish(stemBn.forward(stemConv.forward(keras ? KerasPadding.pad(x, 3) : x)));
        for (MBConv b : blocks) y = b.forward(y, training, rng);
        y = Ops.swish(headBn.forward(headConv.forward(y)));
        return Ops.globalAvgPool(y);
    }

    /** features [N, featureSize] → logits [N, classes]: dropout (training only), then the linear classifier. */
    @Override
    public Tensor head(Tensor features) {
        return classifier.forward(Ops.dropout(features, config.dropout(), training, rng));
    }
}
