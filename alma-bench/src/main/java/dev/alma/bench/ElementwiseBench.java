package dev.alma.bench;

import dev.alma.backend.Activations;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
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

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The element-wise steps of a layer on {@code tokens} rows of the 940M model's shapes: RMSNorm over 2048 columns,
 * RoPE on 16 heads of 128, SwiGLU over 5504. They work in cache; {@code gbytes} counts the floats each reads and
 * writes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class ElementwiseBench {
    @Param({"1", "64"})
    public int tokens;

    @Param({"0"})
    public int threads;

    static final int HIDDEN = 2048, FFN = 5504, HEADS = 16;

    private CpuBackend backend;
    private Activations x, h, gate, up;
    private Weight gamma;
    private int[] positions;

    @Setup
    public void setup() {
        backend = new CpuBackend(threads);
        x = Kernels.activations(backend, tokens, HIDDEN, 1);
        h = backend.allocate(tokens, HIDDEN);
        // gate in [-1, -0.2] and up = 1 / sigmoid(gate): a stable fixed point of gate = silu(gate) * up, so that
        // repeated calls neither overflow nor decay into subnormals
        float[] g = RandomWeights.floats(tokens * FFN, 2), u = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            g[i] = -0.6f + 0.4f * g[i];
            u[i] = 1f + (float) Math.exp(-g[i]);
        }
        gate = Kernels.activations(backend, tokens, FFN, g);
        up = Kernels.activations(backend, tokens, FFN, u);
        gamma = backend.weight(new Tensor("g", DType.F32, new long[]{HIDDEN},
                MemorySegment.ofArray(RandomWeights.floats(HIDDEN, 4))));
        positions = new int[tokens];
        for (int i = 0; i < tokens; i++) positions[i] = 100 + i;
    }

    @Benchmark
    public Activations rmsNorm(Rates r) {
        backend.rmsNorm(x, gamma, 1e-5f, tokens, h);
        r.add(8.0 * tokens * HIDDEN, 4.0 * tokens * HIDDEN);
        return h;
    }

    @Benchmark
    public Activations rope(Rates r) {
        backend.rope(x, HEADS, HIDDEN / HEADS, positions, 10000, true);
        r.add(8.0 * tokens * HIDDEN, 3.0 * tokens * HIDDEN);
        return x;
    }

    @Benchmark
    public Activations swiglu(Rates r) {
        backend.swiglu(gate, up, tokens);
        r.add(12.0 * tokens * FFN, 0);
        return gate;
    }

    @TearDown
    public void close() {
        backend.close();
    }
}
