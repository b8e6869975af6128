package org.bitengine.engine.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.engine.backend.cuda.bindings.CudaDriver;

/**
 * A caching allocator of device memory: a block given back is kept in a free list of its size
 * class and handed out again, so a training step, which allocates the same sizes every time,
 * reaches {@code cuMemAlloc} (a device-wide synchronisation) only during its first step.
 *
 * <p>Size classes: requests round up to 512 bytes, and above 1 MiB to a quarter of their power of
 * two (at most 25% slack), so blocks of nearly equal sizes are shared without a best-fit search.
 *
 * <p>Reuse is safe without events because the CUDA backend queues all work on one stream: a block
 * given back while kernels that use it are still queued is handed out only to work queued later
 * on the same stream. Blocks come back from the backend's temporaries at once and from tensors when
 * the garbage collector finds them unreachable ({@link CudaStorage}); {@link #release} therefore
 * runs on any thread and never calls the driver.
 *
 * <p>Out of memory: the cached blocks are freed and the allocation retried; then the garbage
 * collector is asked to find unreachable tensors, and the allocation is retried while their blocks
 * come back; then a {@link BitEngineException} says how many bytes were asked for.
 */
final class DeviceAllocator {

    /** A device address and the bytes reserved there (its size class). */
    record Block(long address, long bytes) {}

    private static final long SMALL_LIMIT = 1L << 20;
    private static final long SMALL_GRANULE = 512;
    /** How long to wait, in total, for the garbage collector to give blocks back before declaring OOM. */
    private static final int GC_WAIT_ROUNDS = 20, GC_WAIT_MILLIS = 25;

    private final CudaDriver driver;
    private final String device;
    /** The stream all work using these blocks is queued on; drained before cached blocks are freed. */
    private final long stream;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long cachedBytes;
    private long liveBytes;

    DeviceAllocator(CudaDriver driver, String device, long stream) {
        this.driver = driver;
        this.device = device;
        this.stream = stream;
    }

    static long sizeClass(long bytes) {
        if (bytes <= SMALL_LIMIT) return Math.max(SMALL_GRANULE, (bytes + SMALL_GRANULE - 1) / SMALL_GRANULE * SMALL_GRANULE);
        long quarter = Long.highestOneBit(bytes) / 4;
        return (bytes + quarter - 1) / quarter * quarter;
    }

    /**
     * A block of at least {@code bytes} bytes; the calling thread must have the backend's context
     * current. A zero-byte request gets address 0 (nothing to free).
     */
    Block allocate(long bytes) {
        if (bytes == 0) return new Block(0, 0);
        long size = sizeClass(bytes);
        Block b = fromCacheOrDriver(size);
        if (b != null) return b;
        trim();
        b = fromCacheOrDriver(size);
        for (int round = 0; b == null && round < GC_WAIT_ROUNDS; round++) {
            // Tensors nobody references any more still hold their blocks until the collector
            // finds them; their cleaners give the blocks back on the cleaner thread, so wait
            // outside the lock.
            System.gc();
            try {
                Thread.sleep(GC_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            b = fromCacheOrDriver(size);
            if (b == null) {
                trim();
                b = fromCacheOrDriver(size);
            }
        }
        if (b != null) return b;
        long[] info = driver.memoryInfo();
        throw new BitEngineException("CUDA out of memory on " + device + ": asked for " + bytes + " bytes ("
                + mib(bytes) + " MiB) with " + mib(liveBytes()) + " MiB held by live tensors and " + mib(info[0]) + " of "
                + mib(info[1]) + " MiB free on the device; use a smaller batch or --batch-split");
    }

    private synchronized Block fromCacheOrDriver(long size) {
        ArrayDeque<Long> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            cachedBytes -= size;
            liveBytes += size;
            return new Block(list.pop(), size);
        }
        long address = driver.tryAllocate(size);
        if (address == 0) return null;
        liveBytes += size;
        return new Block(address, size);
    }

    /** Gives a block back for reuse by later work on the same stream; any thread, no driver call. */
    synchronized void release(Block b) {
        if (b.bytes() == 0) return;
        free.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(b.address());
        cachedBytes += b.bytes();
        liveBytes -= b.bytes();
    }

    /**
     * Frees every cached block to the driver: before an allocation retry, and before cuDNN's
     * algorithm search, which allocates its own scratch memory. The context must be current.
     */
    synchronized void trim() {
        if (free.isEmpty()) return;
        // A cached block may still be read by queued kernels (blocks come back as soon as their
        // last use is queued); the stream must have finished before the memory leaves the process.
        driver.synchronize(stream);
        for (Map.Entry<Long, ArrayDeque<Long>> e : free.entrySet()) {
            for (long address : e.getValue()) driver.free(address);
        }
        free.clear();
        cachedBytes = 0;
    }

    synchronized long cachedBytes() {
        return cachedBytes;
    }

    synchronized long liveBytes() {
        return liveBytes;
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }
}
