package dev.alma.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A STREAM-like memory-bandwidth probe: copy ({@code a = b}), read-only sum (Vector API, four accumulators: what a
 * matrix-vector product does with its weights) and triad ({@code a = b + s·c}) over float arrays of 64 MB each, twice the
 * 32 MB L3, split over {@code threads} threads. The {@code gbytes} counter is the bytes the loop reads and writes
 * (STREAM's convention: no write-allocate traffic counted), per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class StreamBench {
    @Param({"16777216"})
    public int floats;

    @Param({"1", "2"})
    public int threads;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private float[] a, b, c;
    private ForkJoinPool pool;

    @Setup
    public void setup() {
        a = new float[floats];
        b = new float[floats];
        c = new float[floats];
        Arrays.fill(a, 1f);
        Arrays.fill(b, 2f);
        Arrays.fill(c, 3f);
        pool = new ForkJoinPool(threads);
    }

    @TearDown
    public void close() {
        pool.shutdown();
    }

    private interface Part {
        double run(int from, int to);
    }

    private double split(Part part) {
        int n = floats;
        return pool.submit(() -> IntStream.range(0, threads).parallel()
                .mapToDouble(t -> part.run((int) ((long) n * t / threads), (int) ((long) n * (t + 1) / threads)))
                .sum()).join();
    }

    @Benchmark
    public double copy(Rates r) {
        split((from, to) -> {
            System.arraycopy(b, from, a, from, to - from);
            return 0;
        });
        r.add(8.0 * floats, 0);
        return a[floats / 2];
    }

    @Benchmark
    public double read(Rates r) {
        double s = split((from, to) -> sum(a, from, to));
        r.add(4.0 * floats, floats);
        return s;
    }

    /** The sum of {@code v[from .. to)} with four vector accumulators (a static method, so that it is compiled whole). */
    private static float sum(float[] v, int from, int to) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int i = from;
        for (; i + 4 * L <= to; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(F, v, i));
            s1 = s1.add(FloatVector.fromArray(F, v, i + L));
            s2 = s2.add(FloatVector.fromArray(F, v, i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(F, v, i + 3 * L));
        }
        float sum = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) sum += v[i];
        return sum;
    }

    @Benchmark
    public double triad(Rates r) {
        split((from, to) -> {
            for (int i = from; i < to; i++) a[i] = b[i] + 3f * c[i];
            return 0;
        });
        r.add(12.0 * floats, 2.0 * floats);
        return a[floats / 2];
    }
}
