package dev.alma.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.decode.Greedy;
import dev.alma.decode.Logits;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The model against Hugging Face transformers' logits and greedy outputs (shared/fixtures/models). */
class ModelParityTest {

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    /** Worst relative error of logsumexp and top-8 logits over every prompt and position. */
    static double worstLogitError(LlamaModel m, JsonNode refs) {
        double worst = 0;
        for (JsonNode r : refs) {
            int[] ids = ints(r.get("ids"));
            try (LlamaModel.Context ctx = m.newContext(ids.length)) {
                float[][] logits = m.append(ctx, ctx.cache().create(), ids, true);
                for (int i = 0; i < ids.length; i++) {
                    double lse = r.get("logsumexp").get(i).asDouble();
                    worst = Math.max(worst, Math.abs(Logits.logSumExp(logits[i]) - lse) / Math.max(1, Math.abs(lse)));
                    JsonNode topIds = r.get("top_ids").get(i), topLogits = r.get("top_logits").get(i);
                    for (int j = 0; j < topIds.size(); j++) {
                        double want = topLogits.get(j).asDouble();
                        worst = Math.max(worst, Math.abs(logits[i][topIds.get(j).asInt()] - want) / Math.max(1, Math.abs(want)));
                    }
                }
            }
        }
        return worst;
    }

    static void assertGreedy(LlamaModel m, JsonNode refs) {
        for (JsonNode r : refs) {
            int[] want = ints(r.get("greedy"));
            int[] got = Greedy.generate(m, ints(r.get("ids")), want.length, m.config().eosTokenId());
            assertArrayEquals(want, got, r.get("name").asText());
        }
    }

    @Test
    void float32MultiHeadModelMatchesTransformers() {
        JsonNode refs = Json.read(Fixtures.fixture("models/ref-mha-f32.json"));
        try (LlamaModel m = LlamaModel.open(Fixtures.fixture("models/tiny-llama-mha-f32"), ModelOptions.defaults())) {
            assertTrue(worstLogitError(m, refs) <= 1e-5);
            assertGreedy(m, refs);
        }
    }

    @Test
    void shardedBfloat16GroupedQueryModelMatchesReference() {
        JsonNode refs = Json.read(Fixtures.fixture("models/ref-gqa-bf16.json"));
        try (LlamaModel m = LlamaModel.open(Fixtures.fixture("models/tiny-llama-gqa-bf16"), ModelOptions.defaults())) {
            assertTrue(worstLogitError(m, refs) <= 1e-5);
            assertGreedy(m, refs);
        }
    }

    @Test
    void loraAdapterMatchesPeft() {
        JsonNode refs = Json.read(Fixtures.fixture("models/ref-mha-f32-lora.json"));
        Path base = Fixtures.fixture("models/tiny-llama-mha-f32");
        Path lora = Fixtures.fixture("models/tiny-llama-mha-f32-lora");
        try (LlamaModel m = LlamaModel.open(base, ModelOptions.defaults().withLoras(List.of(lora)))) {
            assertTrue(worstLogitError(m, refs) <= 1e-5);
        }
        try (LlamaModel plain = LlamaModel.open(base, ModelOptions.defaults())) {
            assertTrue(worstLogitError(plain, refs) > 1e-3, "without the adapter the logits must differ");
        }
    }

    @Test
    void adaptersShareOneLoadedBase() {
        JsonNode base = Json.read(Fixtures.fixture("models/ref-mha-f32.json"));
        JsonNode lora = Json.read(Fixtures.fixture("models/ref-mha-f32-lora.json"));
        try (LlamaModel m = LlamaModel.open(Fixtures.fixture("models/tiny-llama-mha-f32"), ModelOptions.defaults());
             LoraAdapter adapter = LoraAdapter.open(Fixtures.fixture("models/tiny-llama-mha-f32-lora"))) {
            try (LlamaModel view = m.withLoras(List.of(adapter))) {
                assertTrue(worstLogitError(view, lora) <= 1e-5);
            }
            // the view closed nothing: the base still runs, unchanged
            assertTrue(worstLogitError(m, base) <= 1e-5);
            assertThrows(dev.alma.AlmaException.class, () -> m.withLoras(List.of(adapter, adapter)), "one weight adapted twice");
        }
    }

    @Test
    void singleThreadedGivesTheSameLogits() {
        JsonNode refs = Json.read(Fixtures.fixture("models/ref-mha-f32.json"));
        try (LlamaModel m = LlamaModel.open(Fixtures.fixture("models/tiny-llama-mha-f32"), ModelOptions.defaults().withThreads(1))) {
            assertTrue(worstLogitError(m, refs) <= 1e-5);
        }
    }
}
