package org.bitengine.models;

import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

import org.bitengine.engine.nn.Module;
import org.bitengine.engine.tensor.Tensor;

/**
 * An image classifier as the fine-tuning loop sees it: a backbone that turns an NHWC batch into
 * pre-logit features, and a linear head on top. Splitting the two lets the loop train the head alone
 * on cached features ({@code --freeze-backbone}) or fit it in closed form ({@code --linear-probe}).
 */
public interface Classifier extends Module {

    /** x [N,H,W,3] → logits [N, numClasses()]; equal to {@code head(features(x))}. */
    @Override
    Tensor forward(Tensor x);

    /** x [N,H,W,3] → pre-logit features [N, featureSize()]. */
    Tensor features(Tensor x);

    /** features [N, featureSize()] → logits [N, numClasses()]. */
    Tensor head(Tensor features);

    /** Every parameter by its checkpoint key, in module order. */
    Map<String, Tensor> parameters();

    /** The backend the parameters live on; inputs must be put there. */
    default org.bitengine.engine.backend.Backend backend() {
        return parameters().values().iterator().next().backend();
    }

    /** The keys of the head's parameters (the ones a new head replaces); a subset of {@link #parameters()}. */
    List<String> headParameterKeys();

    int numClasses();

    int featureSize();

    /** The architecture as an immutable record (for BiT a {@link org.bitengine.models.bit.BitConfig}). */
    Record config();

    /** A short human-readable description of the architecture. */
    String describe();

    /**
     * Training behaviour for the next forward passes: batch statistics (unless {@code frozenNorms}:
     * running statistics, no gradient to the norms' affine parameters), dropout and stochastic depth
     * drawn from {@code rng}. BiT has none of these, so this does nothing there.
     */
    default void trainMode(RandomGenerator rng, boolean frozenNorms) {}

    /** Inference behaviour (running statistics, no dropout); a new model starts in it. */
    default void evalMode() {}
}
