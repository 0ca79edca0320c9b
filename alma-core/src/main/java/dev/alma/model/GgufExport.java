package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.io.GgufWriter;
import dev.alma.io.Quantizer;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import dev.alma.tokenizer.SentencePieceTokenizer;
import dev.alma.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a model as a GGUF file in the layout llama.cpp's {@code convert_hf_to_gguf.py} gives a LLaMA checkpoint:
 * llama.cpp's tensor names, the rows of {@code attn_q}/{@code attn_k} permuted for its interleaved RoPE, the
 * {@code llama.*} hyper-parameters and the SentencePiece vocabulary as {@code tokenizer.ggml.*}. The matrices are
 * stored as the requested type (quantized by {@link Quantizer}: llama.cpp's block formats, rounding as its C
 * quantizer), the norms as F32. LoRA adapters are merged on the way ({@code W + scale · B·A}), so a fine-tuned
 * ALMA model (a base plus its stage-2 adapter) becomes one file that alma, llama.cpp and the tools built on it load.
 *
 * <p>The source is a Hugging Face checkpoint directory (with {@code tokenizer.model}) or a GGUF file; its weights
 * are decoded a block of rows at a time, so a 7B model never sits on the heap.
 */
public final class GgufExport {
    /** Rows decoded per step of a matrix's source (in parallel, by the CPU backend's row decoders). */
    private static final int ROWS_PER_STEP = 256;

    private GgufExport() {
    }

    /**
     * What {@link #write} wrote.
     *
     * @param tensors    tensors in the file
     * @param parameters values in them
     * @param fallbacks  matrices stored as F16 because their rows are not whole blocks of the requested type (as
     *                   llama.cpp's converter does), by name
     */
    public record Result(int tensors, long parameters, List<String> fallbacks) {
    }

    /**
     * Writes {@code model} (with {@code loras} merged) to {@code out} with its matrices as {@code type}.
     *
     * @throws AlmaException            if the model's vocabulary is not a SentencePiece one, an adapter does not fit,
     *                                  or {@code type} cannot be written
     * @throws dev.alma.io.FormatException for a malformed model or adapter
     */
    public static Result write(Path model, List<Path> loras, DType type, Path out) {
        return write(model, loras, type, out, (done, total) -> {
        });
    }

