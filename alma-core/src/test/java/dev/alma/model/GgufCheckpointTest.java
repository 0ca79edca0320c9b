package dev.alma.model;

import dev.alma.Fixtures;
import dev.alma.io.FormatException;
import dev.alma.io.GgufFile;
import dev.alma.io.GgufWriter;
import dev.alma.io.SafeTensors;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GGUF checkpoints from llama.cpp's converter against the Hugging Face checkpoints they were made from. */
class GgufCheckpointTest {

    /** Opens every safetensors file of a Hugging Face model directory. */
    static List<SafeTensors> openHf(Path dir) throws IOException {
        List<SafeTensors> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList()) files.add(SafeTensors.open(p));
        }
        assertFalse(files.isEmpty(), "no safetensors in " + dir);
        return files;
    }

    static Map<String, Tensor> tensors(List<SafeTensors> files) {
        Map<String, Tensor> all = new HashMap<>();
        for (SafeTensors f : files) all.putAll(f.tensors());
        return all;
    }

    /**
     * The Hugging Face row of GGUF row {@code g} of a Q/K projection with {@code headDim}-row heads. The converter
     * stores, per head, row {@code 2j+i} = Hugging Face row {@code i·headDim/2 + j} (the two RoPE halves
     * interleaved).
     */
    static int hfRow(int g, int headDim) {
        int head = g / headDim, r = g % headDim;
        return head * headDim + (r % 2) * (headDim / 2) + r / 2;
    }

    /** Compares every Hugging Face tensor with the GGUF one, Q/K rows un-permuted, within {@code relTol}. */
    static void compareWithHf(String gguf, String hfDir, double relTol, double absTol) throws IOException {
        List<SafeTensors> hfFiles = openHf(Fixtures.fixture(hfDir));
        try (GgufFile f = GgufFile.open(Fixtures.fixture(gguf))) {
            GgufCheckpoint ck = GgufCheckpoint.of(f);
            LlamaConfig hfConfig = LlamaConfig.read(Fixtures.fixture(hfDir + "/config.json"));
            LlamaConfig c = ck.config();
            assertTrue(c.ropeInterleaved());
            assertEquals(hfConfig.withRopeInterleaved(true), new LlamaConfig(c.vocabSize(), c.hiddenSize(),
                    c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(),
                    c.ropeTheta(), c.maxPositions(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenId(),
                    hfConfig.dtype(), true), "config from llama.* metadata");
            Map<String, Tensor> hf = tensors(hfFiles);
            assertEquals(new java.util.TreeSet<>(hf.keySet()), new java.util.TreeSet<>(ck.tensors().keySet()));
            for (Tensor h : hf.values()) {
                Tensor g = ck.tensors().get(h.name());
                assertEquals(h.name(), g.name());
                assertArrayEquals(h.shape(), g.shape(), h.name() + " shape");
                int heads = h.name().endsWith("q_proj.weight") ? c.numHeads() : h.name().endsWith("k_proj.weight") ? c.numKvHeads() : 0;
                int rows = h.rows(), cols = h.cols();
                for (int r = 0; r < rows; r++) {
                    int hr = heads > 0 ? hfRow(r, c.headDim()) : r;
                    for (int i = 0; i < cols; i++) {
                        float want = h.getFloat((long) hr * cols + i), got = g.getFloat((long) r * cols + i);
                        if (Math.abs(want - got) > Math.abs(want) * relTol + absTol)
                            throw new AssertionError(h.name() + " GGUF row " + r + " (HF row " + hr + ") col " + i + ": " + got + " != " + want);
                    }
                }
            }
        } finally {
            for (SafeTensors s : hfFiles) s.close();
        }
    }

    @Test
    void f32GgufEqualsHfTensorsAfterUnpermutingQk() throws IOException {
        compareWithHf("gguf/tiny-llama-mha-f32.gguf", "models/tiny-llama-mha-f32", 0, 0);
    }

    @Test
    void bf16GgufEqualsHfShards() throws IOException {
        compareWithHf("gguf/tiny-llama-gqa-bf16.gguf", "models/tiny-llama-gqa-bf16", 0, 0);
    }

    @Test
    void f16GgufIsHfRoundedToHalf() throws IOException {
        compareWithHf("gguf/tiny-llama-mha-f16.gguf", "models/tiny-llama-mha-f32", 0x1p-11, 0x1p-24);
    }

    @Test
    void configAndVocabularyFromMetadata() {
        try (GgufFile f = GgufFile.open(Fixtures.fixture("gguf/tiny-llama-gqa-q8_0.gguf"))) {
            GgufCheckpoint ck = GgufCheckpoint.of(f);
            LlamaConfig c = ck.config();
            assertEquals(32000, c.vocabSize());
            assertEquals(96, c.hiddenSize());
            assertEquals(256, c.intermediateSize());
            assertEquals(3, c.numLayers());
            assertEquals(8, c.numHeads());
            assertEquals(2, c.numKvHeads());
            assertEquals(12, c.headDim());
            assertEquals(1e-5f, c.rmsNormEps());
            assertEquals(10000.0, c.ropeTheta());
            assertEquals(2048, c.maxPositions());
            assertFalse(c.tieWordEmbeddings());
            assertEquals("q8_0", c.dtype());
            assertEquals(DType.Q8_0, ck.tensors().get("model.layers.2.mlp.down_proj.weight").type());
            assertEquals(DType.F32, ck.tensors().get("model.layers.2.input_layernorm.weight").type());

            GgufVocabulary v = ck.vocabulary();
            assertEquals("llama", v.model());
            assertEquals(32000, v.size());
            assertEquals("<unk>", v.tokens()[0]);
            assertEquals("<s>", v.tokens()[1]);
            assertEquals("</s>", v.tokens()[2]);
            assertEquals("<0x0A>", v.tokens()[13]);
            assertEquals("▁the", v.tokens()[278]);
            assertEquals(32000, v.scores().length);
            assertEquals(0f, v.scores()[1]);
            assertEquals(-19.0f, v.scores()[278], 1e-6f);
            assertEquals(2, v.tokenTypes()[0], "unknown");
            assertEquals(3, v.tokenTypes()[1], "control");
            assertEquals(6, v.tokenTypes()[13], "byte");
            assertEquals(1, v.tokenTypes()[278], "normal");
            assertEquals(1, v.bosId());
            assertEquals(2, v.eosId());
            assertEquals(-1, v.unkId());
            assertNull(v.addSpacePrefix());
            assertEquals(Boolean.TRUE, v.addBos());
        }
    }

    /** A minimal LLaMA GGUF written by {@link GgufWriter}: hidden 32, 2 heads, 1 layer, FFN 64, vocab 8. */
    static GgufWriter tiny(boolean withOutput) {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUInt32("llama.context_length", 128)
                .putUInt32("llama.embedding_length", 32)
                .putUInt32("llama.feed_forward_length", 64)
                .putUInt32("llama.block_count", 1)
                .putUInt32("llama.attention.head_count", 2)
                .putUInt32("llama.attention.head_count_kv", 1)
                .putFloat32("llama.rope.freq_base", 500000f)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-6f)
                .putStrings("tokenizer.ggml.tokens", new String[]{"<unk>", "<s>", "</s>", "a", "b", "c", "d", "e"})
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putUInt32("tokenizer.ggml.unknown_token_id", 0)
                .putBool("tokenizer.ggml.add_space_prefix", false);
        GgufWriter.Rows rnd = GgufWriter.randomRows(1, 0.1f);
        w.tensor("token_embd.weight", DType.Q8_0, new long[]{8, 32}, rnd);
        w.tensor("output_norm.weight", DType.F32, new long[]{32}, rnd);
        if (withOutput) w.tensor("output.weight", DType.F16, new long[]{8, 32}, rnd);
        w.tensor("blk.0.attn_norm.weight", DType.F32, new long[]{32}, rnd);
        w.tensor("blk.0.ffn_norm.weight", DType.F32, new long[]{32}, rnd);
        w.tensor("blk.0.attn_q.weight", DType.Q4_0, new long[]{32, 32}, rnd);
        w.tensor("blk.0.attn_k.weight", DType.Q4_0, new long[]{16, 32}, rnd);
        w.tensor("blk.0.attn_v.weight", DType.Q4_0, new long[]{16, 32}, rnd);
        w.tensor("blk.0.attn_output.weight", DType.Q4_0, new long[]{32, 32}, rnd);
        w.tensor("blk.0.ffn_gate.weight", DType.BF16, new long[]{64, 32}, rnd);
        w.tensor("blk.0.ffn_up.weight", DType.BF16, new long[]{64, 32}, rnd);
        w.tensor("blk.0.ffn_down.weight", DType.Q8_0, new long[]{32, 64}, rnd);
        return w;
    }

    @Test
    void missingOutputMeansTiedEmbedding(@TempDir Path dir) {
        Path p = dir.resolve("tied.gguf");
        tiny(false).write(p);
        try (GgufFile f = GgufFile.open(p)) {
            GgufCheckpoint ck = GgufCheckpoint.of(f);
            assertTrue(ck.config().tieWordEmbeddings());
            assertFalse(ck.tensors().containsKey("lm_head.weight"));
            assertEquals(500000.0, ck.config().ropeTheta());
            assertEquals(1e-6f, ck.config().rmsNormEps());
            assertEquals(16, ck.config().headDim());
            assertEquals(8, ck.config().vocabSize());
            assertEquals("q4_0", ck.config().dtype());
            GgufVocabulary v = ck.vocabulary();
            assertEquals(0, v.unkId());
            assertEquals(Boolean.FALSE, v.addSpacePrefix());
            assertNull(v.scores());
            assertNull(v.addBos());
        }
        Path q = dir.resolve("untied.gguf");
        tiny(true).write(q);
        try (GgufFile f = GgufFile.open(q)) {
            GgufCheckpoint ck = GgufCheckpoint.of(f);
            assertFalse(ck.config().tieWordEmbeddings());
            assertEquals(DType.F16, ck.tensors().get("lm_head.weight").type());
        }
    }

    static FormatException rejected(Path dir, GgufWriter w) {
        Path p = dir.resolve("bad-" + System.nanoTime() + ".gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            return assertThrows(FormatException.class, () -> GgufCheckpoint.of(f));
        }
    }

    @Test
    void inconsistentModelsAreRejectedNamingTheField(@TempDir Path dir) {
        FormatException e = rejected(dir, tiny(true).putString("general.architecture", "falcon"));
        assertEquals("general.architecture", e.field());
        e = rejected(dir, tiny(true).putUInt32("llama.attention.head_count_kv", 2));
        assertEquals("blk.0.attn_k.weight", e.field(), e.getMessage());
        assertTrue(e.getMessage().contains("[16, 32]") && e.getMessage().contains("[32, 32]"), e.getMessage());
        e = rejected(dir, tiny(true).putUInt32("llama.block_count", 2));
        assertEquals("blk.1.attn_q.weight", e.field(), e.getMessage());
        e = rejected(dir, tiny(true).putUInt32("llama.block_count", 1 << 30));
        assertEquals("llama.*", e.field(), e.getMessage());
        e = rejected(dir, tiny(true).putString("llama.embedding_length", "32"));
        assertEquals("llama.embedding_length", e.field(), e.getMessage());
        e = rejected(dir, tiny(true).tensor("blk.0.attn_bias.weight", DType.F32, new long[]{32}, GgufWriter.randomRows(2, 1)));
        assertEquals("blk.0.attn_bias.weight", e.field(), e.getMessage());
        e = rejected(dir, tiny(true).tensor("blk.3.attn_q.weight", DType.F32, new long[]{32}, GgufWriter.randomRows(2, 1)));
        assertEquals("blk.3.attn_q.weight", e.field(), e.getMessage());
        e = rejected(dir, tiny(true).putUInt32("tokenizer.ggml.bos_token_id", 8));
        assertEquals("tokenizer.ggml.bos_token_id", e.field(), e.getMessage());
    }

    @Test
    void ggufRowInvertsTheConverterPermutation() {
        for (int headDim : new int[]{2, 12, 128})
            for (int g = 0; g < 3 * headDim; g++) assertEquals(g, GgufCheckpoint.ggufRow(hfRow(g, headDim), headDim));
        assertEquals(1, GgufCheckpoint.ggufRow(6, 12));
        assertEquals(12 + 11, GgufCheckpoint.ggufRow(12 + 11, 12));
    }

    @Test
    void openOwnsTheFile() {
        try (GgufCheckpoint ck = GgufCheckpoint.open(Fixtures.fixture("gguf/tiny-llama-mha-f16.gguf"))) {
            assertEquals(DType.F16, ck.tensors().get("model.layers.0.self_attn.q_proj.weight").type());
            assertEquals(4, ck.config().numKvHeads());
        }
        assertThrows(FormatException.class, () -> GgufCheckpoint.open(Fixtures.shared().resolve("absent.gguf")));
    }

    @Test
    void hfNamesMapBackToGgufNames() {
        assertEquals("blk.12.ffn_down.weight", GgufCheckpoint.ggufName("model.layers.12.mlp.down_proj.weight"));
        assertEquals("output.weight", GgufCheckpoint.ggufName("lm_head.weight"));
        assertEquals(List.of(0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 12),
                Arrays.stream(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}).map(g -> hfRow(g, 12)).boxed().toList());
    }
}
