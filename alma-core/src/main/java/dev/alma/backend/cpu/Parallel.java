package dev.alma.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of worker threads and a parallel-for over index ranges split into chunks. The calling thread takes
 * chunks too, so {@code threads} threads in all work on a loop ({@code threads - 1} daemon workers). A decode step
 * runs a hundred short loops back to back, so waiting threads spin for some microseconds before they park: the next
 * loop usually starts before the workers sleep, and then costs no thread wake-up; on a busy machine they soon
 * yield their core. Loops are run one at a time (the
 * backend is used by one forward pass at a time); a loop body must not start another loop.
 */
final class Parallel implements AutoCloseable {
    /** Body of a parallel loop over {@code [from, to)}. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /** Spin iterations of a waiting thread before it parks (some microseconds). */
    private static final int SPINS = 2_000;

    private final int threads;
    private final Thread[] workers;

    // the current loop, published by the volatile write of generation
    private Range body;
    private int n;
    private int chunks;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;
    /** The thread that started the current loop, unparked by the worker that finishes last. */
    private volatile Thread caller;
    private volatile int generation;
    private volatile boolean closed;

    Parallel(int threads) {
        this.threads = threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.workers = new Thread[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::work, "alma-cpu-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} in chunks of at least {@code grain} indices. */
    void forRange(int n, int grain, Range body) {
        if (closed) throw new IllegalStateException("the CPU backend is closed");
        if (n <= 0) return;
        int chunks = Math.min(threads * 16, Math.max(1, n / Math.max(1, grain)));
        if (workers.length == 0 || chunks == 1) {
            body.run(0, n);
            return;
        }
        synchronized (this) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.failure = null;
            nextChunk.set(0);
            pending.set(workers.length);
            caller = Thread.currentThread();
            generation++;
            for (Thread w : workers) LockSupport.unpark(w);
            runChunks();
            int spins = 0;
            while (pending.get() > 0) {
                if (++spins < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            this.body = null;
            Throwable f = failure;
            if (f instanceof RuntimeException e) throw e;
            if (f instanceof Error e) throw e;
        }
    }

    /** Takes chunks of the current loop until none is left. */
    private void runChunks() {
        Range b = body;
        int c;
        while ((c = nextChunk.getAndIncrement()) < chunks) {
            try {
                b.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
            } catch (Throwable t) {
                failure = t;
                nextChunk.set(chunks);
            }
        }
    }

    private void work() {
        int seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = generation;
            runChunks();
            if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
