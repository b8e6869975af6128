package org.bitengine.engine.backend;

import org.bitengine.engine.tensor.DType;

/** The memory behind a tensor, owned by one backend (host arrays for the CPU, device memory for CUDA). */
public interface Storage {

    Backend backend();

    DType dtype();

    /** Number of elements. */
    int size();
}
