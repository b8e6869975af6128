package org.bitengine.io.image;

import java.util.SplittableRandom;
import org.bitengine.io.data.Image;

/**
 * Turns one decoded image into the network's input: [outputHeight, outputWidth, 3] floats, scaled to
 * [-1, 1] unless the image is already {@link Image#normalized() normalized}. Implementations are
 * stateless, so one instance may run on several threads at once; all randomness comes from
 * {@code rng}, which makes the result a pure function of the image and the generator's seed.
 */
public interface Transform {

    /** The transformed pixels, [outputHeight(), outputWidth(), 3] row-major. */
    float[] apply(Image image, SplittableRandom rng);

    /** Height of every output. */
    int outputHeight();

    /** Width of every output. */
    int outputWidth();
}
