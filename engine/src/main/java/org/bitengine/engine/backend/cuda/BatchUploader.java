package org.bitengine.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;

import org.bitengine.engine.backend.cuda.bindings.CudaDriver;
import org.bitengine.engine.tensor.DType;
import org.bitengine.engine.tensor.Shape;
import org.bitengine.engine.tensor.Tensor;

/**
 * Copies input batches (images [N,H,W,C] float32 and labels [N] int32) to the GPU on a stream of
 * their own, from pinned host memory, so that the copy of batch k+1 runs while step k computes.
 *
 * <p>Two slots, each a pinned host buffer and a device buffer. The training loop calls
 * {@link #submit} for the first batch, then per step {@link #take()} (the batch to compute on),
 * {@link #submit} of the next batch (queued at once, overlapping the step), and the step:
 * <pre>{@code
 * uploader.submit(images0, labels0);
 * for (...) {
 *     Batch b = uploader.take();
 *     if (hasNext) uploader.submit(nextImages, nextLabels);
 *     step(b.images(), b.labels());
 * }
 * }</pre>
 * Ordering is kept with events, not by waiting on the host: the compute stream waits for a batch's
 * copy before its first use, and a slot's next copy waits for the compute stream to have reached the
 * point where the batch that used the slot was replaced ({@link #take()} records that point). The
 * host waits only before overwriting a pinned buffer whose previous copy has not finished.
 *
 * <p>A batch's tensors borrow the slot: they are valid until the second {@link #submit} after the
 * {@link #take()} that returned them. A model that keeps an input beyond its step must copy it.
 * Not thread-safe; the thread that drives the backend calls it.
 */
public final class BatchUploader implements AutoCloseable {

    /** One batch on the device. */
    public record Batch(Tensor images, Tensor labels) {}

    private final CudaBackend backend;
    private final CudaDriver driver;
    private final DeviceAllocator allocator;
    private final Shape imageShape;
    private final int labelCount;
    private final long copyStream;
    private final Slot[] slots = new Slot[2];
    private int nextSubmit;
    private int nextTake;
    private int queued;
    /** The slot of the batch {@link #take()} returned last, or null before the first take. */
    private Slot lastTaken;

    private final class Slot {
        final MemorySegment hostImages, hostLabels;
        final DeviceAllocator.Block deviceImages, deviceLabels;
        /** Recorded on the copy stream after this slot's copy. */
        final long copied = driver.createEvent(CudaDriver.EVENT_DISABLE_TIMING);
        /** Recorded on the compute stream once the batch in this slot has been replaced by the next one. */
        final long released = driver.createEvent(CudaDriver.EVENT_DISABLE_TIMING);
        boolean copyPending;
        boolean everReleased;

        Slot() {
            long imageBytes = (long) imageShape.size() * Float.BYTES;
            long labelBytes = (long) labelCount * Integer.BYTES;
            hostImages = driver.allocatePinned(Math.max(imageBytes, 1)).asSlice(0, imageBytes);
            hostLabels = driver.allocatePinned(Math.max(labelBytes, 1)).asSlice(0, labelBytes);
            deviceImages = allocator.allocate(imageBytes);
            deviceLabels = allocator.allocate(labelBytes);
        }
    }

    /** Slot memory comes from the backend's allocator and goes back to it only at {@link #close()}. */
    BatchUploader(CudaBackend backend, CudaDriver driver, DeviceAllocator allocator, Shape imageShape, int labelCount) {
        this.backend = backend;
        this.driver = driver;
        this.allocator = allocator;
        this.imageShape = imageShape;
        this.labelCount = labelCount;
        this.copyStream = driver.createStream(CudaDriver.STREAM_NON_BLOCKING);
        slots[0] = new Slot();
        slots[1] = new Slot();
    }

    /**
     * Queues the copy of one batch: images [N,H,W,C] as given at construction, labels [N]. Returns
     * once the data is in pinned memory and the copy is queued.
     *
     * @throws IllegalStateException when two batches are already waiting to be taken
     */
    public void submit(float[] images, int[] labels) {
        if (images.length != imageShape.size() || labels.length != labelCount) {
            throw new IllegalArgumentException("batch of " + images.length + " image values and " + labels.length
                    + " labels, expected " + imageShape.size() + " (" + imageShape + ") and " + labelCount);
        }
        if (queued == slots.length) throw new IllegalStateException("two batches submitted and not taken; take() one first");
        Slot s = slots[nextSubmit];
        if (s.copyPending) driver.synchronizeEvent(s.copied); // the pinned buffer is still being read
        MemorySegment.copy(images, 0, s.hostImages, JAVA_FLOAT, 0, images.length);
        MemorySegment.copy(labels, 0, s.hostLabels, JAVA_INT, 0, labels.length);
        // The device buffer may still be read by the step that used this slot last.
        if (s.everReleased) driver.streamWaitEvent(copyStream, s.released);
        if (s.hostImages.byteSize() > 0) {
            driver.copyHostToDeviceAsync(s.deviceImages.address(), s.hostImages, s.hostImages.byteSize(), copyStream);
        }
        if (s.hostLabels.byteSize() > 0) {
            driver.copyHostToDeviceAsync(s.deviceLabels.address(), s.hostLabels, s.hostLabels.byteSize(), copyStream);
        }
        driver.recordEvent(s.copied, copyStream);
        s.copyPending = true;
        nextSubmit = 1 - nextSubmit;
        queued++;
    }

    /**
     * The oldest submitted batch. Work queued on the backend from now on waits for its copy; the
     * batch taken before this one is from now on replaced (its slot may be refilled).
     */
    public Batch take() {
        if (queued == 0) throw new IllegalStateException("no batch submitted");
        if (lastTaken != null) {
            // Everything queued so far on the compute stream may have read the previous batch.
            driver.recordEvent(lastTaken.released, backend.stream());
            lastTaken.everReleased = true;
        }
        Slot s = slots[nextTake];
        lastTaken = s;
        driver.streamWaitEvent(backend.stream(), s.copied);
        nextTake = 1 - nextTake;
        queued--;
        return new Batch(backend.borrow(DType.F32, imageShape, s.deviceImages.address()),
                backend.borrow(DType.I32, Shape.of(labelCount), s.deviceLabels.address()));
    }

    /** Waits for the copies and frees the pinned and device memory; the batches' tensors become invalid. */
    @Override
    public void close() {
        driver.synchronize(copyStream);
        driver.synchronize(backend.stream());
        for (Slot s : slots) {
            driver.freePinned(s.hostImages);
            driver.freePinned(s.hostLabels);
            allocator.release(s.deviceImages);
            allocator.release(s.deviceLabels);
            driver.destroyEvent(s.copied);
            driver.destroyEvent(s.released);
        }
    }
}
