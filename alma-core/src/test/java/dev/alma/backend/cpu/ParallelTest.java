package dev.alma.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The pool covers every index once per loop, on several threads, and survives a failing loop body. */
class ParallelTest {

    @Test
    void everyIndexRunsExactlyOncePerLoop() {
        try (Parallel p = new Parallel(3)) {
            for (int n : new int[]{1, 2, 7, 64, 1000, 5504}) {
                for (int grain : new int[]{1, 4, 64}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    for (int rep = 0; rep < 20; rep++)
                        p.forRange(n, grain, (from, to) -> {
                            for (int i = from; i < to; i++) hits.incrementAndGet(i);
                        });
                    for (int i = 0; i < n; i++) assertEquals(20, hits.get(i), "n " + n + " grain " + grain + " index " + i);
                }
            }
        }
    }

    @Test
    void workIsSharedWithTheWorkers() {
        try (Parallel p = new Parallel(2)) {
            java.util.Set<Thread> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int rep = 0; rep < 200 && seen.size() < 2; rep++)
                p.forRange(64, 1, (from, to) -> {
                    seen.add(Thread.currentThread());
                    long until = System.nanoTime() + 20_000;
                    while (System.nanoTime() < until) Thread.onSpinWait();
                });
            assertEquals(2, seen.size(), "threads that ran chunks: " + seen);
        }
    }

    @Test
    void aFailingBodyIsRethrownAndThePoolStaysUsable() {
        try (Parallel p = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.forRange(100, 1, (from, to) -> {
                if (from <= 50 && 50 < to) throw new IllegalStateException("chunk with 50");
            }));
            assertEquals("chunk with 50", e.getMessage());
            AtomicInteger sum = new AtomicInteger();
            p.forRange(100, 1, (from, to) -> sum.addAndGet(to - from));
            assertEquals(100, sum.get());
        }
    }
}
