package dev.alma.model;

import dev.alma.io.FormatException;
import dev.alma.io.GgufFile;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LLaMA model stored in a GGUF file, presented like a Hugging Face checkpoint: a {@link LlamaConfig} built from
 * the {@code llama.*} metadata and the tensors under Hugging Face names (still views of the mapped file).
 *
 * <p>llama.cpp's converter permutes the rows of {@code attn_q} and {@code attn_k} within each head so that RoPE
 * rotates adjacent pairs; the tensors are left as stored and the config says {@link LlamaConfig#ropeInterleaved()},
 * which is equivalent to undoing the permutation ({@link #ggufRow} maps rows, e.g. for a LoRA adapter's
 * {@code lora_B} of {@code q_proj}/{@code k_proj} applied to these weights). When {@code output.weight} is absent the
 * embedding is tied.
 */
public final class GgufCheckpoint implements AutoCloseable {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d{1,7})\\.(\\w+)\\.weight");
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "attn_q", "self_attn.q_proj", "attn_k", "self_attn.k_proj", "attn_v", "self_attn.v_proj",
            "attn_output", "self_attn.o_proj", "ffn_gate", "mlp.gate_proj", "ffn_up", "mlp.up_proj",
            "ffn_down", "mlp.down_proj", "attn_norm", "input_layernorm", "ffn_norm", "post_attention_layernorm");

    private final GgufFile file;
    private final LlamaConfig config;
    private final Map<String, Tensor> tensors;

    private GgufCheckpoint(GgufFile file, LlamaConfig config, Map<String, Tensor> tensors) {
        this.file = file;
        this.config = config;
        this.tensors = tensors;
    }

    /** Opens and interprets a GGUF file; {@link #close} unmaps it. */
    public static GgufCheckpoint open(java.nio.file.Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            return of(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * The row of a GGUF {@code attn_q}/{@code attn_k} weight that holds Hugging Face row {@code hfRow}: within each
     * head of {@code headDim} rows, Hugging Face row {@code i·headDim/2 + j} (half {@code i}, pair {@code j}) is
     * stored at {@code 2j + i}.
     */
    public static int ggufRow(int hfRow, int headDim) {
        int head = hfRow / headDim, r = hfRow % headDim, half = headDim / 2;
        return head * headDim + 2 * (r % half) + r / half;
    }

    /** Interprets an open GGUF file; its tensors stay valid while {@code file} is open. */
    public static GgufCheckpoint of(GgufFile file) {
        String arch = file.getString("general.architecture");
        if (!arch.equals("llama"))
            throw new FormatException(file.file(), "general.architecture", "'" + arch + "' is not a LLaMA model");
        Tensor embed = file.tensor("token_embd.weight");
        if (embed == null) throw new FormatException(file.file(), "token_embd.weight", "missing");
        if (embed.rank() != 2) throw new FormatException(file.file(), "token_embd.weight", "shape " + embed.shapeString() + " is not a matrix");
        LlamaConfig config = config(file, embed);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Tensor t : file.tensors().values()) {
            String hf = hfName(file, t.name(), config.numLayers());
            tensors.put(hf, new Tensor(hf, t.type(), t.shape(), t.data()));
        }
        checkShapes(file, config, tensors);
        return new GgufCheckpoint(file, config, Collections.unmodifiableMap(tensors));
    }

    private static LlamaConfig config(GgufFile f, Tensor embed) {
        int hidden = f.getInt("llama.embedding_length");
        int heads = f.getInt("llama.attention.head_count");
        int kvHeads = f.getInt("llama.attention.head_count_kv", heads);
        int headDim = f.getInt("llama.attention.key_length", f.getInt("llama.rope.dimension_count", heads > 0 ? hidden / heads : 0));
        int ropeDim = f.getInt("llama.rope.dimension_count", headDim);
        if (ropeDim != headDim)
            throw new FormatException(f.file(), "llama.rope.dimension_count", ropeDim + " differs from the head size " + headDim + " (partial RoPE is not supported)");
        if (f.has("llama.attention.value_length") && f.getInt("llama.attention.value_length") != headDim)
            throw new FormatException(f.file(), "llama.attention.value_length", "differs from the key length " + headDim);
        if (f.has("llama.rope.scaling.type") && !f.getString("llama.rope.scaling.type").equals("none"))
            throw new FormatException(f.file(), "llama.rope.scaling.type", "RoPE scaling '" + f.getString("llama.rope.scaling.type") + "' is not supported");
        int vocab = embed.rows();
        if (f.has("tokenizer.ggml.tokens") && f.getArray("tokenizer.ggml.tokens").size() > vocab)
            throw new FormatException(f.file(), "tokenizer.ggml.tokens", f.getArray("tokenizer.ggml.tokens").size()
                    + " tokens but token_embd.weight has only " + vocab + " rows");
        int bos = f.getInt("tokenizer.ggml.bos_token_id", 1), eos = f.getInt("tokenizer.ggml.eos_token_id", 2);
        if (bos < 0 || bos >= vocab)
            throw new FormatException(f.file(), "tokenizer.ggml.bos_token_id", bos + " is not a token id (0.." + (vocab - 1) + ")");
        if (eos < 0 || eos >= vocab)
            throw new FormatException(f.file(), "tokenizer.ggml.eos_token_id", eos + " is not a token id (0.." + (vocab - 1) + ")");
        try {
            return new LlamaConfig(
                    vocab, hidden,
                    f.getInt("llama.feed_forward_length"),
                    f.getInt("llama.block_count"),
                    heads, kvHeads, headDim,
                    f.getFloat("llama.attention.layer_norm_rms_epsilon"),
                    f.getDouble("llama.rope.freq_base", 10000.0),
                    f.getInt("llama.context_length"),
                    f.tensor("output.weight") == null,
                    bos, eos,
                    dtypeName(f),
                    true);
        } catch (IllegalArgumentException e) {
            throw new FormatException(f.file(), "llama.*", e.getMessage());
        }
    }

    /** The storage type of the attention weights, in the spelling of {@code config.json}'s dtype where one exists. */
    private static String dtypeName(GgufFile f) {
        Tensor q = f.tensor("blk.0.attn_q.weight");
        DType t = q == null ? DType.F32 : q.type();
        return switch (t) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> t.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String hfName(GgufFile f, String name, int layers) {
        switch (name) {
            case "token_embd.weight":
                return "model.embed_tokens.weight";
            case "output_norm.weight":
                return "model.norm.weight";
            case "output.weight":
                return "lm_head.weight";
            default:
        }
        Matcher m = BLOCK.matcher(name);
        if (m.matches() && LAYER_NAMES.containsKey(m.group(2))) {
            int layer = Integer.parseInt(m.group(1));
            if (layer >= layers)
                throw new FormatException(f.file(), name, "layer " + layer + " is beyond llama.block_count " + layers);
            return "model.layers." + layer + "." + LAYER_NAMES.get(m.group(2)) + ".weight";
        }
        throw new FormatException(f.file(), name, "is not a tensor of a LLaMA model");
    }

    /** Every tensor a LLaMA model needs is present with the shape the config implies. */
    private static void checkShapes(GgufFile f, LlamaConfig c, Map<String, Tensor> tensors) {
        long h = c.hiddenSize(), ffn = c.intermediateSize();
        expect(f, tensors, "model.embed_tokens.weight", c.vocabSize(), h);
        expect(f, tensors, "model.norm.weight", h);
        if (!c.tieWordEmbeddings()) expect(f, tensors, "lm_head.weight", c.vocabSize(), h);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            expect(f, tensors, p + "self_attn.q_proj.weight", c.qDim(), h);
            expect(f, tensors, p + "self_attn.k_proj.weight", c.kvDim(), h);
            expect(f, tensors, p + "self_attn.v_proj.weight", c.kvDim(), h);
            expect(f, tensors, p + "self_attn.o_proj.weight", h, c.qDim());
            expect(f, tensors, p + "mlp.gate_proj.weight", ffn, h);
            expect(f, tensors, p + "mlp.up_proj.weight", ffn, h);
            expect(f, tensors, p + "mlp.down_proj.weight", h, ffn);
            expect(f, tensors, p + "input_layernorm.weight", h);
            expect(f, tensors, p + "post_attention_layernorm.weight", h);
        }
    }

    private static void expect(GgufFile f, Map<String, Tensor> tensors, String name, long... shape) {
        Tensor t = tensors.get(name);
        if (t == null) throw new FormatException(f.file(), ggufName(name), "missing");
        if (!Arrays.equals(t.shape(), shape))
            throw new FormatException(f.file(), ggufName(name), "shape " + t.shapeString() + ", expected "
                    + Arrays.toString(shape) + " from the llama.* metadata");
    }

    /** llama.cpp's name of a Hugging Face tensor name (for error messages). */
    static String ggufName(String hf) {
        switch (hf) {
            case "model.embed_tokens.weight":
                return "token_embd.weight";
            case "model.norm.weight":
                return "output_norm.weight";
            case "lm_head.weight":
                return "output.weight";
            default:
        }
        for (Map.Entry<String, String> e : LAYER_NAMES.entrySet()) {
            String suffix = "." + e.getValue() + ".weight";
            if (hf.startsWith("model.layers.") && hf.endsWith(suffix))
                return "blk." + hf.substring("model.layers.".length(), hf.length() - suffix.length()) + "." + e.getKey() + ".weight";
        }
        return hf;
    }

    /** The model's hyper-parameters ({@link LlamaConfig#ropeInterleaved()} is true). */
    public LlamaConfig config() {
        return config;
    }

    /** Tensors under Hugging Face names ({@code model.layers.N.self_attn.q_proj.weight}, ...), in file order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The GGUF file these tensors are mapped from. */
    public GgufFile file() {
        return file;
    }

    /** The tokenizer in the {@code tokenizer.ggml.*} metadata; a missing {@code tokenizer.ggml.tokens} is a format error. */
    public GgufVocabulary vocabulary() {
        return vocabulary(file);
    }

    /** The tokenizer in a GGUF file's {@code tokenizer.ggml.*} metadata. */
    public static GgufVocabulary vocabulary(GgufFile f) {
        String[] tokens = f.getArray("tokenizer.ggml.tokens").strings();
        float[] scores = f.has("tokenizer.ggml.scores") ? f.getArray("tokenizer.ggml.scores").floats() : null;
        int[] types = f.has("tokenizer.ggml.token_type") ? f.getArray("tokenizer.ggml.token_type").ints() : null;
        sameLength(f, "tokenizer.ggml.scores", scores == null ? -1 : scores.length, tokens.length);
        sameLength(f, "tokenizer.ggml.token_type", types == null ? -1 : types.length, tokens.length);
        int bos = tokenId(f, "tokenizer.ggml.bos_token_id", tokens.length);
        int eos = tokenId(f, "tokenizer.ggml.eos_token_id", tokens.length);
        int unk = tokenId(f, "tokenizer.ggml.unknown_token_id", tokens.length);
        Boolean space = f.has("tokenizer.ggml.add_space_prefix") ? f.getBoolean("tokenizer.ggml.add_space_prefix", true) : null;
        Boolean addBos = f.has("tokenizer.ggml.add_bos_token") ? f.getBoolean("tokenizer.ggml.add_bos_token", true) : null;
        return new GgufVocabulary(f.getString("tokenizer.ggml.model", "llama"), tokens, scores, types, bos, eos, unk, space, addBos);
    }

    private static void sameLength(GgufFile f, String key, int n, int tokens) {
        if (n >= 0 && n != tokens)
            throw new FormatException(f.file(), key, n + " entries for " + tokens + " tokens");
    }

    private static int tokenId(GgufFile f, String key, int tokens) {
        if (!f.has(key)) return -1;
        int id = f.getInt(key);
        if (id < 0 || id >= tokens) throw new FormatException(f.file(), key, id + " is not a token id (0.." + (tokens - 1) + ")");
        return id;
    }

    /** Unmaps the GGUF file; the tensors must not be used afterwards. */
    @Override
    public void close() {
        file.close();
    }

    @Override
    public String toString() {
        return "GGUF checkpoint " + file.file() + " " + config;
    }
}
