package dev.alma.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * JMH secondary results of the kernel benchmarks: gigabytes moved and giga floating-point operations done by each
 * call, which JMH reports per second next to the call rate (so {@code :gbytes} reads as GB/s and {@code :gflops} as
 * GFLOP/s).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Rates {
    public double gbytes;
    public double gflops;

    @Setup(Level.Iteration)
    public void clear() {
        gbytes = 0;
        gflops = 0;
    }

    /** Counts one call that moved {@code bytes} and did {@code flops}. */
    void add(double bytes, double flops) {
        gbytes += bytes / 1e9;
        gflops += flops / 1e9;
    }
}
