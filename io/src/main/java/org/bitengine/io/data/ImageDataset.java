package org.bitengine.io.data;

import java.util.List;

/**
 * A labelled image collection with random access; images are decoded on demand (an image folder is
 * never held in memory whole). Implementations are safe to call from several threads at once.
 */
public interface ImageDataset {

    /** Number of examples. */
    int size();

    /** Class names; a label is an index into this list. */
    List<String> classes();

    /** The label of example {@code index}, in [0, classes().size()). */
    int label(int index);

    /** Decodes example {@code index}. */
    Image image(int index);

    /** Where example {@code index} comes from, for messages (a file path, or {@code x.npz[17]}). */
    String describe(int index);

    /** Typical height and width of the examples (what the BiT-HyperRule picks its resolution from). */
    int[] nominalSize();
}
