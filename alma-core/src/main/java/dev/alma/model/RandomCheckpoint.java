package dev.alma.model;

import dev.alma.io.Json;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

/**
 * Writes a LLaMA checkpoint directory with random float32 weights ({@code config.json} + {@code model.safetensors},
 * Hugging Face names), for tests and benchmarks that need a model of a given shape. Linear weights are drawn
 * uniformly with variance {@code 1/in}, so activations stay of order one; RMSNorm weights are near one.
 *
 * <p>Small models held in memory, with a hook to adjust tensors; the decoding tests' Hugging Face references were
 * computed from exactly these values, so the generator must not change. Large models (any size, GGUF or
 * safetensors, streamed) come from {@link RandomModelWriter}.
 *
 * @param vocab   vocabulary size (BOS is 1, EOS 2)
 * @param hidden  hidden size
 * @param heads   attention heads
 * @param kvHeads key/value heads (grouped-query attention when fewer than {@code heads})
 * @param layers  decoder layers
 * @param ffn     feed-forward size
 */
public record RandomCheckpoint(int vocab, int hidden, int heads, int kvHeads, int layers, int ffn) {

    public RandomCheckpoint {
        if (vocab < 3 || hidden < 1 || heads < 1 || kvHeads < 1 || layers < 1 || ffn < 1 || hidden % heads != 0 || heads % kvHeads != 0)
            throw new IllegalArgumentException("bad random model shape " + vocab + "/" + hidden + "/" + heads + "/" + kvHeads
                    + "/" + layers + "/" + ffn);
    }

    /** Writes the checkpoint into {@code dir} (created if needed). */
    public Path write(Path dir, long seed) {
        return write(dir, seed, (name, values) -> {
        });
    }

    /**
     * Writes the checkpoint into {@code dir}, letting {@code adjust} change each tensor's values (row-major) before
     * they are stored, e.g. to scale a row of {@code lm_head.weight}.
     */
    public Path write(Path dir, long seed, BiConsumer<String, float[]> adjust) {
        int headDim = hidden / heads;
        SplittableRandom random = new SplittableRandom(seed);
        SafeTensorsWriter w = new SafeTensorsWriter();
        add(w, adjust, "model.embed_tokens.weight", random, vocab, hidden, 1.0);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            add(w, adjust, p + "input_layernorm.weight", random, 0, hidden, 0.1);
            add(w, adjust, p + "self_attn.q_proj.weight", random, heads * headDim, hidden, 1.0 / hidden);
            add(w, adjust, p + "self_attn.k_proj.weight", random, kvHeads * headDim, hidden, 1.0 / hidden);
            add(w, adjust, p + "self_attn.v_proj.weight", random, kvHeads * headDim, hidden, 1.0 / hidden);
            add(w, adjust, p + "self_attn.o_proj.weight", random, hidden, heads * headDim, 1.0 / (heads * headDim));
            add(w, adjust, p + "post_attention_layernorm.weight", random, 0, hidden, 0.1);
            add(w, adjust, p + "mlp.gate_proj.weight", random, ffn, hidden, 1.0 / hidden);
            add(w, adjust, p + "mlp.up_proj.weight", random, ffn, hidden, 1.0 / hidden);
            add(w, adjust, p + "mlp.down_proj.weight", random, hidden, ffn, 1.0 / ffn);
        }
        add(w, adjust, "model.norm.weight", random, 0, hidden, 0.1);
        add(w, adjust, "lm_head.weight", random, vocab, hidden, 1.0 / hidden);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", new String[]{"LlamaForCausalLM"});
        config.put("model_type", "llama");
        config.put("hidden_act", "silu");
        config.put("vocab_size", vocab);
        config.put("hidden_size", hidden);
        config.put("intermediate_size", ffn);
        config.put("num_hidden_layers", layers);
        config.put("num_attention_heads", heads);
        config.put("num_key_value_heads", kvHeads);
        config.put("max_position_embeddings", 4096);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 10000.0);
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "float32");
        try {
            Files.createDirectories(dir);
            w.write(dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("config.json"), Json.write(config));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * Adds a random tensor: {@code rows x cols} uniform values of the given variance, or, with {@code rows == 0},
     * a vector of {@code cols} values {@code 1 ± spread}.
     */
    private static void add(SafeTensorsWriter w, BiConsumer<String, float[]> adjust, String name, SplittableRandom random,
                            int rows, int cols, double variance) {
        boolean vector = rows == 0;
        float[] v = new float[vector ? cols : Math.multiplyExact(rows, cols)];
        double half = vector ? variance : Math.sqrt(3 * variance);
        for (int i = 0; i < v.length; i++) v[i] = (float) ((vector ? 1 : 0) + random.nextDouble(-half, half));
        adjust.accept(name, v);
        w.add(name, DType.F32, vector ? new long[]{cols} : new long[]{rows, cols}, v);
    }
}
