package dev.alma.bench;

import dev.alma.backend.Activations;
import dev.alma.backend.KvCache;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.model.LlamaConfig;
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

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * One decoding step of attention for one layer ({@link CpuBackend#attention}): the new token's key and value are
 * stored, then its 16 query heads (head size 128) attend over {@code context} cached positions. {@code gbytes}
 * counts the keys and values read, {@code gflops} the two products per head ({@code q·k} and the weighted sum of
 * values).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class AttentionBench {
    @Param({"128", "1024"})
    public int context;

    @Param({"16"})
    public int kvHeads;

    @Param({"0"})
    public int threads;

    static final int HEADS = 16, HEAD_DIM = 128;

    private CpuBackend backend;
    private KvCache cache;
    private Activations q, k, v, out;
    private int[] seqs, positions;

    @Setup
    public void setup() {
        backend = new CpuBackend(threads);
        LlamaConfig c = new LlamaConfig(32000, HEADS * HEAD_DIM, 4 * HEADS * HEAD_DIM, 1, HEADS, kvHeads, HEAD_DIM,
                1e-5f, 10000, context + 1, false, 1, 2, "float32", false);
        cache = backend.kvCache(c, context + 1);
        int seq = cache.create();
        int kvDim = kvHeads * HEAD_DIM;
        q = Kernels.activations(backend, context, HEADS * HEAD_DIM, 1);
        k = Kernels.activations(backend, context, kvDim, 2);
        v = Kernels.activations(backend, context, kvDim, 3);
        out = backend.allocate(context, HEADS * HEAD_DIM);
        int[] all = new int[context], allSeqs = new int[context];
        for (int i = 0; i < context; i++) all[i] = i;
        Arrays.fill(allSeqs, seq);
        backend.attention(q, k, v, cache, 0, allSeqs, all, context, out);
        seqs = new int[]{seq};
        positions = new int[]{context};
    }

    @Benchmark
    public Activations decodeStep(Rates r) {
        backend.attention(q, k, v, cache, 0, seqs, positions, 1, out);
        long kv = (long) (context + 1) * kvHeads * HEAD_DIM;
        r.add(2.0 * kv * 4, 4.0 * (context + 1) * HEADS * HEAD_DIM);
        return out;
    }

    @TearDown
    public void close() {
        cache.close();
        backend.close();
    }
}
