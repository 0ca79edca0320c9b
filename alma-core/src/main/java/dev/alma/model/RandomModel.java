package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.backend.Backend;
import dev.alma.backend.Weight;
import dev.alma.io.Quantizer;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.LongFunction;
import java.util.stream.IntStream;

/**
 * Models with random weights of a named or given shape, built directly on a backend without a checkpoint file:
 * what {@code alma bench --model random:7b --device cuda} measures (a 7B checkpoint is 13 GB to write and read).
 * A spec is {@code random:7b}, {@code random:13b} or {@code random:HIDDEN,FFN,LAYERS,HEADS[,KV_HEADS]}, optionally
 * followed by {@code :TYPE} for the matrices: {@code bf16} (default), {@code f16}, {@code f32}, {@code q8_0},
 * {@code q4_0}, {@code q4_k}, {@code q5_k} or {@code q6_k} (the quantized ones drawn on the host and encoded).
 * Vocabulary 32,000, context 4,096, RoPE θ 10,000 (LLaMA-2's). Matrices are uniform with the variance of
 * {@code 1/fan-in}, norm scales are 1.
 */
public final class RandomModel {
    /** What a model path starts with to name a random model. */
    public static final String PREFIX = "random:";

    /** A parsed spec: the model's shape and the storage type of its matrices. */
    public record Spec(LlamaConfig config, DType type) {
    }

    private RandomModel() {
    }

    /** Whether {@code path} is a random-model spec rather than a file or directory. */
    public static boolean isSpec(String path) {
        return path.startsWith(PREFIX);
    }

    /** Parses a spec; a bad one is an {@link AlmaException} naming the part that is wrong. */
    public static Spec parse(String spec) {
        if (!isSpec(spec)) throw new AlmaException("'" + spec + "' is not a random-model spec (" + PREFIX + "...)");
        String[] parts = spec.substring(PREFIX.length()).split(":", -1);
        if (parts.length > 2) throw new AlmaException("random-model spec '" + spec + "': expected random:SHAPE[:TYPE]");
        DType type = DType.BF16;
        if (parts.length == 2) {
            type = switch (parts[1].toLowerCase(Locale.ROOT)) {
                case "bf16" -> DType.BF16;
                case "f16" -> DType.F16;
                case "f32" -> DType.F32;
                case "q8_0" -> DType.Q8_0;
                case "q4_0" -> DType.Q4_0;
                case "q4_k" -> DType.Q4_K;
                case "q5_k" -> DType.Q5_K;
                case "q6_k" -> DType.Q6_K;
                default -> throw new AlmaException("random-model spec '" + spec + "': type '" + parts[1]
                        + "' is not bf16, f16, f32, q8_0, q4_0, q4_k, q5_k or q6_k");
            };
        }
        int[] s = switch (parts[0].toLowerCase(Locale.ROOT)) {
            case "7b" -> new int[]{4096, 11008, 32, 32, 32};
            case "13b" -> new int[]{5120, 13824, 40, 40, 40};
            default -> shape(spec, parts[0]);
        };
        if (s[0] % s[3] != 0)
            throw new AlmaException("random-model spec '" + spec + "': hidden " + s[0] + " is not a multiple of heads " + s[3]);
        if (type.blockSize() > 1 && (s[0] % type.blockSize() != 0 || s[1] % type.blockSize() != 0))
            throw new AlmaException("random-model spec '" + spec + "': " + type + " needs hidden and FFN sizes that are multiples of "
                    + type.blockSize());
        try {
            return new Spec(new LlamaConfig(32000, s[0], s[1], s[2], s[3], s[4], s[0] / s[3], 1e-5f, 10000.0, 4096,
                    false, 1, 2, type.name().toLowerCase(Locale.ROOT), false), type);
        } catch (IllegalArgumentException e) {
            throw new AlmaException("random-model spec '" + spec + "': " + e.getMessage());
        }
    }

