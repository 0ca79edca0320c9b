package dev.alma.bench;

import dev.alma.backend.KvCache;
import dev.alma.backend.PagedKvCache;
import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.decode.Hypothesis;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.model.RandomCheckpoint;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * 5-beam search against greedy decoding on a random LLaMA model (hidden 256, 4 layers, vocabulary 8,000), a
 * 48-token prompt and {@link #STEPS} new tokens (EOS disabled, so every run takes exactly that many steps): time
 * per generation (divide by {@link #STEPS} for time per step) of greedy decoding, 5-beam search and five
 * independent greedy runs batched together, and at tear-down the peak number of KV-cache pages in use (16
 * positions each) of each.
 *
 * <pre>java -jar alma-bench/target/benchmarks.jar BeamBench -f 1 -wi 1 -i 2</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 2, time = 5)
public class BeamBench {
    static final int STEPS = 32;
    static final int PROMPT = 48;

    @Param({"1"})
    int threads;

    Path dir;
    LlamaModel model;
    int[] prompt;
    int peakGreedy, peakBeam, peakFive;
    Generator greedy, beam5, five;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        dir = Files.createTempDirectory("alma-beam-bench");
        new RandomCheckpoint(8000, 256, 8, 8, 4, 688).write(dir, 1);
        model = LlamaModel.open(dir, ModelOptions.defaults().withThreads(threads));
        SplittableRandom r = new SplittableRandom(2);
        prompt = new int[PROMPT];
        prompt[0] = 1;
        for (int i = 1; i < PROMPT; i++) prompt[i] = r.nextInt(3, 8000);
        greedy = new Generator(model, DecodingOptions.greedy(STEPS)).withEosId(-1)
                .withStepObserver(c -> peakGreedy = Math.max(peakGreedy, pages(c)));
        beam5 = new Generator(model, DecodingOptions.alma().withMaxNewTokens(STEPS)).withEosId(-1)
                .withStepObserver(c -> peakBeam = Math.max(peakBeam, pages(c)));
        five = new Generator(model, DecodingOptions.greedy(STEPS)).withEosId(-1)
                .withStepObserver(c -> peakFive = Math.max(peakFive, pages(c)));
    }

    private static int pages(KvCache cache) {
        return cache instanceof PagedKvCache p ? p.pagesInUse() : -1;
    }

    @Benchmark
    public List<Hypothesis> greedy() {
        return greedy.generate(prompt);
    }

    @Benchmark
    public List<Hypothesis> beam5() {
        return beam5.generate(prompt);
    }

    /** Five independent greedy runs of the prompt, batched: what five unshared sequences cost. */
    @Benchmark
    public List<List<Hypothesis>> greedyTimesFive() {
        return five.generate(List.of(prompt, prompt, prompt, prompt, prompt));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        int perSequence = (PROMPT + STEPS + 15) / 16;
        System.out.printf("%nKV pages in use at most (16 positions each): greedy %d, 5 beams %d, 5 greedy runs %d"
                + " (one sequence of %d positions: %d pages)%n", peakGreedy, peakBeam, peakFive, PROMPT + STEPS, perSequence);
        model.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
