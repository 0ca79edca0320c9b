package dev.alma.decode;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.Json;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import dev.alma.model.RandomCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Greedy decoding and beam search against Hugging Face transformers' {@code generate} on two random models:
 * {@code eos64}, whose EOS row of {@code lm_head} is scaled so that EOS competes (finished hypotheses, the three
 * early-stopping modes, length penalties, {@code min_new_tokens}), and {@code flat96} (repetition penalty,
 * {@code no_repeat_ngram_size}). The expected outputs in {@code hf-generate-refs.json} were computed by
 * transformers 5.18 (see {@code src/test/python/hf_decode_refs.py}) on checkpoints written exactly as
 * {@link #build} writes them; changing {@link RandomCheckpoint}'s generator invalidates them.
 */
class HfGenerateParityTest {
    static final Map<String, LlamaModel> models = new HashMap<>();

    @BeforeAll
    static void build(@TempDir Path dir) {
        models.put("eos64", LlamaModel.open(new RandomCheckpoint(64, 32, 4, 2, 2, 64).write(dir.resolve("eos64"), 11, (name, v) -> {
            if (name.equals("lm_head.weight")) for (int c = 0; c < 32; c++) v[2 * 32 + c] *= 3f;
        }), ModelOptions.defaults().withThreads(1)));
        models.put("flat96", LlamaModel.open(new RandomCheckpoint(96, 32, 4, 4, 2, 64).write(dir.resolve("flat96"), 3),
                ModelOptions.defaults().withThreads(1)));
    }

    @AfterAll
    static void close() {
        models.values().forEach(LlamaModel::close);
    }

    static DecodingOptions options(JsonNode o) {
        DecodingOptions d = DecodingOptions.greedy(o.get("max_new_tokens").asInt());
        int beams = o.path("num_beams").asInt(1);
        if (beams > 1) d = d.withBeams(beams).withNumReturn(o.path("num_return_sequences").asInt(1));
        if (o.has("early_stopping")) d = d.withEarlyStopping(o.get("early_stopping").asText());
        if (o.has("length_penalty")) d = d.withLengthPenalty(o.get("length_penalty").asDouble());
        if (o.has("min_new_tokens")) d = d.withMinNewTokens(o.get("min_new_tokens").asInt());
        if (o.has("repetition_penalty")) d = d.withRepetitionPenalty(o.get("repetition_penalty").asDouble());
        if (o.has("no_repeat_ngram_size")) d = d.withNoRepeatNgramSize(o.get("no_repeat_ngram_size").asInt());
        return d;
    }

    @Test
    void everyCaseMatchesTransformers() throws Exception {
        JsonNode refs;
        try (InputStream in = HfGenerateParityTest.class.getResourceAsStream("hf-generate-refs.json")) {
            assertNotNull(in, "test resource hf-generate-refs.json is missing");
            refs = Json.MAPPER.readTree(in);
        }
        int n = 0;
        for (JsonNode c : refs.get("cases")) {
            DecodingOptions o = options(c.get("options"));
            int[] prompt = FixtureDecodingTest.ints(c.get("prompt"));
            List<Hypothesis> got = new Generator(models.get(c.get("model").asText()), o).generate(prompt);
            String what = c.get("model").asText() + " " + c.get("options") + " prompt " + c.get("prompt");
            assertEquals(c.get("sequences").size(), got.size(), what);
            for (int k = 0; k < got.size(); k++) {
                assertArrayEquals(FixtureDecodingTest.ints(c.get("sequences").get(k)), got.get(k).tokens(), what + " sequence " + k);
                if (c.hasNonNull("scores"))
                    assertEquals(c.get("scores").get(k).asDouble(), got.get(k).score(), 1e-4, what + " score " + k);
            }
            n++;
        }
        assertEquals(60, n, "cases");
    }
}
