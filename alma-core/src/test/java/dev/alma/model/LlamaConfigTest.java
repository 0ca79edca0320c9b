package dev.alma.model;

import dev.alma.Fixtures;
import dev.alma.io.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class LlamaConfigTest {
    @TempDir
    Path tmp;

    private LlamaConfig parse(String json) throws IOException {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, json);
        return LlamaConfig.read(f);
    }

    @Test
    void readsTransformers5FixtureFields() {
        LlamaConfig c = LlamaConfig.read(Fixtures.fixture("models/tiny-llama-gqa-bf16/config.json"));
        assertEquals(32000, c.vocabSize());
        assertEquals(96, c.hiddenSize());
        assertEquals(256, c.intermediateSize());
        assertEquals(3, c.numLayers());
        assertEquals(8, c.numHeads());
        assertEquals(2, c.numKvHeads());
        assertEquals(12, c.headDim());
        assertEquals(4, c.groupSize());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(1e-5f, c.rmsNormEps());
        assertEquals("bfloat16", c.dtype());
        assertFalse(c.tieWordEmbeddings());
    }

    @Test
    void readsTransformers4FieldsOfReleasedAlmaCheckpoints() throws IOException {
        LlamaConfig c = parse("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 11008,
                 "num_attention_heads": 32, "num_hidden_layers": 32, "rms_norm_eps": 1e-06, "rope_scaling": null,
                 "rope_theta": 500000.0, "torch_dtype": "float16", "vocab_size": 32000, "max_position_embeddings": 4096,
                 "model_type": "llama", "bos_token_id": 1, "eos_token_id": 2}""");
        assertEquals(32, c.numKvHeads(), "kv heads default to heads");
        assertEquals(128, c.headDim(), "head_dim derived from hidden/heads");
        assertEquals(500000.0, c.ropeTheta());
        assertEquals("float16", c.dtype());
        assertEquals(1e-6f, c.rmsNormEps());
    }

    @Test
    void ropeThetaDefaultsTo10000() throws IOException {
        LlamaConfig c = parse("""
                {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 1,
                 "vocab_size": 100}""");
        assertEquals(10000.0, c.ropeTheta());
    }

    @Test
    void errorsNameTheField() throws IOException {
        FormatException e = assertThrows(FormatException.class, () -> parse("""
                {"intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 100}"""));
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
        e = assertThrows(FormatException.class, () -> parse("""
                {"hidden_size": "big", "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 100}"""));
        assertTrue(e.getMessage().contains("hidden_size") && e.getMessage().contains("big"), e.getMessage());
        e = assertThrows(FormatException.class, () -> parse("""
                {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 1,
                 "vocab_size": 100, "rope_scaling": {"type": "linear", "factor": 2.0}}"""));
        assertTrue(e.getMessage().contains("rope_scaling"), e.getMessage());
        e = assertThrows(FormatException.class, () -> parse("""
                {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 3, "num_key_value_heads": 2,
                 "num_hidden_layers": 1, "vocab_size": 100}"""));
        assertTrue(e.getMessage().contains("num_key_value_heads"), e.getMessage());
        e = assertThrows(FormatException.class, () -> parse("""
                {"hidden_size": 64, "intermediate_size": 4000000000, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 100}"""));
        assertTrue(e.getMessage().contains("intermediate_size"), e.getMessage());
        e = assertThrows(FormatException.class, () -> parse("{\"model_type\": \"gpt2\"}"));
        assertTrue(e.getMessage().contains("model_type"), e.getMessage());
        e = assertThrows(FormatException.class, () -> parse("{not json"));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
