package dev.alma.bench;

import dev.alma.tokenizer.Tokenizer;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Single-threaded tokenizer throughput on the WMT'22 source sentences ({@code wmt22/wmt-testset/xxyy/test.xx-yy.xx}
 * under the shared folder: {@code $ALMA_SHARED}, else {@code ../shared}), one {@code encode} call per line as the
 * SentencePiece reference was timed. The {@code bytes} counter is UTF-8 input bytes per second: divide by 10^6 for
 * MB/s. Run: {@code java -jar alma-bench/target/benchmarks.jar TokenizerBench -f 1 -wi 2 -i 3}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgs = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class TokenizerBench {
    /** Which file to load, relative to {@code fixtures/tokenizer}. */
    @Param({"llama2-tokenizer.model"})
    public String tokenizer;

    private Tokenizer tok;
    private String[] lines;
    private int[] lineBytes;
    private int next;

    /** Input bytes encoded, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup
    public void setUp() throws IOException {
        Path shared = shared();
        tok = Tokenizer.load(shared.resolve("fixtures/tokenizer").resolve(tokenizer));
        List<String> all = new ArrayList<>();
        Path testset = shared.resolve("data/wmt22/wmt-testset");
        try (Stream<Path> dirs = Files.list(testset)) {
            for (Path dir : dirs.sorted().toList()) {
                String pair = dir.getFileName().toString(); // e.g. "deen"
                String src = pair.substring(0, 2), tgt = pair.substring(2);
                Path source = dir.resolve("test." + src + "-" + tgt + "." + src);
                if (Files.isRegularFile(source)) all.addAll(Files.readAllLines(source, StandardCharsets.UTF_8));
            }
        }
        if (all.isEmpty()) throw new IllegalStateException("no WMT'22 source files under " + testset);
        lines = all.toArray(String[]::new);
        lineBytes = new int[lines.length];
        for (int i = 0; i < lines.length; i++) lineBytes[i] = lines[i].getBytes(StandardCharsets.UTF_8).length;
    }

    private static Path shared() {
        String env = System.getenv("ALMA_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        for (String candidate : new String[]{"../shared", "../../shared"}) {
            Path p = Path.of(candidate);
            if (Files.isDirectory(p.resolve("fixtures"))) return p;
        }
        throw new UncheckedIOException(new IOException("shared folder not found: set ALMA_SHARED"));
    }

    /** Encodes the next line. */
    @Benchmark
    public int[] encodeLine(Counters counters) {
        int i = next;
        next = i + 1 == lines.length ? 0 : i + 1;
        counters.bytes += lineBytes[i];
        return tok.encode(lines[i]);
    }
}
