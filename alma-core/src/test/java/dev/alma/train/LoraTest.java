package dev.alma.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LoRA: PEFT's adapter files read and written, and a trained adapter giving back the trained model's logits. */
class LoraTest {

    @Test
    void peftAdapterGivesTheReferenceLogits() {
        TrainableLlama m = ModelFiles.load(Fixtures.fixture("models/tiny-llama-mha-f32"));
        ModelFiles.loadAdapter(m, Fixtures.fixture("models/tiny-llama-mha-f32-lora"));
        assertEquals(List.of("q_proj", "down_proj", "v_proj"), m.lora().targets());
        JsonNode refs = Json.read(Fixtures.fixture("models/ref-mha-f32-lora.json"));
        int vocab = m.config().vocabSize();
        for (JsonNode r : refs) {
            int[] ids = new int[r.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = r.get("ids").get(i).asInt();
            float[] logits = m.logits(ids, 1, ids.length);
            for (int t = 0; t < ids.length; t++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[t * vocab + v]);
                for (int v = 0; v < vocab; v++) sum += Math.exp(logits[t * vocab + v] - max);
                double lse = max + Math.log(sum), want = r.get("logsumexp").get(t).asDouble();
                assertEquals(want, lse, 1e-5 * Math.abs(want), r.get("name").asText() + " position " + t);
                int top = r.get("top_ids").get(t).get(0).asInt();
                double wantTop = r.get("top_logits").get(t).get(0).asDouble();
                assertEquals(wantTop, logits[t * vocab + top], 1e-5 * Math.max(1, Math.abs(wantTop)), "top logit at " + t);
            }
        }
    }

    @Test
    void trainedAdapterReloadsToTheSameLogits(@TempDir Path tmp) throws Exception {
        Path base = Fixtures.fixture("training/train-llama-v512");
        TrainableLlama m = ModelFiles.load(base);
        m.addLora(LoraConfig.alma(), 5);
        assertTrue(m.trainableParameters().stream().allMatch(p -> p.name().contains("lora_")), "base frozen");
        assertEquals(2 * m.config().numLayers(), m.trainableParameters().size());
        int[] ids = new int[2 * 12];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37 + 11) % 512;
        BatchSource data = new BatchSource() {
            public Batch batch(long index) {
                int[] x = ids.clone();
                x[(int) (index % ids.length)] = (int) (index * 7 % 512);
                return new Batch(2, 12, x, x.clone());
            }

            public long batchesPerEpoch() {
                return -1;
            }
        };
        TrainConfig cfg = TrainConfig.defaults().withLr(1e-2).withSteps(3, 0).withSchedule(LrSchedule.Kind.CONSTANT, 0);
        Trainer tr = new Trainer(m, data, List.of(), cfg, tmp);
        tr.run(3, null);
        float[] trained = m.logits(ids, 2, 12);
        Path out = tmp.resolve("adapter");
        ModelFiles.saveAdapter(m, out);
        JsonNode c = Json.read(out.resolve("adapter_config.json"));
        assertEquals("LORA", c.get("peft_type").asText());
        assertEquals(16, c.get("r").asInt());
        assertEquals(32, c.get("lora_alpha").asInt());
        assertEquals("down_proj", c.get("target_modules").get(0).asText());
        assertEquals("CAUSAL_LM", c.get("task_type").asText());
        try (var st = dev.alma.io.SafeTensors.open(out.resolve("adapter_model.safetensors"))) {
            var a = st.get("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight");
            var b = st.get("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
            assertArrayEquals(new long[]{16, 128}, a.shape());
            assertArrayEquals(new long[]{48, 16}, b.shape());
            assertTrue(b.toFloatArray()[0] != 0 || b.toFloatArray()[1] != 0, "B was trained away from zero");
        }
        TrainableLlama again = ModelFiles.load(base);
        ModelFiles.loadAdapter(again, out);
        assertArrayEquals(trained, again.logits(ids, 2, 12), "logits of the reloaded adapter");
        TrainableLlama plain = ModelFiles.load(base);
        float[] baseLogits = plain.logits(ids, 2, 12);
        assertTrue(!java.util.Arrays.equals(baseLogits, trained), "the adapter changed the model");
        // the inference model with the adapter applied unmerged gives the trained model's logits
        int vocab = m.config().vocabSize();
        try (dev.alma.model.LlamaModel inf = dev.alma.model.LlamaModel.open(base,
                dev.alma.model.ModelOptions.defaults().withLoras(List.of(out)))) {
            for (int row = 0; row < 2; row++) {
                int[] seq = java.util.Arrays.copyOfRange(ids, row * 12, row * 12 + 12);
                try (dev.alma.model.LlamaModel.Context ctx = inf.newContext(12)) {
                    float[][] got = inf.append(ctx, ctx.cache().create(), seq, true);
                    for (int t = 0; t < 12; t++)
                        for (int v = 0; v < vocab; v++) {
                            float want = trained[(row * 12 + t) * vocab + v];
                            assertEquals(want, got[t][v], 1e-5 * Math.max(1, Math.abs(want)), "row " + row + " pos " + t + " token " + v);
                        }
                }
            }
        }
    }

    @Test
    void rejectsForeignAdapters(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("adapter_config.json"), "{\"peft_type\": \"IA3\"}");
        TrainableLlama m = ModelFiles.load(Fixtures.fixture("training/train-llama-v512"));
        var e = assertThrows(dev.alma.io.FormatException.class, () -> ModelFiles.loadAdapter(m, tmp));
        assertTrue(e.getMessage().contains("peft_type"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LoraConfig(16, 32, 0.05, List.of("lm_head")));
    }
}
