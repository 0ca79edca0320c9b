package dev.alma.bench;

import dev.alma.decode.Logits;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The host's share of a beam-search step, what {@code BeamSearch} does with the logits of each of its beams: a
 * float32 log-softmax over the 32,000-token vocabulary (one exp per entry) and the 2·beams best tokens; the beams
 * one after another or in parallel (as {@code BeamSearch} runs them). On a GPU this runs between two decode steps.
 *
 * <pre>java -jar alma-bench/target/benchmarks.jar BeamStepBench -f 1</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class BeamStepBench {
    @Param({"5"})
    public int beams;

    @Param({"32000"})
    public int vocab;

    float[][] logits;

    @Setup
    public void setUp() {
        Random rnd = new Random(1);
        logits = new float[beams][vocab];
        for (float[] row : logits) for (int i = 0; i < vocab; i++) row[i] = (float) rnd.nextGaussian() * 3;
    }

    private int score(int i) {
        float[] lp = Logits.logSoftmax(logits[i]);
        return Logits.topK(lp, 2 * beams)[0];
    }

    @Benchmark
    public int serial() {
        int sum = 0;
        for (int i = 0; i < beams; i++) sum += score(i);
        return sum;
    }

    @Benchmark
    public int parallel() {
        return IntStream.range(0, beams).parallel().map(this::score).sum();
    }
}
