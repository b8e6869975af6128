package org.bitengine.io.data;

import static org.bitengine.io.IoErrors.error;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.bitengine.engine.BitEngineException;
import org.bitengine.io.image.Transform;

/**
 * Serves numbered batches of a dataset, decoded and transformed on background threads.
 *
 * <p>Batch {@code number} (0, 1, 2, … forever, as the official BiT code's {@code recycle(loader)})
 * belongs to epoch {@code e = number / batchesPerEpoch()}; the epoch visits the examples in a
 * permutation derived from (seed, e) when shuffling, in index order otherwise, and its batches are
 * consecutive slices of that order. With {@code dropLast} an epoch's last incomplete slice is
 * skipped (training); without it the slice is served short (evaluation). Each example's
 * augmentation draws from a {@link SplittableRandom} seeded from (seed, e, index). So the content of
 * a batch is a pure function of (dataset, transform, seed, number): the thread count, the prefetch
 * depth and the order in which batches are asked for change nothing, and a resumed run asks for
 * batch {@code k} directly.
 *
 * <p>{@code threads} daemon threads decode and transform examples; when batches are asked for in
 * sequence, the next {@code prefetch} batches are prepared while the caller works on the current one,
 * so at most {@code prefetch + 1} batches are in memory. Asking for any other number drops the
 * prepared ones and starts there.
 *
 * <p>An example whose image cannot be decoded (a {@link BitEngineException} from the dataset) is left
 * out of its batch, which is then one shorter: one warning line per such file (the first time) and a
 * count ({@link #skippedExamples()}). A batch can thus be short, even empty ({@code n == 0}), and
 * consumers must use {@link Batch#n()}. Any other exception is a bug and is rethrown to the caller.
 */
public final class BatchLoader implements AutoCloseable {

    private static final AtomicInteger LOADERS = new AtomicInteger();

