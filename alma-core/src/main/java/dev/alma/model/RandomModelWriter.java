package dev.alma.model;

import dev.alma.io.GgufFile;
import dev.alma.io.GgufWriter;
import dev.alma.io.Quantizer;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.io.Json;
import dev.alma.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a LLaMA-2 checkpoint of any shape with random weights, for benchmarks and tests that need no download:
 * a GGUF file in llama.cpp's layout (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K matrices; norms in F32; complete {@code llama.*}
 * and {@code tokenizer.ggml.*} metadata so that llama.cpp loads it too) or a Hugging Face directory
 * ({@code config.json} + {@code model.safetensors}, F32/F16/BF16). Weights are uniform with standard deviation
 * {@code 1/sqrt(fan-in)}, norm scales around 1; every value is a function of the seed and the tensor name, and
 * rows are streamed so that multi-GB files never sit on the heap.
 */
public final class RandomModelWriter {

    /**
     * The shape of the model.
     *
     * @param kvHeads key/value heads ({@code heads} for multi-head attention)
     */
    public record Shape(int hidden, int ffn, int layers, int heads, int kvHeads, int vocab, int context) {
        public Shape {
            config(hidden, ffn, layers, heads, kvHeads, vocab, context);  // checks the sizes
            if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
            if (vocab < 3) throw new IllegalArgumentException("vocab " + vocab + " has no room for <unk>, <s>, </s>");
        }

        /** The hyper-parameters of this shape (RMSNorm epsilon 1e-5, RoPE base 10000, BOS 1, EOS 2). */
        LlamaConfig config() {
            return config(hidden, ffn, layers, heads, kvHeads, vocab, context);
        }

        private static LlamaConfig config(int hidden, int ffn, int layers, int heads, int kvHeads, int vocab, int context) {
            return new LlamaConfig(vocab, hidden, ffn, layers, heads, kvHeads, hidden / Math.max(1, heads), 1e-5f, 10000,
                    context, false, 1, 2, "float32", false);
        }

        int headDim() {
            return hidden / heads;
        }

        int kvDim() {
            return kvHeads * headDim();
        }

        /** Parameters of the model (embedding and output counted separately). */
        public long parameters() {
            long perLayer = 2L * hidden * hidden + 2L * hidden * kvDim() + 3L * hidden * ffn + 2L * hidden;
            return 2L * vocab * hidden + layers * perLayer + hidden;
        }
    }

    private RandomModelWriter() {
    }

    /**
     * Writes a GGUF file. The vocabulary ({@code tokenizer.ggml.*}) is copied from {@code vocabFrom} when given
     * (it must have at most {@code shape.vocab()} tokens; the rest are filled with placeholder pieces), otherwise
     * made of placeholder pieces {@code <unk> <s> </s> ▁t3 ▁t4 ...}.
     */
    public static void writeGguf(Path file, Shape s, DType type, long seed, Path vocabFrom) {
        if (!Quantizer.supports(type) || type.blockSize() > 1 && s.hidden % type.blockSize() != 0
                || type.blockSize() > 1 && s.ffn % type.blockSize() != 0)
            throw new IllegalArgumentException("cannot write " + type + " matrices of width " + s.hidden + " and " + s.ffn);
        GgufWriter w = new GgufWriter();
        GgufExport.putModel(w, "random " + s.parameters() / 1_000_000 + "M", s.config(), type);
        putVocabulary(w, s.vocab, vocabFrom);
        w.tensor("token_embd.weight", type, new long[]{s.vocab, s.hidden}, rows(seed, "token_embd", 1f));
        for (int l = 0; l < s.layers; l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_norm.weight", DType.F32, new long[]{s.hidden}, norm(seed, b + "attn_norm"));
            w.tensor(b + "attn_q.weight", type, new long[]{s.hidden, s.hidden}, rows(seed, b + "attn_q", s.hidden));
            w.tensor(b + "attn_k.weight", type, new long[]{s.kvDim(), s.hidden}, rows(seed, b + "attn_k", s.hidden));
            w.tensor(b + "attn_v.weight", type, new long[]{s.kvDim(), s.hidden}, rows(seed, b + "attn_v", s.hidden));
            w.tensor(b + "attn_output.weight", type, new long[]{s.hidden, s.hidden}, rows(seed, b + "attn_output", s.hidden));
            w.tensor(b + "ffn_norm.weight", DType.F32, new long[]{s.hidden}, norm(seed, b + "ffn_norm"));
            w.tensor(b + "ffn_gate.weight", type, new long[]{s.ffn, s.hidden}, rows(seed, b + "ffn_gate", s.hidden));
            w.tensor(b + "ffn_up.weight", type, new long[]{s.ffn, s.hidden}, rows(seed, b + "ffn_up", s.hidden));
            w.tensor(b + "ffn_down.weight", type, new long[]{s.hidden, s.ffn}, rows(seed, b + "ffn_down", s.ffn));
        }
        w.tensor("output_norm.weight", DType.F32, new long[]{s.hidden}, norm(seed, "output_norm"));
        w.tensor("output.weight", type, new long[]{s.vocab, s.hidden}, rows(seed, "output", s.hidden));
        w.write(file);
    }

