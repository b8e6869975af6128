package org.bitengine.engine.backend.cpu;

/** Every {@link SgemmTest} case again on the plain-Java kernel (the path taken without the Vector API module). */
class SgemmPlainTest extends SgemmTest {

    @Override
    boolean simd() {
        return false;
    }
}
