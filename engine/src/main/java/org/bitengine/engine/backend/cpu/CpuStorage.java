package org.bitengine.engine.backend.cpu;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.Storage;
import org.bitengine.engine.tensor.DType;

/** Host memory of the CPU backend: one Java array per tensor. */
sealed interface CpuStorage extends Storage {

    @Override
    default Backend backend() {
        return CpuBackend.get();
    }

    record F32(float[] data) implements CpuStorage {
        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public int size() {
            return data.length;
        }
    }

    record F64(double[] data) implements CpuStorage {
        @Override
        public DType dtype() {
            return DType.F64;
        }

        @Override
        public int size() {
            return data.length;
        }
    }

    record I32(int[] data) implements CpuStorage {
        @Override
        public DType dtype() {
            return DType.I32;
        }

        @Override
        public int size() {
            return data.length;
        }
    }
}