    /**
     * Writes a Hugging Face checkpoint directory: {@code config.json} and one {@code model.safetensors} with F32,
     * F16 or BF16 weights (the layout transformers saves, Q/K not permuted).
     */
    public static void writeSafetensors(Path dir, Shape s, DType type, long seed) {
        if (type != DType.F32 && type != DType.F16 && type != DType.BF16)
            throw new IllegalArgumentException("safetensors checkpoints hold F32, F16 or BF16 weights, not " + type);
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        add(w, "model.embed_tokens.weight", type, s.vocab, s.hidden, rows(seed, "token_embd", 1f));
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".", b = "blk." + l + ".";
            add(w, p + "input_layernorm.weight", type, 1, s.hidden, norm(seed, b + "attn_norm"));
            add(w, p + "self_attn.q_proj.weight", type, s.hidden, s.hidden, rows(seed, b + "attn_q", s.hidden));
            add(w, p + "self_attn.k_proj.weight", type, s.kvDim(), s.hidden, rows(seed, b + "attn_k", s.hidden));
            add(w, p + "self_attn.v_proj.weight", type, s.kvDim(), s.hidden, rows(seed, b + "attn_v", s.hidden));
            add(w, p + "self_attn.o_proj.weight", type, s.hidden, s.hidden, rows(seed, b + "attn_output", s.hidden));
            add(w, p + "post_attention_layernorm.weight", type, 1, s.hidden, norm(seed, b + "ffn_norm"));
            add(w, p + "mlp.gate_proj.weight", type, s.ffn, s.hidden, rows(seed, b + "ffn_gate", s.hidden));
            add(w, p + "mlp.up_proj.weight", type, s.ffn, s.hidden, rows(seed, b + "ffn_up", s.hidden));
            add(w, p + "mlp.down_proj.weight", type, s.hidden, s.ffn, rows(seed, b + "ffn_down", s.ffn));
        }
        add(w, "model.norm.weight", type, 1, s.hidden, norm(seed, "output_norm"));
        add(w, "lm_head.weight", type, s.vocab, s.hidden, rows(seed, "output", s.hidden));
        try {
            Files.createDirectories(dir);
            w.write(dir.resolve("model.safetensors"));
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("architectures", List.of("LlamaForCausalLM"));
            c.put("model_type", "llama");
            c.put("hidden_act", "silu");
            c.put("hidden_size", s.hidden);
            c.put("intermediate_size", s.ffn);
            c.put("num_hidden_layers", s.layers);
            c.put("num_attention_heads", s.heads);
            c.put("num_key_value_heads", s.kvHeads);
            c.put("max_position_embeddings", s.context);
            c.put("rms_norm_eps", 1e-5);
            c.put("rope_theta", 10000.0);
            c.put("vocab_size", s.vocab);
            c.put("bos_token_id", 1);
            c.put("eos_token_id", 2);
            c.put("tie_word_embeddings", false);
            c.put("torch_dtype", switch (type) {
                case F16 -> "float16";
                case BF16 -> "bfloat16";
                default -> "float32";
            });
            Files.writeString(dir.resolve("config.json"), Json.write(c));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir, e);
        }
    }

    private static void putVocabulary(GgufWriter w, int vocab, Path vocabFrom) {
        String[] tokens = new String[vocab];
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        int copied = 0;
        String model = "llama";
        if (vocabFrom != null) {
            try (GgufFile f = GgufFile.open(vocabFrom)) {
                String[] t = f.getArray("tokenizer.ggml.tokens").strings();
                if (t.length > vocab)
                    throw new IllegalArgumentException(vocabFrom + " has " + t.length + " tokens, more than the vocab of " + vocab);
                float[] sc = f.getArray("tokenizer.ggml.scores").floats();
                int[] ty = f.getArray("tokenizer.ggml.token_type").ints();
                System.arraycopy(t, 0, tokens, 0, t.length);
                System.arraycopy(sc, 0, scores, 0, t.length);
                System.arraycopy(ty, 0, types, 0, t.length);
                model = f.getString("tokenizer.ggml.model", "llama");
                copied = t.length;
            }
        }
        for (int i = copied; i < vocab; i++) {
            tokens[i] = i < 3 ? List.of("<unk>", "<s>", "</s>").get(i) : "▁t" + i;
            scores[i] = -i;
            types[i] = i == 0 ? 2 : i < 3 ? 3 : 1;
        }
        GgufExport.putVocabulary(w, model, tokens, scores, types, 1, 2, 0);
        w.putUInt32("tokenizer.ggml.padding_token_id", 0);
    }

    /** Uniform rows with standard deviation {@code 1/sqrt(fanIn)}, seeded by the tensor name. */
    private static GgufWriter.Rows rows(long seed, String name, float fanIn) {
        return GgufWriter.randomRows(seed * 1_000_003L + name.hashCode(), (float) Math.sqrt(3.0 / fanIn));
    }

    /** A norm scale: {@code 1 ± 0.1}. */
    private static GgufWriter.Rows norm(long seed, String name) {
        GgufWriter.Rows noise = GgufWriter.randomRows(seed * 1_000_003L + name.hashCode(), 0.1f);
        return (r, out) -> {
            noise.row(r, out);
            for (int i = 0; i < out.length; i++) out[i] += 1f;
        };
    }

    /** Adds a matrix (or a vector when {@code rows == 1}) streamed row by row as {@code type}. */
    private static void add(SafeTensorsWriter w, String name, DType type, int rows, int cols, GgufWriter.Rows src) {
        long[] shape = rows == 1 ? new long[]{cols} : new long[]{rows, cols};
        w.add(name, type, shape, out -> {
            float[] row = new float[cols];
            ByteBuffer buf = ByteBuffer.allocate((int) type.byteSize(cols)).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r++) {
                src.row(r, row);
                buf.clear();
                Quantizer.encode(type, row, 0, cols, buf);
                out.write(buf.array(), 0, buf.position());
            }
        });
    }
}
