package org.bitengine.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RestoreThreads.class)
class CpuParallelTest {

    private static List<int[]> chunks(int begin, int end, int grain) {
        List<int[]> out = Collections.synchronizedList(new ArrayList<>());
        CpuParallel.forRange(begin, end, grain, (from, to) -> out.add(new int[] {from, to}));
        List<int[]> sorted = new ArrayList<>(out);
        sorted.sort(Comparator.comparingInt(r -> r[0]));
        return sorted;
    }

    @Test
    void splitCoversTheRangeInAtMostThreadsChunksOfAtLeastGrain() {
        int[][] cases = {{5, 105, 7}, {0, 3, 1}, {0, 1000, 1}, {-50, 50, 30}, {0, 10, 100}, {7, 8, 1}, {0, 64, 16}};
        for (int threads : new int[] {1, 2, 3, 4, 7}) {
            CpuParallel.setThreads(threads);
            for (int[] c : cases) {
                List<int[]> got = chunks(c[0], c[1], c[2]);
                String what = "threads " + threads + " range [" + c[0] + ", " + c[1] + ") grain " + c[2];
                assertTrue(got.size() >= 1 && got.size() <= threads, what + ": " + got.size() + " chunks");
                int expectStart = c[0];
                for (int[] r : got) {
                    assertEquals(expectStart, r[0], what + ": chunks must be contiguous");
                    assertTrue(r[1] > r[0], what + ": empty chunk");
                    if (got.size() > 1) assertTrue(r[1] - r[0] >= c[2], what + ": chunk smaller than grain");
                    expectStart = r[1];
                }
                assertEquals(c[1], expectStart, what + ": range not covered");
                // Same inputs, same split: the split must not depend on timing.
                List<int[]> again = chunks(c[0], c[1], c[2]);
                assertEquals(got.size(), again.size(), what);
                for (int i = 0; i < got.size(); i++) {
                    assertEquals(got.get(i)[0], again.get(i)[0], what);
                    assertEquals(got.get(i)[1], again.get(i)[1], what);
                }
            }
        }
    }

    @Test
    void emptyRangeRunsNothing() {
        CpuParallel.setThreads(2);
        AtomicInteger calls = new AtomicInteger();
        CpuParallel.forRange(5, 5, 1, (from, to) -> calls.incrementAndGet());
        CpuParallel.forRange(9, 3, 1, (from, to) -> calls.incrementAndGet());
        assertEquals(0, calls.get());
    }

    @Test
    void singleThreadRunsInlineOnTheCaller() {
        CpuParallel.setThreads(1);
        Thread caller = Thread.currentThread();
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        CpuParallel.forRange(0, 1000, 1, (from, to) -> seen.add(Thread.currentThread()));
        assertEquals(Set.of(caller), seen);
    }

    @Test
    void callerRunsAChunkAndWorkersRunTheRest() {
        CpuParallel.setThreads(3);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        AtomicLong sum = new AtomicLong();
        CpuParallel.forRange(0, 3000, 1, (from, to) -> {
            seen.add(Thread.currentThread());
            long s = 0;
            for (int i = from; i < to; i++) s += i;
            sum.addAndGet(s);
        });
        assertTrue(seen.contains(Thread.currentThread()), "the caller must run one chunk itself");
        assertEquals(2999L * 3000 / 2, sum.get());
        for (Thread t : seen) if (t != Thread.currentThread()) assertTrue(t.isDaemon(), "workers must be daemon threads");
    }

    @Test
    void exceptionInAChunkIsRethrownInTheCaller() {
        CpuParallel.setThreads(2);
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> CpuParallel.forRange(0, 100, 1, (from, to) -> {
            if (to == 100) throw boom; // the last chunk, which a worker runs
        }));
        assertSame(boom, thrown);
        // The pool must still work afterwards.
        AtomicInteger n = new AtomicInteger();
        CpuParallel.forRange(0, 100, 1, (from, to) -> n.addAndGet(to - from));
        assertEquals(100, n.get());
        AssertionError err = assertThrows(AssertionError.class, () -> CpuParallel.forRange(0, 100, 1, (from, to) -> {
            if (from == 0) throw new AssertionError("caller chunk");
        }));
        assertEquals("caller chunk", err.getMessage());
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        CpuParallel.setThreads(2);
        AtomicLong total = new AtomicLong();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int rep = 0; rep < 50; rep++) {
                CpuParallel.forRange(0, 8, 1, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        CpuParallel.forRange(0, 100, 1, (f2, t2) -> total.addAndGet(t2 - f2));
                    }
                });
            }
        });
        assertEquals(50L * 8 * 100, total.get());
    }

    @Test
    void nestedCallsKeepTheSameSplit() {
        CpuParallel.setThreads(2);
        List<int[]> top = chunks(0, 101, 3);
        List<List<int[]>> nested = Collections.synchronizedList(new ArrayList<>());
        CpuParallel.forRange(0, 2, 1, (from, to) -> nested.add(chunks(0, 101, 3)));
        for (List<int[]> inner : nested) {
            assertEquals(top.size(), inner.size());
            for (int i = 0; i < top.size(); i++) assertEquals(top.get(i)[1], inner.get(i)[1]);
        }
    }

    @Test
    void concurrentCallersShareThePool() throws Exception {
        CpuParallel.setThreads(2);
        AtomicLong total = new AtomicLong();
        Thread[] callers = new Thread[4];
        for (int t = 0; t < callers.length; t++) {
            callers[t] = new Thread(() -> {
                for (int rep = 0; rep < 200; rep++) CpuParallel.forRange(0, 64, 1, (from, to) -> total.addAndGet(to - from));
            });
            callers[t].start();
        }
        for (Thread t : callers) t.join(20_000);
        assertEquals(4L * 200 * 64, total.get());
    }

    @Test
    void rejectsBadThreadCounts() {
        assertThrows(IllegalArgumentException.class, () -> CpuParallel.setThreads(0));
        assertThrows(IllegalArgumentException.class, () -> CpuParallel.setThreads(-3));
        assertThrows(NullPointerException.class, () -> CpuParallel.forRange(0, 1, 1, null));
    }
}