    /**
     * As {@link #write(Path, List, DType, Path)}, calling {@code progress} with the tensor bytes written so far and
     * their total as the file is written.
     */
    public static Result write(Path model, List<Path> loras, DType type, Path out,
                               java.util.function.BiConsumer<Long, Long> progress) {
        if (!Quantizer.supports(type))
            throw new AlmaException("cannot write GGUF matrices of type " + type);
        Tokenizer tokenizer = Tokenizer.load(model);
        if (!(tokenizer instanceof SentencePieceTokenizer sp))
            throw new AlmaException(model + ": GGUF export needs a SentencePiece vocabulary (tokenizer.model, or a GGUF"
                    + " file's), not " + tokenizer.getClass().getSimpleName());
        List<LoraAdapter> adapters = new ArrayList<>();
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            for (Path dir : loras) adapters.add(LoraAdapter.open(dir));
            LlamaConfig c = ckpt.config();
            if (sp.vocabSize() > c.vocabSize())
                throw new AlmaException(model + ": the tokenizer has " + sp.vocabSize() + " pieces, more than the model's "
                        + c.vocabSize() + " embeddings");
            Map<String, LoraAdapter.Delta> deltas = deltas(adapters);
            GgufWriter w = new GgufWriter();
            metadata(w, c, type, name(model), sp);
            Map<String, Tensor> all = ckpt.tensors();
            List<String> fallbacks = new ArrayList<>();
            long parameters = 0;
            int count = 0;
            for (String hf : tensorOrder(c, all.containsKey("lm_head.weight"))) {
                Tensor t = all.get(hf);
                if (t == null) throw new AlmaException(model + ": tensor " + hf + " is missing");
                String gguf = GgufCheckpoint.ggufName(hf);
                LoraAdapter.Delta d = deltas.remove(hf);
                if (t.rank() == 1) {
                    if (d != null) throw new AlmaException(hf + ": a LoRA adapter targets a vector");
                    if (t.type() != DType.F32 && t.type() != DType.F16 && t.type() != DType.BF16)
                        throw new AlmaException(model + ": " + hf + " is a " + t.type() + " vector; norms are F32, F16 or BF16");
                    w.tensor(gguf, DType.F32, t.shape(), t.toFloatArray());
                } else {
                    DType as = t.cols() % type.blockSize() == 0 ? type : DType.F16;
                    if (as != type) fallbacks.add(gguf);
                    boolean qk = hf.endsWith(".q_proj.weight") || hf.endsWith(".k_proj.weight");
                    w.tensor(gguf, as, t.shape(), new RowSource(t, d, qk ? c.headDim() : 0, c.ropeInterleaved()));
                }
                parameters += t.count();
                count++;
            }
            if (!deltas.isEmpty())
                throw new AlmaException("a LoRA adapter targets " + deltas.keySet().iterator().next() + ", which the model does not have");
            long total = w.tensorBytes();
            w.progress(done -> progress.accept(done, total)).write(out);
            return new Result(count, parameters, List.copyOf(fallbacks));
        } finally {
            for (LoraAdapter a : adapters) a.close();
        }
    }

    /** Every adapter's deltas by the weight they target, each weight adapted at most once. */
    private static Map<String, LoraAdapter.Delta> deltas(List<LoraAdapter> adapters) {
        Map<String, LoraAdapter.Delta> deltas = new HashMap<>();
        for (LoraAdapter a : adapters)
            for (var e : a.deltas().entrySet())
                if (deltas.put(e.getKey(), e.getValue()) != null)
                    throw new AlmaException(e.getKey() + " is adapted by more than one LoRA adapter");
        return deltas;
    }

    /** Hugging Face names of the tensors to write, in the order llama.cpp's converter writes them. */
    private static List<String> tensorOrder(LlamaConfig c, boolean lmHead) {
        List<String> names = new ArrayList<>();
        names.add("model.embed_tokens.weight");
        if (lmHead) names.add("lm_head.weight");
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            for (String s : new String[]{"input_layernorm", "mlp.down_proj", "mlp.gate_proj", "mlp.up_proj",
                    "post_attention_layernorm", "self_attn.k_proj", "self_attn.o_proj", "self_attn.q_proj", "self_attn.v_proj"})
                names.add(p + s + ".weight");
        }
        names.add("model.norm.weight");
        return names;
    }

    private static String name(Path model) {
        String n = model.getFileName() == null ? "model" : model.getFileName().toString();
        if (Files.isDirectory(model)) return n;
        return n.toLowerCase(Locale.ROOT).endsWith(".gguf") ? n.substring(0, n.length() - 5) : n;
    }

    private static void metadata(GgufWriter w, LlamaConfig c, DType type, String name, SentencePieceTokenizer sp) {
        putModel(w, name, c, type);
        int n = c.vocabSize();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            // embeddings past the vocabulary (a padded table) get unused placeholder pieces, as llama.cpp's converter
            boolean real = i < sp.vocabSize();
            tokens[i] = real ? sp.piece(i) : "[PAD" + i + "]";
            scores[i] = real ? sp.score(i) : -1000f;
            types[i] = real ? sp.type(i) : SentencePieceTokenizer.UNUSED;
        }
        putVocabulary(w, "llama", tokens, scores, types, sp.bosId(), sp.eosId(), sp.unkId());
        // llama.cpp's converter leaves this out for LLaMA (true is the reader's default); a model without the prefix says so
        if (!sp.addsDummyPrefix()) w.putBool("tokenizer.ggml.add_space_prefix", false);
    }

    /**
     * The {@code general.*} and {@code llama.*} keys llama.cpp reads for a LLaMA model with hyper-parameters {@code c}
     * whose matrices are {@code type} (also {@link RandomModelWriter}'s).
     */
    static void putModel(GgufWriter w, String name, LlamaConfig c, DType type) {
        w.putString("general.architecture", "llama")
                .putString("general.type", "model")
                .putString("general.name", name)
                .putUInt32("general.file_type", fileType(type))
                .putUInt32("general.quantization_version", 2)
                .putUInt32("llama.block_count", c.numLayers())
                .putUInt32("llama.context_length", c.maxPositions())
                .putUInt32("llama.embedding_length", c.hiddenSize())
                .putUInt32("llama.feed_forward_length", c.intermediateSize())
                .putUInt32("llama.attention.head_count", c.numHeads())
                .putUInt32("llama.attention.head_count_kv", c.numKvHeads())
                .putUInt32("llama.attention.key_length", c.headDim())
                .putUInt32("llama.attention.value_length", c.headDim())
                .putUInt32("llama.rope.dimension_count", c.headDim())
                .putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
                .putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps())
                .putUInt32("llama.vocab_size", c.vocabSize());
    }

    /**
     * The {@code tokenizer.ggml.*} keys of a vocabulary ({@code model} "llama": SentencePiece pieces, scores and
     * token types); a BOS or EOS id below 0 is left out (also {@link RandomModelWriter}'s).
     */
    static void putVocabulary(GgufWriter w, String model, String[] tokens, float[] scores, int[] types, int bos, int eos,
                              int unk) {
        w.putString("tokenizer.ggml.model", model)
                .putString("tokenizer.ggml.pre", "default")
                .putStrings("tokenizer.ggml.tokens", tokens)
                .putFloat32s("tokenizer.ggml.scores", scores)
                .putInt32s("tokenizer.ggml.token_type", types);
        if (bos >= 0) w.putUInt32("tokenizer.ggml.bos_token_id", bos);
        if (eos >= 0) w.putUInt32("tokenizer.ggml.eos_token_id", eos);
        w.putUInt32("tokenizer.ggml.unknown_token_id", unk)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putBool("tokenizer.ggml.add_eos_token", false);
    }

    /** llama.cpp's {@code general.file_type} (LLAMA_FTYPE_*) of a model whose matrices are {@code type}. */
    static int fileType(DType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 14;  // MOSTLY_Q4_K_S: every matrix Q4_K
            case Q5_K -> 16;  // MOSTLY_Q5_K_S
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no GGUF file type for " + type);
        };
    }

    /**
     * The rows of a matrix in GGUF order: decoded {@link #ROWS_PER_STEP} at a time, a LoRA delta added in the
     * Hugging Face row it belongs to, and for {@code attn_q}/{@code attn_k} ({@code headDim > 0}) GGUF row {@code g}
     * taken from the Hugging Face row {@link GgufCheckpoint#ggufRow} sends there, unless the source is stored
     * permuted already (a GGUF source, {@code interleaved}).
     */
    private static final class RowSource implements GgufWriter.Rows {
        private final Tensor t;
        private final int cols, headDim;
        private final boolean interleaved;
        private final float[] a, b;  // the LoRA delta's A [r, cols] and B [rows, r] (null without one)
        private final int rank;
        private final float scale;
        private final float[] block;
        private int first = -1;

        RowSource(Tensor t, LoraAdapter.Delta d, int headDim, boolean interleaved) {
            this.t = t;
            this.cols = t.cols();
            this.headDim = headDim;
            this.interleaved = interleaved;
            if (d != null) {
                if (d.a().dim(1) != cols || d.b().dim(0) != t.rows() || d.a().dim(0) != d.b().dim(1))
                    throw new AlmaException("LoRA for " + t.name() + ": A " + d.a().shapeString() + " and B "
                            + d.b().shapeString() + " do not fit a " + t.rows() + "x" + cols + " weight");
                this.a = d.a().toFloatArray();
                this.b = d.b().toFloatArray();
                this.rank = d.a().rows();
                this.scale = d.scale();
            } else {
                this.a = null;
                this.b = null;
                this.rank = 0;
                this.scale = 0;
            }
            this.block = new float[Math.min(ROWS_PER_STEP, t.rows()) * cols];
        }

        /** The Hugging Face row stored at GGUF row {@code g} ({@link GgufCheckpoint#ggufRow} inverted). */
        private int hfRow(int g) {
            if (headDim == 0) return g;
            int head = g / headDim, rem = g % headDim;
            return head * headDim + (rem % 2) * (headDim / 2) + rem / 2;
        }

        @Override
        public void row(long r, float[] out) {
            int g = Math.toIntExact(r), h = hfRow(g), stored = interleaved ? g : h;
            int start = stored / ROWS_PER_STEP * ROWS_PER_STEP;
            if (start != first) {
                int end = Math.min(t.rows(), start + ROWS_PER_STEP);
                CpuBackend.decodeRows(t, start, end, block);
                first = start;
            }
            System.arraycopy(block, (stored - start) * cols, out, 0, cols);
            if (a == null) return;
            for (int k = 0; k < rank; k++) {
                float s = scale * b[h * rank + k];
                if (s == 0) continue;
                for (int i = 0, o = k * cols; i < cols; i++) out[i] += s * a[o + i];
            }
        }
    }
}
