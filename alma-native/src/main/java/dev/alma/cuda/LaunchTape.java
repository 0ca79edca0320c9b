package dev.alma.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the kernel launches of a decode step and runs them as one CUDA graph. While {@link #recording()}, a
 * {@link #launch} is only written down (kernel and every argument); {@link #flush()} then replays the graph captured
 * earlier for exactly the same launches with exactly the same arguments, or captures a new one (kept, the
 * {@value #CACHED} most recently used), so a step whose arguments are all unchanged is one graph launch. The
 * step's varying inputs (token ids, positions, page tables) are device arrays at fixed addresses refilled before
 * the launch, so consecutive decode steps replay the same graph. Not recording, or where capture fails, launches run
 * at once, one by one, and errors are reported the same way.
 *
 * <p>A recorded launch must not depend on host state that changes before the flush: the kernels are
 * non-capturing functions of their argument array ({@link Kernels}).
 */
final class LaunchTape implements AutoCloseable {
    /** A kernel launch as a function of its arguments (floats and doubles as their raw bits); returns a cudaError_t. */
    @FunctionalInterface
    interface Kernel {
        int run(long[] args);
    }

    /** The CUDA graph calls, on the tape's stream (an interface so that the bookkeeping is testable without CUDA). */
    interface Graphs {
        int begin();

        int end(long[] exec);

        int launch(long exec);

        int destroy(long exec);

        String error(int code);
    }

    /** Graphs kept for replay. */
    static final int CACHED = 8;
    /** Shorter tapes run launch by launch (a capture would not pay). */
    static final int MIN_LAUNCHES = 8;

    private final Graphs graphs;
    private final List<String> names = new ArrayList<>();
    private final List<Kernel> kernels = new ArrayList<>();
    private final List<long[]> args = new ArrayList<>();
    private final Map<Signature, Long> execs = new LinkedHashMap<>(16, 0.75f, true);
    private boolean enabled;
    private boolean recording;
    private LaunchProfile profile;
    private String disabledBecause;
    private int captures, replays, eagerRuns;

    LaunchTape(Graphs graphs, boolean enabled) {
        this.graphs = graphs;
        this.enabled = enabled;
    }

    /** Turns recording on or off for later steps (runs what is recorded first). */
    void enable(boolean on) {
        stop();
        enabled = on;
    }

    /** Whether launches are being recorded rather than run. */
    boolean recording() {
        return recording;
    }

    boolean isEmpty() {
        return kernels.isEmpty();
    }

    /** Starts recording (a no-op when graphs are off); anything recorded before is run first. */
    void start() {
        flush();
        recording = enabled && disabledBecause == null;
    }

    /** Runs what is recorded and stops recording. */
    void stop() {
        flush();
        recording = false;
    }

    /** Records the launch, or runs it now (throwing {@link CudaException} on error) when not recording. */
    void launch(String name, Kernel kernel, long... a) {
        if (!recording) {
            run(name, kernel, a);
            return;
        }
        names.add(name);
        kernels.add(kernel);
        args.add(a);
    }

    /** Runs what is recorded: one graph launch (captured now or earlier), or launch by launch. Keeps recording. */
    void flush() {
        if (kernels.isEmpty()) return;
        try {
            Signature sig = new Signature(kernels.toArray(Kernel[]::new), args.toArray(long[][]::new));
            Long exec = execs.get(sig);
            if (exec != null) {
                check(graphs.launch(exec), "cudaGraphLaunch");
                replays++;
                return;
            }
            if (kernels.size() < MIN_LAUNCHES || !enabled || disabledBecause != null) {
                runAll();
                return;
            }
            long captured = capture();
            if (captured == 0) {
                runAll();
                return;
            }
            execs.put(sig, captured);
            evict();
            captures++;
            check(graphs.launch(captured), "cudaGraphLaunch");
        } finally {
            names.clear();
            kernels.clear();
            args.clear();
        }
    }

    /** The instantiated graph of the recorded launches, or 0 when capturing failed (then launches run one by one). */
    private long capture() {
        int rc = graphs.begin();
        if (rc != 0) {
            disable("cudaStreamBeginCapture: " + graphs.error(rc));
            return 0;
        }
        boolean launched = true;
        for (int i = 0; i < kernels.size() && launched; i++) launched = kernels.get(i).run(args.get(i)) == 0;
        long[] exec = new long[1];
        rc = graphs.end(exec);
        if (!launched) {  // a launch was refused: running it again outside the capture reports it by name
            if (rc == 0 && exec[0] != 0) graphs.destroy(exec[0]);
            return 0;
        }
        if (rc != 0 || exec[0] == 0) {
            disable("cudaStreamEndCapture/cudaGraphInstantiate: " + graphs.error(rc));
            return 0;
        }
        return exec[0];
    }

    private void disable(String why) {
        disabledBecause = why;
        recording = false;
    }

    private void evict() {
        Iterator<Map.Entry<Signature, Long>> it = execs.entrySet().iterator();
        while (execs.size() > CACHED && it.hasNext()) {
            long e = it.next().getValue();
            it.remove();
            graphs.destroy(e);
        }
    }

    private void runAll() {
        eagerRuns++;
        for (int i = 0; i < kernels.size(); i++) run(names.get(i), kernels.get(i), args.get(i));
    }

    private void run(String name, Kernel kernel, long[] a) {
        if (profile == null) {
            check(kernel.run(a), name);
            return;
        }
        profile.before();
        check(kernel.run(a), name);
        profile.after(name);
    }

    /** Times the launches run one by one from now on (null: stops); graph launches are not timed. */
    void profile(LaunchProfile p) {
        profile = p;
    }

    private void check(int rc, String call) {
        if (rc != 0) throw new CudaException(call, rc, graphs.error(rc));
    }

    /** Graphs captured, graph replays and tapes run launch by launch so far, and why graphs are off (or null). */
    record Stats(int captures, int replays, int eagerRuns, int cached, String disabledBecause) {
    }

    Stats stats() {
        return new Stats(captures, replays, eagerRuns, execs.size(), disabledBecause);
    }

    /** Destroys the graphs kept (what is still recorded is dropped). */
    @Override
    public void close() {
        names.clear();
        kernels.clear();
        args.clear();
        recording = false;
        for (long e : execs.values()) graphs.destroy(e);
        execs.clear();
    }

    /** The identity of a tape: its kernels (by identity) and all their arguments. */
    private static final class Signature {
        private final Kernel[] kernels;
        private final long[][] args;
        private final int hash;

        Signature(Kernel[] kernels, long[][] args) {
            this.kernels = kernels;
            this.args = args;
            int h = 1;
            for (int i = 0; i < kernels.length; i++) h = 31 * (31 * h + System.identityHashCode(kernels[i])) + Arrays.hashCode(args[i]);
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Signature s) || s.hash != hash || s.kernels.length != kernels.length) return false;
            for (int i = 0; i < kernels.length; i++)
                if (kernels[i] != s.kernels[i] || !Arrays.equals(args[i], s.args[i])) return false;
            return true;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
