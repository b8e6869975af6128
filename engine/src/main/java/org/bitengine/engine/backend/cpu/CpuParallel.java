package org.bitengine.engine.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU backend's one thread pool.
 *
 * <p>One pool for the whole backend so that ops never oversubscribe the cores by each starting their own
 * threads. Work is expressed as a range split into contiguous chunks; the split depends only on
 * {@code (begin, end, grain, threads())}, never on timing, so a task whose result depends on its chunk
 * boundaries (a per-chunk partial sum, say) is still reproducible run to run.
 *
 * <p>The thread count defaults to the system property {@code bitengine.threads} when set, else to
 * {@link Runtime#availableProcessors()}.
 */
public final class CpuParallel {

    /** One contiguous chunk {@code [from, to)} of a range. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static final Object LOCK = new Object();
    private static int threads; // 0 until first resolved; guarded by LOCK
    private static volatile ExecutorService pool;
    private static volatile int cachedThreads;

    /**
     * True on a pool worker and on a caller while it runs its own chunks: a nested forRange from such a
     * thread runs inline, because blocking a worker on work queued behind itself could deadlock.
     */
    private static final ThreadLocal<boolean[]> INSIDE = ThreadLocal.withInitial(() -> new boolean[1]);

    private static final AtomicInteger WORKER_ID = new AtomicInteger();

    private CpuParallel() {
    }

    /** The number of threads forRange uses, the caller included. */
    public static int threads() {
        int t = cachedThreads;
        if (t > 0) return t;
        synchronized (LOCK) {
            if (threads == 0) threads = defaultThreads();
            cachedThreads = threads;
            return threads;
        }
    }

    /**
     * Sets the number of threads (the caller included); 1 makes every forRange run inline. Work already
     * handed to the previous pool still completes.
     */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("CpuParallel.setThreads: thread count must be >= 1, got " + n);
        ExecutorService old;
        synchronized (LOCK) {
            if (threads == n) return;
            threads = n;
            cachedThreads = n;
            old = pool;
            pool = null;
        }
        // shutdown() lets queued helpers run, so a forRange racing with this call still finishes.
        if (old != null) old.shutdown();
    }

    private static int defaultThreads() {
        String prop = System.getProperty("bitengine.threads");
        if (prop != null && !prop.isBlank()) {
            try {
                int n = Integer.parseInt(prop.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the one-line error below
            }
            throw new IllegalArgumentException("system property bitengine.threads must be a positive integer, got '" + prop
                    + "'; set e.g. -Dbitengine.threads=4 or leave it unset to use all cores");
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p != null) return p;
        synchronized (LOCK) {
            if (pool == null) {
                int workers = Math.max(1, threads() - 1);
                pool = Executors.newFixedThreadPool(workers, r -> {
                    Thread t = new Thread(r, "bitengine-cpu-" + WORKER_ID.incrementAndGet());
                    t.setDaemon(true); // never keep the JVM alive just for an idle pool
                    return t;
                });
            }
            return pool;
        }
    }

    /** How many chunks forRange splits {@code [begin, end)} into for the current thread count. */
    static int chunkCount(int begin, int end, int grain) {
        long total = (long) end - begin;
        if (total <= 0) return 0;
        long g = Math.max(1, grain);
        return (int) Math.max(1, Math.min(threads(), total / g));
    }

    /** Start of chunk {@code i} of {@code chunks}; balanced so sizes differ by at most one. */
    private static int chunkStart(int begin, int end, int chunks, int i) {
        return (int) (begin + ((long) end - begin) * i / chunks);
    }

    /**
     * Runs {@code task} over {@code [begin, end)} split into at most {@link #threads()} contiguous chunks of
     * at least {@code grain} items each (a range shorter than {@code grain} is one chunk). The calling
     * thread runs one chunk itself and returns when all are done. The first exception thrown by a chunk is
     * rethrown here (later ones attached as suppressed); chunks not yet started when a chunk fails are
     * skipped. Called from inside a running chunk it runs its chunks inline, in order, with the same split.
     *
     * @param begin first index, inclusive
     * @param end   last index, exclusive; an empty range does nothing
     * @param grain smallest chunk worth a thread (values below 1 mean 1)
     */
    public static void forRange(int begin, int end, int grain, RangeTask task) {
        if (task == null) throw new NullPointerException("CpuParallel.forRange: task is null");
        int chunks = chunkCount(begin, end, grain);
        if (chunks == 0) return;
        boolean[] inside = INSIDE.get();
        if (chunks == 1 || inside[0]) {
            boolean was = inside[0];
            inside[0] = true;
            try {
                for (int i = 0; i < chunks; i++) task.run(chunkStart(begin, end, chunks, i), chunkStart(begin, end, chunks, i + 1));
            } finally {
                inside[0] = was;
            }
            return;
        }
        Job job = new Job(begin, end, chunks, task);
        ExecutorService p = pool();
        for (int i = 1; i < chunks; i++) {
            try {
                p.execute(job::help);
            } catch (RejectedExecutionException e) {
                break; // pool replaced by setThreads meanwhile: the caller claims the remaining chunks itself
            }
        }
        inside[0] = true;
        try {
            job.runChunk(0);
            // Claiming leftovers ourselves means a caller never idles while the workers are busy elsewhere.
            job.claimAll();
        } finally {
            inside[0] = false;
        }
        job.await();
    }

    private static final class Job {
        final int begin, end, chunks;
        final RangeTask task;
        final AtomicInteger next = new AtomicInteger(1); // chunk 0 belongs to the caller
        final CountDownLatch done;
        private Throwable failure; // guarded by this

        Job(int begin, int end, int chunks, RangeTask task) {
            this.begin = begin;
            this.end = end;
            this.chunks = chunks;
            this.task = task;
            this.done = new CountDownLatch(chunks);
        }

        void help() {
            boolean[] inside = INSIDE.get();
            inside[0] = true;
            try {
                claimAll();
            } finally {
                inside[0] = false;
            }
        }

        void claimAll() {
            int i;
            while ((i = next.getAndIncrement()) < chunks) runChunk(i);
        }

        void runChunk(int i) {
            try {
                if (!failed()) task.run(chunkStart(begin, end, chunks, i), chunkStart(begin, end, chunks, i + 1));
            } catch (Throwable t) {
                synchronized (this) {
                    if (failure == null) failure = t;
                    else if (failure != t) failure.addSuppressed(t);
                }
            } finally {
                done.countDown();
            }
        }

        synchronized boolean failed() {
            return failure != null;
        }

        void await() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    // The chunks write into the caller's arrays: returning before they finish would race.
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            Throwable t;
            synchronized (this) {
                t = failure;
            }
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error err) throw err;
            if (t != null) throw new RuntimeException(t);
        }
    }
}
