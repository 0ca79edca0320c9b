package dev.alma.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;

import java.nio.file.Path;

/**
 * Hyper-parameters of a LLaMA-2 model, read from a Hugging Face {@code config.json} (transformers 4.x field names
 * such as {@code rope_theta}/{@code torch_dtype}, and 5.x names such as {@code rope_parameters}/{@code dtype}) or
 * built by another loader (GGUF).
 *
 * @param ropeInterleaved true when Q/K rows are stored in llama.cpp's interleaved-pair order (GGUF files), so
 *                        RoPE rotates adjacent pairs instead of the two halves of each head
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        float rmsNormEps,
        double ropeTheta,
        int maxPositions,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId,
        String dtype,
        boolean ropeInterleaved) {

    /** Largest dimension accepted from a file: guards against absurd sizes before anything is allocated. */
    public static final int MAX_DIM = 1 << 20;

    public LlamaConfig {
        check(vocabSize, "vocab_size");
        check(hiddenSize, "hidden_size");
        check(intermediateSize, "intermediate_size");
        check(numLayers, "num_hidden_layers");
        check(numHeads, "num_attention_heads");
        check(numKvHeads, "num_key_value_heads");
        check(headDim, "head_dim");
        check(maxPositions, "max_position_embeddings");
        if (numHeads % numKvHeads != 0)
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads " + numKvHeads);
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " must be even for RoPE");
        if (!(rmsNormEps > 0)) throw new IllegalArgumentException("rms_norm_eps " + rmsNormEps + " must be positive");
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rope_theta " + ropeTheta + " must be positive");
    }

    private static void check(int v, String field) {
        if (v <= 0 || v > MAX_DIM) throw new IllegalArgumentException(field + " " + v + " is out of range 1.." + MAX_DIM);
    }

    /** Query heads per key/value head (1 for multi-head attention). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Width of the key and value projections. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Width of the query projection. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** The same configuration with RoPE on interleaved pairs (see {@link #ropeInterleaved}). */
    public LlamaConfig withRopeInterleaved(boolean interleaved) {
        return new LlamaConfig(vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, maxPositions, tieWordEmbeddings, bosTokenId, eosTokenId, dtype, interleaved);
    }

    /** Reads {@code config.json}; errors name the file and the field. */
    public static LlamaConfig read(Path configJson) {
        return fromJson(configJson, Json.read(configJson));
    }

    /** Interprets a parsed {@code config.json}; {@code file} is used in error messages. */
    public static LlamaConfig fromJson(Path file, JsonNode c) {
        if (!c.isObject()) throw new FormatException(file, null, "is not a JSON object");
        String type = text(c, "model_type", "llama");
        if (!type.equals("llama") && !type.equals("mistral"))
            throw new FormatException(file, "model_type", "'" + type + "' is not a LLaMA model");
        String act = text(c, "hidden_act", "silu");
        if (!act.equals("silu")) throw new FormatException(file, "hidden_act", "'" + act + "' is not supported (only silu)");
        if (c.path("attention_bias").asBoolean(false))
            throw new FormatException(file, "attention_bias", "attention biases are not supported");
        if (c.path("mlp_bias").asBoolean(false))
            throw new FormatException(file, "mlp_bias", "MLP biases are not supported");
        int hidden = integer(file, c, "hidden_size", null);
        int heads = integer(file, c, "num_attention_heads", null);
        int kvHeads = integer(file, c, "num_key_value_heads", heads);
        int headDim = c.hasNonNull("head_dim") ? integer(file, c, "head_dim", null) : hidden / Math.max(1, heads);
        double theta = 10000.0;
        JsonNode rp = c.get("rope_parameters");
        JsonNode rs = c.get("rope_scaling");
        if (c.hasNonNull("rope_theta")) theta = number(file, c, "rope_theta");
        if (rp != null && rp.isObject()) {
            if (rp.hasNonNull("rope_theta")) theta = number(file, rp, "rope_parameters.rope_theta");
            checkRopeType(file, rp.path("rope_type").asText("default"), "rope_parameters.rope_type");
        }
        if (rs != null && rs.isObject())
            checkRopeType(file, rs.path("rope_type").asText(rs.path("type").asText("default")), "rope_scaling");
        int eos = c.path("eos_token_id").isArray() ? c.path("eos_token_id").path(0).asInt(2) : c.path("eos_token_id").asInt(2);
        try {
            return new LlamaConfig(
                    integer(file, c, "vocab_size", null),
                    hidden,
                    integer(file, c, "intermediate_size", null),
                    integer(file, c, "num_hidden_layers", null),
                    heads, kvHeads, headDim,
                    (float) (c.hasNonNull("rms_norm_eps") ? number(file, c, "rms_norm_eps") : 1e-6),
                    theta,
                    integer(file, c, "max_position_embeddings", 4096),
                    c.path("tie_word_embeddings").asBoolean(false),
                    c.path("bos_token_id").asInt(1),
                    eos,
                    text(c, "dtype", text(c, "torch_dtype", "float32")),
                    false);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, null, e.getMessage());
        }
    }

    private static void checkRopeType(Path file, String ropeType, String field) {
        if (!ropeType.equals("default"))
            throw new FormatException(file, field, "RoPE scaling '" + ropeType + "' is not supported");
    }

    private static String text(JsonNode c, String field, String dflt) {
        JsonNode v = c.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static int integer(Path file, JsonNode c, String field, Integer dflt) {
        JsonNode v = c.get(field);
        if (v == null || v.isNull()) {
            if (dflt == null) throw new FormatException(file, field, "missing");
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt())
            throw new FormatException(file, field, "'" + v + "' is not an integer");
        int x = v.asInt();
        if (x <= 0 || x > MAX_DIM) throw new FormatException(file, field, x + " is out of range 1.." + MAX_DIM);
        return x;
    }

    private static double number(Path file, JsonNode c, String field) {
        String leaf = field.substring(field.lastIndexOf('.') + 1);
        JsonNode v = c.get(leaf);
        if (v == null || !v.isNumber()) throw new FormatException(file, field, "'" + v + "' is not a number");
        return v.asDouble();
    }
}
