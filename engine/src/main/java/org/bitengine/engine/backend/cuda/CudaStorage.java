package org.bitengine.engine.backend.cuda;

import java.lang.ref.Cleaner;

import org.bitengine.engine.backend.Backend;
import org.bitengine.engine.backend.Storage;
import org.bitengine.engine.tensor.DType;

/**
 * Device memory behind one tensor of the CUDA backend: a dense, row-major buffer of {@code size}
 * elements of {@code dtype} at {@code address}.
 *
 * <p>The engine's tensors have no close(): they are dropped, as CPU tensors are. So the block is
 * registered with a {@link Cleaner} that gives it back to the {@link DeviceAllocator} once the
 * storage is unreachable; the backend also frees its own temporaries at once with {@link #free()}.
 * A borrowed storage (a slot of a {@link BatchUploader}) belongs to its owner and is never freed here.
 */
final class CudaStorage implements Storage {

    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaBackend backend;
    private final DType dtype;
    private final int size;
    final long address;
    private final Cleaner.Cleanable cleanable;

    /** Owns {@code block}: it goes back to {@code allocator} when this storage is freed or collected. */
    CudaStorage(CudaBackend backend, DType dtype, int size, DeviceAllocator allocator, DeviceAllocator.Block block) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.address = block.address();
        this.cleanable = CLEANER.register(this, new Release(allocator, block));
    }

    /** Borrows {@code address}: the caller keeps the memory alive and frees it. */
    CudaStorage(CudaBackend backend, DType dtype, int size, long address) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.address = address;
        this.cleanable = null;
    }

    /**
     * Gives the block back now instead of when the collector finds this storage; only for the
     * backend's own temporaries, after the last kernel that reads them has been queued.
     */
    void free() {
        if (cleanable != null) cleanable.clean();
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return size;
    }

    /** Must not reference the storage, or the storage would never become unreachable. */
    private record Release(DeviceAllocator allocator, DeviceAllocator.Block block) implements Runnable {
        @Override
        public void run() {
            allocator.release(block);
        }
    }
}
