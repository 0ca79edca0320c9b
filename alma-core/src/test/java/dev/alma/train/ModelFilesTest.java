package dev.alma.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hugging Face checkpoints in (single file, bf16 shards) and out. */
class ModelFilesTest {

    @Test
    void shardedBf16GroupedQueryModelGivesTheReferenceLogits() {
        TrainableLlama m = ModelFiles.load(Fixtures.fixture("models/tiny-llama-gqa-bf16"));
        assertEquals(2, m.config().numKvHeads());
        JsonNode r = Json.read(Fixtures.fixture("models/ref-gqa-bf16.json")).get(0);
        int[] ids = new int[r.get("ids").size()];
        for (int i = 0; i < ids.length; i++) ids[i] = r.get("ids").get(i).asInt();
        int vocab = m.config().vocabSize();
        float[] logits = m.logits(ids, 1, ids.length);
        for (int t = 0; t < ids.length; t++)
            for (int k = 0; k < 8; k++) {
                int id = r.get("top_ids").get(t).get(k).asInt();
                double want = r.get("top_logits").get(t).get(k).asDouble();
                assertEquals(want, logits[t * vocab + id], 1e-4 * Math.max(1, Math.abs(want)), "position " + t + " id " + id);
            }
    }

    @Test
    void savedModelReloadsExactly(@TempDir Path tmp) {
        Path src = Fixtures.fixture("training/train-llama-v512");
        TrainableLlama m = ModelFiles.load(src);
        m.baseParameters().get(3).data()[0] += 0.5f; // a change that must survive the round trip
        ModelFiles.saveModel(m, src, tmp);
        assertTrue(Files.isRegularFile(tmp.resolve("config.json")));
        assertTrue(Files.isRegularFile(tmp.resolve("generation_config.json")));
        TrainableLlama back = ModelFiles.load(tmp);
        for (int i = 0; i < m.baseParameters().size(); i++)
            assertArrayEquals(m.baseParameters().get(i).data(), back.baseParameters().get(i).data(), m.baseParameters().get(i).name());
    }

    @Test
    void missingTensorIsNamed(@TempDir Path tmp) throws Exception {
        Files.copy(Fixtures.fixture("training/train-llama-v512/config.json"), tmp.resolve("config.json"));
        new dev.alma.io.SafeTensorsWriter().add("model.embed_tokens.weight", dev.alma.tensor.DType.F32, new long[]{512, 48}, new float[512 * 48])
                .write(tmp.resolve("model.safetensors"));
        var e = assertThrows(dev.alma.io.FormatException.class, () -> ModelFiles.load(tmp));
        assertTrue(e.getMessage().contains("input_layernorm"), e.getMessage());
    }
}