    private final ImageDataset data;
    private final Transform transform;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;
    private final int prefetch;
    private final Consumer<String> warnings;
    private final int size;
    private final long batchesPerEpoch;
    private final int height;
    private final int width;
    private final int exampleLength;
    private final ThreadPoolExecutor pool;
    private final ArrayDeque<Pending> window = new ArrayDeque<>();
    private final Set<Integer> warned = ConcurrentHashMap.newKeySet();
    private final AtomicLong skipped = new AtomicLong();
    private final Map<Long, int[]> orders = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, int[]> eldest) {
            return size() > 3; // the current epoch, the next one (prefetch across the boundary), a spare
        }
    };
    private volatile boolean closed;

    /**
     * @param data      the examples
     * @param transform turns each image into the network's input
     * @param batchSize examples per batch (≥ 1)
     * @param shuffle   a new seeded permutation every epoch (training) or index order (evaluation)
     * @param dropLast  skip each epoch's last incomplete batch (training)
     * @param seed      the seed of the orders and the augmentations
     * @param threads   decoding threads (≥ 1)
     * @param prefetch  batches prepared ahead of the caller (≥ 0)
     * @param warnings  where one line per skipped file goes
     * @throws BitEngineException if the dataset is empty, or smaller than one batch with dropLast
     */
    public BatchLoader(ImageDataset data, Transform transform, int batchSize, boolean shuffle, boolean dropLast,
                       long seed, int threads, int prefetch, Consumer<String> warnings) {
        this.data = Objects.requireNonNull(data, "data");
        this.transform = Objects.requireNonNull(transform, "transform");
        this.warnings = Objects.requireNonNull(warnings, "warnings");
        if (batchSize < 1) {
            throw error("batch size must be at least 1, got " + batchSize);
        }
        if (threads < 1) {
            throw error("data loading threads must be at least 1, got " + threads);
        }
        if (prefetch < 0) {
            throw error("prefetch must be 0 or more batches, got " + prefetch);
        }
        this.size = data.size();
        if (size == 0) {
            throw error(data + " has no examples; point the data option at a non-empty dataset");
        }
        if (dropLast && size < batchSize) {
            throw error(data + " has " + size + " examples, fewer than one batch of " + batchSize
                    + "; lower the batch size to at most " + size);
        }
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.prefetch = prefetch;
        this.batchesPerEpoch = dropLast ? size / batchSize : (size + batchSize - 1) / batchSize;
        this.height = transform.outputHeight();
        this.width = transform.outputWidth();
        long len = (long) height * width * 3;
        if (len * batchSize > Integer.MAX_VALUE - 8) {
            throw error("a batch of " + batchSize + " images of " + height + "x" + width + " does not fit in one array;"
                    + " lower the batch size (or use micro-batches)");
        }
        this.exampleLength = (int) len;
        int id = LOADERS.incrementAndGet();
        AtomicInteger threadNo = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "bit-engine-data-" + id + "-" + threadNo.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Batches in one epoch. */
    public long batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** Examples per (full) batch. */
    public int batchSize() {
        return batchSize;
    }

    /** The dataset served. */
    public ImageDataset dataset() {
        return data;
    }

    /** Examples left out of served batches because their image could not be decoded. */
    public long skippedExamples() {
        return skipped.get();
    }

    /** The epoch that batch {@code number} belongs to. */
    public long epochOf(long number) {
        return number / batchesPerEpoch;
    }

    /** The order in which epoch {@code epoch} visits the dataset's indices (a copy). */
    public int[] epochOrder(long epoch) {
        return order(epoch).clone();
    }

    /**
     * Batch {@code number}, waiting for it if needed; prefetches the following ones.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public Batch batch(long number) {
        return batch(number, Long.MAX_VALUE);
    }

    /**
     * Serves every batch of one epoch (epoch 0) to {@code consumer}, in order, without prefetching past
     * the epoch's end; empty batches (every image failed to decode) are not passed on.
     */
    public void forEachBatchOfOneEpoch(Consumer<Batch> consumer) {
        for (long b = 0; b < batchesPerEpoch; b++) {
            Batch batch = batch(b, batchesPerEpoch);
            if (batch.n() > 0) {
                consumer.accept(batch);
            }
        }
    }

    /** Stops the threads; batches being prepared are dropped. Idempotent. */
    @Override
    public void close() {
        closed = true;
        pool.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------

    /** Batch {@code number}, prefetching up to {@code prefetch} following numbers below {@code limit}. */
    private synchronized Batch batch(long number, long limit) {
        if (closed) {
            throw new IllegalStateException("the batch loader is closed");
        }
        if (number < 0) {
            throw new IllegalArgumentException("batch number " + number + " is negative");
        }
        while (!window.isEmpty() && window.peekFirst().number < number) {
            window.pollFirst().cancelled = true;
        }
        Pending current;
        if (!window.isEmpty() && window.peekFirst().number == number) {
            current = window.pollFirst();
        } else {
            for (Pending p : window) {
                p.cancelled = true;
            }
            window.clear();
            current = schedule(number);
        }
        long next = window.isEmpty() ? number + 1 : window.peekLast().number + 1;
        long last = Math.min(number + prefetch, limit - 1);
        for (; next <= last; next++) {
            window.addLast(schedule(next));
        }
        return current.await();
    }

    private synchronized int[] order(long epoch) {
        int[] o = orders.get(epoch);
        if (o == null) {
            o = new int[size];
            Arrays.setAll(o, i -> i);
            if (shuffle) {
                Subsets.shuffle(o, new SplittableRandom(Seeds.mix(seed, epoch, -1)));
            }
            orders.put(epoch, o);
        }
        return o;
    }

    private Pending schedule(long number) {
        long epoch = number / batchesPerEpoch;
        int start = (int) (number % batchesPerEpoch) * batchSize;
        int end = Math.min(start + batchSize, size);
        int[] indices = Arrays.copyOfRange(order(epoch), start, end);
        Pending p = new Pending(number, epoch, indices);
        for (int slot = 0; slot < indices.length; slot++) {
            int s = slot;
            pool.execute(() -> p.run(s));
        }
        return p;
    }

    /** One batch being prepared: each example is its own task writing into its own slot. */
    private final class Pending {
        final long number;
        final long epoch;
        final int[] indices;
        final float[] x;
        final String[] failures;
        final CountDownLatch done;
        volatile boolean cancelled;
        volatile Throwable bug;

        Pending(long number, long epoch, int[] indices) {
            this.number = number;
            this.epoch = epoch;
            this.indices = indices;
            this.x = new float[indices.length * exampleLength];
            this.failures = new String[indices.length];
            this.done = new CountDownLatch(indices.length);
        }

        void run(int slot) {
            try {
                if (cancelled || closed) {
                    return;
                }
                int index = indices[slot];
                try {
                    Image image = data.image(index);
                    float[] out = transform.apply(image, new SplittableRandom(Seeds.mix(seed, epoch, index)));
                    if (out.length != exampleLength) {
                        throw new IllegalStateException(transform + " returned " + out.length + " values, not "
                                + height + "x" + width + "x3");
                    }
                    System.arraycopy(out, 0, x, slot * exampleLength, exampleLength);
                } catch (BitEngineException e) {
                    failures[slot] = e.getMessage();
                }
            } catch (Throwable t) {
                bug = t;
            } finally {
                done.countDown();
            }
        }

        Batch await() {
            try {
                while (!done.await(100, TimeUnit.MILLISECONDS)) {
                    if (closed) {
                        throw new IllegalStateException("the batch loader was closed while batch " + number + " loaded");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for batch " + number, e);
            }
            if (bug != null) {
                throw new IllegalStateException("loading batch " + number + " failed: " + bug, bug);
            }
            int failed = 0;
            for (int slot = 0; slot < indices.length; slot++) {
                if (failures[slot] != null) {
                    failed++;
                    int index = indices[slot];
                    if (warned.add(index)) {
                        String where = data.describe(index);
                        String m = failures[slot];
                        warnings.accept("left out of its batch: " + (m.contains(where) ? m : where + ": " + m));
                    }
                }
            }
            int n = indices.length - failed;
            int[] idx = new int[n];
            int[] labels = new int[n];
            float[] out = failed == 0 ? x : new float[n * exampleLength];
            int k = 0;
            for (int slot = 0; slot < indices.length; slot++) {
                if (failures[slot] != null) {
                    continue;
                }
                idx[k] = indices[slot];
                labels[k] = data.label(indices[slot]);
                if (failed > 0) {
                    System.arraycopy(x, slot * exampleLength, out, k * exampleLength, exampleLength);
                }
                k++;
            }
            skipped.addAndGet(failed);
            return new Batch(out, labels, idx, n, height, width);
        }
    }
}
