package dev.alma.bench;

import dev.alma.model.Checkpoint;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.model.RandomModelWriter;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The whole model: one decoding step (a token at position {@code 64} after a 64-token prompt) and one 64-token
 * prefill chunk, on a random GGUF model written at setup (hidden 2048, FFN 5504, 16 heads, vocab 32000,
 * {@code layers} layers; {@code -p hidden=4096}: LLaMA-2 7B's width, FFN 11008, 32 heads; {@code -p model=FILE}
 * benchmarks an existing file instead). {@code gbytes} counts the
 * weight bytes a step reads (all but the embedding table, of which it reads one row per token), {@code gflops}
 * two operations per layer weight per token (and per output weight for the one row whose logits are computed).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class ModelBench {
    @Param({"Q8_0", "F16"})
    public DType type;

    @Param({"4"})
    public int layers;

    /** 2048: the 940M benchmark model's layers (FFN 5504); 4096: LLaMA-2 7B's (FFN 11008, 32 heads). */
    @Param({"2048"})
    public int hidden;

    @Param({""})
    public String model;

    @Param({"0"})
    public int threads;

    static final int PROMPT = 64;

    private Path written;
    private LlamaModel llama;
    private LlamaModel.Context ctx;
    private long weightBytes, layerWeights, headWeights;
    private int[] prompt, promptSeqs, promptPositions, last;
    private final int[] token = {5}, seq = new int[1], position = {PROMPT}, row = {0};

    @Setup
    public void setup() throws IOException {
        Path file;
        if (model.isEmpty()) {
            written = Files.createTempFile("alma-bench-", ".gguf");
            int ffn = switch (hidden) {
                case 2048 -> 5504;
                case 4096 -> 11008;
                default -> throw new IllegalArgumentException("hidden " + hidden + ": 2048 (940M shape) or 4096 (7B width)");
            }, heads = hidden / 128;
            RandomModelWriter.writeGguf(written, new RandomModelWriter.Shape(hidden, ffn, layers, heads, heads, 32000, 4096),
                    type, 1, null);
            file = written;
        } else {
            file = Path.of(model);
        }
        llama = LlamaModel.open(file, new ModelOptions("cpu", threads, List.of()));
        try (Checkpoint c = Checkpoint.open(file)) {
            boolean tied = !c.tensors().containsKey("lm_head.weight");
            for (var t : c.tensors().values()) {
                boolean embedding = t.name().equals("model.embed_tokens.weight");
                // a step reads one row of the embedding table, unless the table is also the output layer
                if (!embedding || tied) weightBytes += t.data().byteSize();
                if (t.name().equals("lm_head.weight") || (embedding && tied)) headWeights = t.count();
                else if (t.rank() == 2 && !embedding) layerWeights += t.count();
            }
        }
        ctx = llama.newContext(PROMPT + 1);
        seq[0] = ctx.cache().create();
        prompt = new int[PROMPT];
        promptSeqs = new int[PROMPT];
        promptPositions = new int[PROMPT];
        for (int i = 0; i < PROMPT; i++) {
            prompt[i] = 3 + i * 7;
            promptPositions[i] = i;
        }
        Arrays.fill(promptSeqs, seq[0]);
        last = new int[]{PROMPT - 1};
        llama.forward(ctx, prompt, promptSeqs, promptPositions, last);
    }

    @Benchmark
    public float[][] decodeStep(Rates r) {
        float[][] logits = llama.forward(ctx, token, seq, position, row);
        r.add(weightBytes, 2.0 * (layerWeights + headWeights));
        return logits;
    }

    @Benchmark
    public float[][] prefillChunk(Rates r) {
        float[][] logits = llama.forward(ctx, prompt, promptSeqs, promptPositions, last);
        r.add(weightBytes, 2.0 * (layerWeights * PROMPT + headWeights));
        return logits;
    }

    @TearDown
    public void close() throws IOException {
        ctx.close();
        llama.close();
        if (written != null) Files.deleteIfExists(written);
    }
}
