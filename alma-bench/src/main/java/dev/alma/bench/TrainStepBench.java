package dev.alma.bench;

import dev.alma.model.LlamaConfig;
import dev.alma.train.Batch;
import dev.alma.train.LoraConfig;
import dev.alma.train.TrainableLlama;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One forward and backward pass of fine-tuning (no optimiser step) on a random f32 LLaMA model: {@code mode=full}
 * computes every weight's gradient, {@code lora} ALMA's stage-2 adapters (r 16, alpha 32, {@code down_proj}) with the
 * base frozen. {@code :gflops} counts the projections' and LM head's multiply-adds only (forward 2, input gradient
 * 2, weight gradient 2 FLOPs per weight and token; LoRA: the first two), so it reads against {@code PeakBench.fma}
 * × cores. {@code alma finetune} prints the same work as training tokens per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 3, time = 4)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class TrainStepBench {
    @Param({"full", "lora"})
    public String mode;

    @Param({"1024"})
    public int hidden;

    @Param({"2816"})
    public int ffn;

    @Param({"4"})
    public int layers;

    @Param({"4"})
    public int batch;

    @Param({"128"})
    public int seqLen;

    private TrainableLlama model;
    private Batch data;
    private double flops;

    @Setup
    public void setup() {
        int heads = hidden / 64, vocab = 32000;
        LlamaConfig cfg = new LlamaConfig(vocab, hidden, ffn, layers, heads, heads, 64, 1e-5f, 10000.0, 4096,
                false, 1, 2, "float32", false);
        model = TrainableLlama.random(cfg, 0.02, 1);
        boolean lora = mode.equals("lora");
        if (lora) model.addLora(LoraConfig.alma(), 2);
        SplittableRandom rnd = new SplittableRandom(3);
        int[] ids = new int[batch * seqLen], labels = new int[batch * seqLen];
        for (int i = 0; i < ids.length; i++) labels[i] = ids[i] = 3 + rnd.nextInt(vocab - 3);
        data = new Batch(batch, seqLen, ids, labels);
        double weights = (double) layers * (4.0 * hidden * hidden + 3.0 * hidden * ffn) + (double) vocab * hidden;
        flops = (lora ? 4 : 6) * weights * data.tokens();
    }

    @Benchmark
    public double step(Rates r) {
        model.zeroGrad();
        double loss = model.forwardBackward(data, 1f / data.targets(), -1);
        r.add(0, flops);
        return loss;
    }
}
