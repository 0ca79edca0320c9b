package dev.alma.model;

import dev.alma.Fixtures;
import dev.alma.io.GgufFile;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random checkpoints open through {@link Checkpoint} with the shape asked for, and give finite logits. */
class RandomModelWriterTest {
    static final RandomModelWriter.Shape SHAPE = new RandomModelWriter.Shape(64, 96, 2, 4, 2, 32000, 256);

    @Test
    void ggufHasLlamaCppMetadataTheRequestedTypesAndRunsWithTheFixtureVocabulary(@TempDir Path dir) {
        Path vocab = Fixtures.fixture("gguf/tiny-llama-mha-f32.gguf");
        for (DType type : new DType[]{DType.Q8_0, DType.Q4_0, DType.F16}) {
            Path file = dir.resolve("m-" + type + ".gguf");
            RandomModelWriter.writeGguf(file, SHAPE, type, 3, vocab);
            try (GgufFile f = GgufFile.open(file); GgufFile v = GgufFile.open(vocab)) {
                assertEquals("llama", f.getString("general.architecture"));
                assertEquals(16, f.getInt("llama.attention.key_length"));
                assertEquals(2, f.getInt("llama.attention.head_count_kv"));
                assertArrayEquals(v.getArray("tokenizer.ggml.tokens").strings(), f.getArray("tokenizer.ggml.tokens").strings());
                assertEquals(type, f.tensor("blk.1.ffn_down.weight").type());
                assertEquals(DType.F32, f.tensor("blk.1.ffn_norm.weight").type());
            }
            logitsAreFinite(file, true);
        }
    }

    @Test
    void safetensorsDirectoryOpensAsAHuggingFaceCheckpoint(@TempDir Path dir) {
        RandomModelWriter.writeSafetensors(dir, SHAPE, DType.BF16, 3);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(96, c.config().intermediateSize());
            assertEquals(2, c.config().numKvHeads());
            assertEquals(DType.BF16, c.tensors().get("model.layers.0.self_attn.k_proj.weight").type());
        }
        logitsAreFinite(dir, false);
    }

    @Test
    void sameSeedSameFileDifferentSeedDifferentWeights(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf"), c = dir.resolve("c.gguf");
        RandomModelWriter.writeGguf(a, SHAPE, DType.Q8_0, 5, null);
        RandomModelWriter.writeGguf(b, SHAPE, DType.Q8_0, 5, null);
        RandomModelWriter.writeGguf(c, SHAPE, DType.Q8_0, 6, null);
        assertEquals(-1, java.nio.file.Files.mismatch(a, b));
        assertTrue(java.nio.file.Files.mismatch(a, c) >= 0);
    }

    @Test
    void rejectsQuantizedSafetensorsAndRowsThatAreNotWholeBlocks(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> RandomModelWriter.writeSafetensors(dir, SHAPE, DType.Q8_0, 1));
        RandomModelWriter.Shape odd = new RandomModelWriter.Shape(48, 96, 1, 4, 4, 100, 64);
        assertThrows(IllegalArgumentException.class, () -> RandomModelWriter.writeGguf(dir.resolve("x.gguf"), odd, DType.Q8_0, 1, null));
    }

    private static void logitsAreFinite(Path model, boolean interleaved) {
        try (LlamaModel m = LlamaModel.open(model, ModelOptions.defaults().withThreads(2));
             LlamaModel.Context ctx = m.newContext(8)) {
            assertEquals(interleaved, m.config().ropeInterleaved());
            int s = ctx.cache().create();
            float[][] logits = m.forward(ctx, new int[]{1, 500, 7000}, new int[]{s, s, s}, new int[]{0, 1, 2}, new int[]{2});
            assertEquals(32000, logits[0].length);
            for (float v : logits[0]) assertTrue(Float.isFinite(v), "logit " + v);
        }
    }
}
