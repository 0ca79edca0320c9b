package dev.alma.bench;

import dev.alma.backend.Activations;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.tensor.DType;
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

import java.util.concurrent.TimeUnit;

/**
 * {@code x · Wᵀ} through {@link CpuBackend#matmul} for each weight type: {@code tokens = 1} is the decode
 * matrix-vector product (memory-bound: read as GB/s of weights against the STREAM figure), {@code 5} a step of
 * ALMA's 5-beam search, {@code 64} the prefill matrix-matrix product (compute-bound: GFLOP/s against the FMA peak). The weights (32768 × 2048 by default) are
 * larger than the 32 MB L3 for every type, so each call streams them from memory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class MatmulBench {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    public DType type;

    @Param({"1", "5", "64"})
    public int tokens;

    @Param({"32768"})
    public int rows;

    @Param({"2048"})
    public int cols;

    @Param({"0"})
    public int threads;

    private CpuBackend backend;
    private Weight w;
    private Activations x, out;

    @Setup
    public void setup() {
        backend = new CpuBackend(threads);
        w = backend.weight(RandomWeights.matrix("w", type, rows, cols, 7));
        x = Kernels.activations(backend, tokens, cols, 11);
        out = backend.allocate(tokens, rows);
    }

    @Benchmark
    public Activations matmul(Rates r) {
        backend.matmul(x, w, tokens, out);
        r.add(type.byteSize((long) rows * cols), 2.0 * rows * cols * tokens);
        return out;
    }

    @TearDown
    public void close() {
        backend.close();
    }
}
