package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.Fixtures;
import dev.alma.io.GgufFile;
import dev.alma.io.Json;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import dev.alma.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.alma.model.ModelParityTest.worstLogitError;
import static org.junit.jupiter.api.Assertions.*;

/** {@link GgufExport} against llama.cpp's converter output for the same Hugging Face fixtures. */
class GgufExportTest {
    @TempDir
    Path tmp;

    /** Every tensor of {@code want} is in {@code got} with the same name, type, shape and bytes, and nothing more. */
    /** The GGUF files {@code got} and {@code want} hold the same tensors, vocabulary and hyper-parameters. */
    private static void assertSameModelFile(Path got, Path want) {
        try (GgufFile g = GgufFile.open(got); GgufFile w = GgufFile.open(want)) {
            assertSameTensors(g, w);
            assertSameVocabularyAndShape(g, w);
        }
    }

    private static void assertSameTensors(GgufFile got, GgufFile want) {
        assertEquals(want.tensors().size(), got.tensors().size(), "tensor count");
        for (Tensor w : want.tensors().values()) {
            Tensor g = got.tensor(w.name());
            assertNotNull(g, w.name() + " is missing");
            assertEquals(w.type(), g.type(), w.name());
            assertArrayEquals(w.shape(), g.shape(), w.name());
            long mismatch = MemorySegment.mismatch(w.data(), 0, w.data().byteSize(), g.data(), 0, g.data().byteSize());
            assertEquals(-1, mismatch, w.name() + ": bytes differ from llama.cpp's from offset " + mismatch);
        }
    }

    private static void assertSameVocabularyAndShape(GgufFile got, GgufFile want) {
        assertArrayEquals(want.getArray("tokenizer.ggml.tokens").strings(), got.getArray("tokenizer.ggml.tokens").strings());
        assertArrayEquals(want.getArray("tokenizer.ggml.scores").floats(), got.getArray("tokenizer.ggml.scores").floats());
        assertArrayEquals(want.getArray("tokenizer.ggml.token_type").ints(), got.getArray("tokenizer.ggml.token_type").ints());
        for (String key : List.of("llama.block_count", "llama.context_length", "llama.embedding_length",
                "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
                "llama.attention.key_length", "llama.rope.dimension_count", "llama.vocab_size", "general.file_type",
                "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"))
            assertEquals(want.getInt(key), got.getInt(key), key);
        assertEquals(want.getFloat("llama.attention.layer_norm_rms_epsilon"), got.getFloat("llama.attention.layer_norm_rms_epsilon"));
        assertEquals(want.getString("tokenizer.ggml.model"), got.getString("tokenizer.ggml.model"));
    }

