package dev.alma.bench.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.BackendProvider;
import dev.alma.backend.KvCache;
import dev.alma.backend.Weight;
import dev.alma.cuda.CudaBackend;
import dev.alma.cuda.CudaBackendProvider;
import dev.alma.io.Quantizer;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
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

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The CUDA kernels through {@link CudaBackend}, each call followed by a device synchronisation (so a score is the
 * kernel's time plus one launch and one sync): GEMV and the tensor-core GEMM over bf16 weights, prompt attention and
 * paged decode attention, and the rest of a decode layer (RMSNorm, RoPE, fused gate/up + SwiGLU, o projection +
 * residual, argmax/top-k). Needs a CUDA device (the setup fails with the reason otherwise). Example:
 * {@code java -jar alma-bench/target/benchmarks.jar CudaKernelsBenchmark -f 1 -wi 2 -i 3}.
 * {@code dev.alma.cuda.KernelBench} reports the same kernels in GB/s and TFLOP/s from CUDA events.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class CudaKernelsBenchmark {

    /**
     * A CUDA backend for one trial; fails the benchmark, saying why, where CUDA is unavailable. {@code gemvStream}: the
     * one-token GEMV kernels ({@link CudaBackend#GEMV_STREAM_PROPERTY}: 0 a warp per row, 1 to 7 streamed, 2 the
     * backend's default on compute capability 9.0+), e.g. {@code -p gemvStream=0,2,6}.
     */
    @State(Scope.Benchmark)
    public static class Device {
        @Param({"2"})
        public String gemvStream;
        CudaBackend gpu;

        @Setup(Level.Trial)
        public void open() {
            BackendProvider p = new CudaBackendProvider();
            String why = p.unavailableReason();
            if (why != null) throw new IllegalStateException("CUDA benchmarks need a GPU: " + why);
            String before = System.getProperty(CudaBackend.GEMV_STREAM_PROPERTY);
            System.setProperty(CudaBackend.GEMV_STREAM_PROPERTY, gemvStream);
            try {
                gpu = new CudaBackend(0);
            } finally {
                if (before == null) System.clearProperty(CudaBackend.GEMV_STREAM_PROPERTY);
                else System.setProperty(CudaBackend.GEMV_STREAM_PROPERTY, before);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            gpu.close();
        }
    }

    /**
     * {@code tokens} rows of activations times a bf16 or Q8_0 weight {@code rows × cols}: 1 and 5 tokens are decoding
     * (GEMV, tensor-core GEMV for bf16 beams, int8 GEMV for Q8_0), 4096 a prompt (tensor-core GEMM).
     */
    @State(Scope.Benchmark)
    public static class Product {
        @Param({"4096x4096", "11008x4096", "4096x11008", "8192x8192"})
        public String shape;
        @Param({"1", "5", "4096"})
        public int tokens;
        /** BF16, or Q8_0 (GGUF int8 blocks quantized here from random values: the int8 GEMV, or dequant + GEMM). */
        @Param({"BF16", "Q8_0"})
        public String type;
        Weight w;
        Activations x, y;

        @Setup(Level.Trial)
        public void setUp(Device d) {
            String[] s = shape.split("x");
            int rows = Integer.parseInt(s[0]), cols = Integer.parseInt(s[1]);
            w = type.equals("Q8_0") ? q8_0(d, rows, cols) : d.gpu.randomWeight("w", DType.BF16, rows, cols, 1, 0.02f);
            x = d.gpu.allocate(tokens, cols);
            y = d.gpu.allocate(tokens, rows);
        }
    }

    private static Weight q8_0(Device d, int rows, int cols) {
        float[] v = new float[rows * cols];
        Random rnd = new Random(3);
        for (int i = 0; i < v.length; i++) v[i] = (rnd.nextFloat() * 2 - 1) * 0.02f;
        ByteBuffer buf = ByteBuffer.allocateDirect((int) DType.Q8_0.byteSize(v.length)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(DType.Q8_0, v, 0, v.length, buf);
        return d.gpu.weight(new Tensor("w", DType.Q8_0, new long[]{rows, cols}, MemorySegment.ofBuffer(buf.clear())));
    }

    @Benchmark
    public void matmul(Device d, Product p) {
        d.gpu.matmul(p.x, p.w, p.tokens, p.y);
        d.gpu.synchronize();
    }

    /** Attention of LLaMA-7B shape (32 heads of 128) over a cache of {@code context} positions. */
    @State(Scope.Benchmark)
    public static class Attention {
        @Param({"4096"})
        public int context;
        @Param({"1", "5"})
        public int beams;
        KvCache cache;
        Activations q, k, v, out;
        int[] promptSeqs, promptPositions, beamSeqs, beamPositions;

        @Setup(Level.Trial)
        public void setUp(Device d) {
            LlamaConfig c = new LlamaConfig(32000, 4096, 11008, 1, 32, 32, 128, 1e-5f, 10000, 8192, false, 1, 2,
                    "bfloat16", false);
            cache = d.gpu.kvCache(c, 2 * context + 64 * beams);
            q = d.gpu.allocate(context, 4096);
            k = d.gpu.allocate(context, 4096);
            v = d.gpu.allocate(context, 4096);
            out = d.gpu.allocate(context, 4096);
            int seq = cache.create();
            promptPositions = new int[context];
            for (int i = 0; i < context; i++) promptPositions[i] = i;
            promptSeqs = new int[context];
            Arrays.fill(promptSeqs, seq);
            d.gpu.attention(q, k, v, cache, 0, promptSeqs, promptPositions, context, out);
            beamSeqs = new int[beams];
            beamSeqs[0] = seq;
            for (int i = 1; i < beams; i++) beamSeqs[i] = cache.fork(seq);
            beamPositions = new int[beams];
            Arrays.fill(beamPositions, context);
            d.gpu.attention(q, k, v, cache, 0, beamSeqs, beamPositions, beams, out);  // copy-on-write done here
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            cache.close();
        }
    }

    /** One decode step's attention for every beam (rewrites position {@code context} of each beam). */
    @Benchmark
    public void decodeAttention(Device d, Attention a) {
        d.gpu.attention(a.q, a.k, a.v, a.cache, 0, a.beamSeqs, a.beamPositions, a.beams, a.out);
        d.gpu.synchronize();
    }

    /** A whole prompt's causal attention (rewrites the prompt's positions of the first sequence). */
    @Benchmark
    public void promptAttention(Device d, Attention a) {
        d.gpu.attention(a.q, a.k, a.v, a.cache, 0, a.promptSeqs, a.promptPositions, a.context, a.out);
        d.gpu.synchronize();
    }
    /**
     * The rest of a LLaMA-7B-shape decode layer for {@code tokens} rows (1: greedy, 5: beams), bf16 weights: RMSNorm,
     * RoPE of queries and keys, the fused gate/up + SwiGLU GEMV, the o projection added to the residual, and the
     * end of a step (argmax for greedy, top-k of the vocabulary for beams).
     */
    @State(Scope.Benchmark)
    public static class Layer {
        @Param({"1", "5"})
        public int tokens;
        Weight gamma, gate, up, o;
        Activations x, h, q, k, g, u, att, logits;
        int[] positions;

        @Setup(Level.Trial)
        public void setUp(Device d) {
            gamma = d.gpu.randomWeight("gamma", DType.F32, 1, 4096, 1, 1f);
            gate = d.gpu.randomWeight("gate", DType.BF16, 11008, 4096, 2, 0.02f);
            up = d.gpu.randomWeight("up", DType.BF16, 11008, 4096, 3, 0.02f);
            o = d.gpu.randomWeight("o", DType.BF16, 4096, 4096, 4, 0.02f);
            x = d.gpu.allocate(tokens, 4096);
            h = d.gpu.allocate(tokens, 4096);
            q = d.gpu.allocate(tokens, 4096);
            k = d.gpu.allocate(tokens, 4096);
            att = d.gpu.allocate(tokens, 4096);
            g = d.gpu.allocate(tokens, 11008);
            u = d.gpu.allocate(tokens, 11008);
            logits = d.gpu.allocate(tokens, 32000);
            positions = new int[tokens];
            Arrays.fill(positions, 100);
        }
    }

    @Benchmark
    public void rmsNorm(Device d, Layer l) {
        d.gpu.rmsNorm(l.x, l.gamma, 1e-5f, l.tokens, l.h);
        d.gpu.synchronize();
    }

    @Benchmark
    public void ropeQk(Device d, Layer l) {
        d.gpu.ropeQk(l.q, 32, l.k, 32, 128, l.positions, 10000.0, false);
        d.gpu.synchronize();
    }

    @Benchmark
    public void gateUpSwiglu(Device d, Layer l) {
        d.gpu.gateUpSwiglu(l.h, l.gate, l.up, l.tokens, l.g, l.u);
        d.gpu.synchronize();
    }

    @Benchmark
    public void matmulAdd(Device d, Layer l) {
        d.gpu.matmulAdd(l.att, l.o, l.tokens, l.h, l.x);
        d.gpu.synchronize();
    }

    /** Greedy: the argmax of each row; beams: the 2·tokens best of each row (values and indices come back). */
    @Benchmark
    public Object pick(Device d, Layer l) {
        return l.tokens == 1 ? d.gpu.argmax(l.logits, 1) : d.gpu.topK(l.logits, l.tokens, 2 * l.tokens);
    }
}