    private static int[] shape(String spec, String dims) {
        String[] d = dims.split(",", -1);
        if (d.length != 4 && d.length != 5)
            throw new AlmaException("random-model spec '" + spec + "': shape '" + dims
                    + "' is not 7b, 13b or HIDDEN,FFN,LAYERS,HEADS[,KV_HEADS]");
        int[] s = new int[5];
        String[] names = {"hidden", "FFN", "layers", "heads", "kv heads"};
        for (int i = 0; i < d.length; i++) {
            try {
                s[i] = Integer.parseInt(d[i].trim());
            } catch (NumberFormatException e) {
                throw new AlmaException("random-model spec '" + spec + "': " + names[i] + " '" + d[i] + "' is not a number");
            }
            if (s[i] <= 0 || s[i] > LlamaConfig.MAX_DIM)
                throw new AlmaException("random-model spec '" + spec + "': " + names[i] + " " + s[i] + " is out of range");
        }
        if (d.length == 4) s[4] = s[3];
        return s;
    }

    /**
     * The model of {@code spec} on {@code backend}, its weights drawn from {@code seed} by
     * {@link Backend#randomWeight}.
     *
     * @param owned closed with the model (the backend, usually); may be null
     */
    public static LlamaModel create(Spec spec, Backend backend, long seed, AutoCloseable owned) {
        LlamaConfig c = spec.config();
        DType t = spec.type();
        long[] next = {seed};
        BiFunction<String, int[], Weight> matrix = (name, rc) ->
                backend.randomWeight(name, t, rc[0], rc[1], next[0]++, (float) Math.sqrt(3.0 / rc[1]));
        Weight embed = backend.randomWeight("model.embed_tokens.weight", t, c.vocabSize(), c.hiddenSize(), next[0]++, 1f);
        Weight[][] layers = new Weight[c.numLayers()][];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Weight[]{
                    backend.weight(ones(p + "input_layernorm.weight", c.hiddenSize())),
                    matrix.apply(p + "self_attn.q_proj.weight", new int[]{c.qDim(), c.hiddenSize()}),
                    matrix.apply(p + "self_attn.k_proj.weight", new int[]{c.kvDim(), c.hiddenSize()}),
                    matrix.apply(p + "self_attn.v_proj.weight", new int[]{c.kvDim(), c.hiddenSize()}),
                    matrix.apply(p + "self_attn.o_proj.weight", new int[]{c.hiddenSize(), c.qDim()}),
                    backend.weight(ones(p + "post_attention_layernorm.weight", c.hiddenSize())),
                    matrix.apply(p + "mlp.gate_proj.weight", new int[]{c.intermediateSize(), c.hiddenSize()}),
                    matrix.apply(p + "mlp.up_proj.weight", new int[]{c.intermediateSize(), c.hiddenSize()}),
                    matrix.apply(p + "mlp.down_proj.weight", new int[]{c.hiddenSize(), c.intermediateSize()})};
        }
        Weight norm = backend.weight(ones("model.norm.weight", c.hiddenSize()));
        Weight lmHead = matrix.apply("lm_head.weight", new int[]{c.vocabSize(), c.hiddenSize()});
        return LlamaModel.ofWeights(c, backend, embed, layers, norm, lmHead, owned);
    }

    /**
     * A host tensor {@code [rows, cols]} (a vector when {@code rows == 1}) of {@code type} with values uniform in
     * {@code [-scale, scale)}, row {@code r} drawn from {@code seed} and {@code r} (rows are drawn in parallel).
     */
    public static Tensor uniform(String name, DType type, int rows, int cols, long seed, float scale) {
        return uniform(name, type, rows, cols, seed, scale, WeightConversion.automaticMemory("random weight " + name));
    }

    /** {@link #uniform(String, DType, int, int, long, float)} into memory from {@code memory} (bytes → a segment). */
    public static Tensor uniform(String name, DType type, int rows, int cols, long seed, float scale,
                                 LongFunction<MemorySegment> memory) {
        if (!Quantizer.supports(type)) throw new AlmaException("random weights of type " + type + " are not supported");
        if (rows <= 0 || cols <= 0 || cols % type.blockSize() != 0)
            throw new AlmaException("random weight " + name + ": " + rows + "x" + cols + " does not hold whole " + type + " blocks");
        long rowBytes = type.byteSize(cols);
        MemorySegment seg = memory.apply(rowBytes * rows);
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] v = new float[cols];
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + r);
            for (int i = 0; i < cols; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
            Quantizer.encode(type, v, 0, cols, seg.asSlice(r * rowBytes, rowBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
        });
        return new Tensor(name, type, rows == 1 ? new long[]{cols} : new long[]{rows, cols}, seg);
    }

    private static Tensor ones(String name, int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return new Tensor(name, DType.F32, new long[]{n}, MemorySegment.ofArray(v));
    }
}