    @Test
    void float32ExportIsWhatLlamaCppsConverterWrites() {
        Path out = tmp.resolve("mha.gguf");
        long[] last = {-1, -1};
        int[] calls = {0};
        GgufExport.Result r = GgufExport.write(Fixtures.fixture("models/tiny-llama-mha-f32"), List.of(), DType.F32, out,
                (done, total) -> {
                    assertTrue(done > last[0] && done <= total, done + " of " + total);
                    last[0] = done;
                    last[1] = total;
                    calls[0]++;
                });
        assertEquals(4L * r.parameters(), last[1], "F32 tensor bytes");
        assertEquals(last[1], last[0], "progress ends at the total");
        assertTrue(calls[0] >= r.tensors(), "at least one report per tensor");
        assertEquals(21, r.tensors());
        assertTrue(r.fallbacks().isEmpty());
        // the tensors include attn_q/attn_k with their rows permuted for llama.cpp's RoPE
        assertSameModelFile(out, Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf"));
    }

    @Test
    void aGgufSourceComesBackAsItWas() {
        // its attn_q/attn_k rows are stored permuted already and must not be permuted again; a LoRA adapter's rows
        // for them follow that order (the merge over a Hugging Face source is tested below)
        Path out = tmp.resolve("again.gguf");
        GgufExport.write(Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf"), List.of(), DType.F32, out);
        assertSameModelFile(out, Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf"));
        Path merged = tmp.resolve("merged-from-gguf.gguf");
        GgufExport.write(Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf"), List.of(Fixtures.fixture("models/tiny-llama-mha-f32-lora")),
                DType.F32, merged);
        try (LlamaModel m = LlamaModel.open(merged, ModelOptions.defaults())) {
            assertTrue(worstLogitError(m, Json.read(Fixtures.fixture("models/ref-mha-f32-lora.json"))) <= 1e-5);
        }
    }

    @Test
    void q8ExportOfBfloat16ShardsIsWhatLlamaCppsConverterWrites() {
        Path out = tmp.resolve("gqa-q8_0.gguf");
        GgufExport.write(Fixtures.fixture("models/tiny-llama-gqa-bf16"), List.of(), DType.Q8_0, out);
        assertSameModelFile(out, Fixtures.fixture("gguf/tiny-llama-gqa-q8_0.gguf"));
    }

    @Test
    void mergedLoraExportGivesTheAdaptedModelsLogitsAndTokenizesAsSentencePiece() {
        Path out = tmp.resolve("merged.gguf");
        GgufExport.write(Fixtures.fixture("models/tiny-llama-mha-f32"), List.of(Fixtures.fixture("models/tiny-llama-mha-f32-lora")),
                DType.F32, out);
        try (LlamaModel m = LlamaModel.open(out, ModelOptions.defaults())) {
            // the PEFT model's logits (unmerged adapter in transformers), from one file with no adapter
            assertTrue(worstLogitError(m, Json.read(Fixtures.fixture("models/ref-mha-f32-lora.json"))) <= 1e-5);
        }
        Tokenizer sp = Tokenizer.load(Fixtures.fixture("tokenizer/llama2-tokenizer.model")), exported = Tokenizer.load(out);
        for (String text : List.of("Maschinelles Lernen ist großartig.", "  Ahoj   světe\n", "机器学习", "<s> is text", "🙂 x\u0000y"))
            assertArrayEquals(sp.encode(text), exported.encode(text), text);
    }

    @Test
    void mergingTwoAdaptersOfOneWeightOrQuantizingToAnUnknownTypeFailsClearly() {
        Path lora = Fixtures.fixture("models/tiny-llama-mha-f32-lora"), out = tmp.resolve("x.gguf");
        AlmaException twice = assertThrows(AlmaException.class, () ->
                GgufExport.write(Fixtures.fixture("models/tiny-llama-mha-f32"), List.of(lora, lora), DType.F32, out));
        assertTrue(twice.getMessage().contains("more than one LoRA adapter"), twice.getMessage());
        assertThrows(AlmaException.class, () ->
                GgufExport.write(Fixtures.fixture("models/tiny-llama-mha-f32"), List.of(), DType.I32, out));
        assertFalse(Files.exists(out), "nothing is written on failure");
    }

    @Test
    void rowsThatAreNotWholeBlocksFallBackToF16AndTheFileStillLoads() {
        // hidden 48 is not a multiple of Q8_0's 32: every matrix but the FFN's down projection (128 columns) is F16
        Path out = tmp.resolve("mha-q8_0.gguf");
        GgufExport.Result r = GgufExport.write(Fixtures.fixture("models/tiny-llama-mha-f32"), List.of(), DType.Q8_0, out);
        assertTrue(r.fallbacks().contains("blk.0.attn_q.weight"), r.fallbacks().toString());
        assertFalse(r.fallbacks().contains("blk.0.ffn_down.weight"), r.fallbacks().toString());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(DType.F16, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(DType.Q8_0, f.tensor("blk.0.ffn_down.weight").type());
        }
        try (LlamaModel m = LlamaModel.open(out, ModelOptions.defaults())) {
            double err = worstLogitError(m, Json.read(Fixtures.fixture("models/ref-mha-f32.json")));
            assertTrue(err > 0 && err <= 5e-2, "mixed F16/Q8_0 " + err);
        }
    }
}
