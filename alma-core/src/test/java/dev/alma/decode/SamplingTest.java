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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sampling, the logits processors, stop strings and streaming, on a small random model. */
class SamplingTest {
    static final int VOCAB = 96;
    static LlamaModel model;
    static final int[] PROMPT = {1, 17, 40, 9, 33, 71, 5};

    @BeforeAll
    static void build(@TempDir Path dir) {
        new RandomCheckpoint(VOCAB, 32, 4, 4, 2, 64).write(dir, 3);
        model = LlamaModel.open(dir, ModelOptions.defaults().withThreads(1));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static DecodingOptions sampling(long seed) {
        return DecodingOptions.greedy(20).withSampling(1.0, 0, 1.0, seed).withNumReturn(4);
    }

    @Test
    void seededSamplingIsReproducibleAndSeedsDiffer() {
        List<Hypothesis> a = new Generator(model, sampling(42)).withEosId(-1).generate(PROMPT);
        List<Hypothesis> b = new Generator(model, sampling(42)).withEosId(-1).generate(PROMPT);
        List<Hypothesis> c = new Generator(model, sampling(43)).withEosId(-1).generate(PROMPT);
        assertEquals(4, a.size());
        Set<List<Integer>> distinct = new HashSet<>();
        for (int r = 0; r < 4; r++) {
            assertArrayEquals(a.get(r).tokens(), b.get(r).tokens(), "sample " + r);
            assertEquals(a.get(r).score(), b.get(r).score());
            assertEquals(20, a.get(r).tokens().length);
            distinct.add(Arrays.stream(a.get(r).tokens()).boxed().toList());
        }
        assertEquals(4, distinct.size(), "four samples of 20 tokens from a flat random model should differ");
        assertFalse(Arrays.equals(a.getFirst().tokens(), c.getFirst().tokens()), "another seed, another sample");
    }

    @Test
    void topKOfOneIsGreedy() {
        int[] greedy = new Generator(model, DecodingOptions.greedy(20)).generate(PROMPT).getFirst().tokens();
        int[] sampled = new Generator(model, DecodingOptions.greedy(20).withSampling(0.7, 1, 1.0, 9)).generate(PROMPT).getFirst().tokens();
        assertArrayEquals(greedy, sampled);
    }

    @Test
    void warpersFollowTransformers() {
        float[] logits = {1f, 3f, 2f, 3f, -1f, 0f};
        float[] k = logits.clone();
        new Sampler(DecodingOptions.greedy(1).withSampling(1.0, 2, 1.0, 0)).warp(k);
        // top-k keeps every value >= the k-th largest (both 3s), removes the rest
        assertArrayEquals(new float[]{ninf(), 3f, ninf(), 3f, ninf(), ninf()}, k);
        float[] t = logits.clone();
        new Sampler(DecodingOptions.greedy(1).withSampling(2.0, 0, 1.0, 0)).warp(t);
        assertArrayEquals(new float[]{0.5f, 1.5f, 1f, 1.5f, -0.5f, 0f}, t);
        // top-p: probabilities of {1,3,2,3,-1,0} sorted ascending: 0.0057 0.0155 0.042 0.114 0.411 0.411;
        // with top_p 0.8 the ascending cumulative stays <= 0.2 up to the 2 (0.177), so 2 and both 3s stay
        float[] p = logits.clone();
        new Sampler(DecodingOptions.greedy(1).withSampling(1.0, 0, 0.8, 0)).warp(p);
        assertArrayEquals(new float[]{ninf(), 3f, 2f, 3f, ninf(), ninf()}, p);
        // the most likely token always stays
        float[] q = {0f, 5f, 1f};
        new Sampler(DecodingOptions.greedy(1).withSampling(1.0, 0, 0.01, 0)).warp(q);
        assertArrayEquals(new float[]{ninf(), 5f, ninf()}, q);
    }

    @Test
    void warpersKeepWhatTransformersKeeps() throws Exception {
        // random logits warped by transformers 5.18 (src/test/python/hf_warper_refs.py)
        JsonNode refs;
        try (InputStream in = SamplingTest.class.getResourceAsStream("hf-warper-refs.json")) {
            assertNotNull(in, "test resource hf-warper-refs.json is missing");
            refs = Json.MAPPER.readTree(in);
        }
        int n = 0;
        for (JsonNode c : refs.get("cases")) {
            float[] x = new float[c.get("logits").size()];
            for (int i = 0; i < x.length; i++) x[i] = (float) c.get("logits").get(i).asDouble();
            new Sampler(DecodingOptions.greedy(1).withSampling(c.get("temperature").asDouble(), c.get("top_k").asInt(),
                    c.get("top_p").asDouble(), 0)).warp(x);
            List<Integer> kept = new ArrayList<>();
            for (int i = 0; i < x.length; i++) if (x[i] != ninf()) kept.add(i);
            String what = "case " + n + " " + c.get("temperature") + "/" + c.get("top_k") + "/" + c.get("top_p");
            assertEquals(Arrays.stream(FixtureDecodingTest.ints(c.get("kept"))).boxed().toList(), kept, what);
            for (int j = 0; j < kept.size(); j++)
                assertEquals(c.get("values").get(j).asDouble(), x[kept.get(j)], 1e-6, what);
            n++;
        }
        assertEquals(48, n);
    }

    @Test
    void drawFollowsTheDistribution() {
        float[] logits = {0f, (float) Math.log(3), ninf()};
        SplittableRandom r = new SplittableRandom(1);
        int[] counts = new int[3];
        for (int i = 0; i < 20000; i++) counts[Sampler.draw(logits, r.nextDouble())]++;
        assertEquals(0, counts[2]);
        assertEquals(0.75, counts[1] / 20000.0, 0.015);
    }

    private static float ninf() {
        return Float.NEGATIVE_INFINITY;
    }

    @Test
    void repetitionPenaltyAndNgramBanFollowTransformers() {
        DecodingOptions o = DecodingOptions.greedy(5).withRepetitionPenalty(2.0).withNoRepeatNgramSize(2);
        float[] s = {1f, -1f, 4f, 2f, 6f, -3f};
        // sequence 0 4 | 2 0: tokens seen {0, 2, 4}; last token 0, and the bigram (0, 4) occurred: ban 4
        new Penalties(o, -1).apply(s, new int[]{0, 4}, new int[]{2, 0}, 2);
        assertArrayEquals(new float[]{0.5f, -1f, 2f, 2f, ninf(), -3f}, s);
        float[] neg = {-2f, 1f};
        new Penalties(DecodingOptions.greedy(5).withRepetitionPenalty(2.0), -1).apply(neg, new int[]{0}, new int[0], 0);
        assertArrayEquals(new float[]{-4f, 1f}, neg);
        float[] eos = {1f, 1f, 9f};
        new Penalties(DecodingOptions.greedy(5).withMinNewTokens(2), 2).apply(eos, new int[]{0}, new int[]{1}, 1);
        assertEquals(ninf(), eos[2]);
    }

    @Test
    void noRepeatNgramNeverRepeatsInGeneration() {
        int[] out = new Generator(model, DecodingOptions.greedy(40).withNoRepeatNgramSize(2)).withEosId(-1).generate(PROMPT).getFirst().tokens();
        int[] all = new int[PROMPT.length + out.length];
        System.arraycopy(PROMPT, 0, all, 0, PROMPT.length);
        System.arraycopy(out, 0, all, PROMPT.length, out.length);
        Set<Long> bigrams = new HashSet<>();
        for (int i = 0; i + 1 < all.length; i++) assertTrue(bigrams.add((long) all[i] * VOCAB + all[i + 1]), "bigram repeated at " + i);
    }

    @Test
    void streamingYieldsTheSameTokensAsNonStreaming() {
        for (DecodingOptions o : List.of(DecodingOptions.greedy(24), sampling(5).withMaxNewTokens(24))) {
            List<List<Hypothesis>> plain = new Generator(model, o).generate(List.of(PROMPT, new int[]{1, 2, 3}));
            List<List<List<Integer>>> streamed = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                streamed.add(new ArrayList<>());
                for (int r = 0; r < plain.get(b).size(); r++) streamed.get(b).add(new ArrayList<>());
            }
            List<List<Hypothesis>> viaListener = new Generator(model, o).generate(List.of(PROMPT, new int[]{1, 2, 3}),
                    (prompt, seq, token) -> streamed.get(prompt).get(seq).add(token));
            for (int b = 0; b < 2; b++)
                for (int r = 0; r < plain.get(b).size(); r++) {
                    int[] want = plain.get(b).get(r).tokens();
                    assertArrayEquals(want, streamed.get(b).get(r).stream().mapToInt(Integer::intValue).toArray());
                    assertArrayEquals(want, viaListener.get(b).get(r).tokens());
                }
        }
    }

    @Test
    void listenerCancelsASequence() {
        int[] full = new Generator(model, DecodingOptions.greedy(20)).withEosId(-1).generate(PROMPT).getFirst().tokens();
        int[] seen = {0};
        List<List<Hypothesis>> out = new Generator(model, DecodingOptions.greedy(20)).withEosId(-1)
                .generate(List.of(PROMPT), (p, s, t) -> ++seen[0] < 3);
        assertEquals(3, seen[0]);
        assertArrayEquals(Arrays.copyOf(full, 3), out.getFirst().getFirst().tokens());
        assertThrows(IllegalArgumentException.class,
                () -> new Generator(model, DecodingOptions.alma().withMaxNewTokens(4)).generate(List.of(PROMPT), (p, s, t) -> true));
    }

    @Test
    void stopStringEndsTheSequenceAfterTheTokenThatCompletesIt() {
        int[] full = new Generator(model, DecodingOptions.greedy(20)).withEosId(-1).generate(PROMPT).getFirst().tokens();
        // a detokenizer that spells token t as "<t>" and marks the 6th token's spelling as a line end
        int marked = full[5];
        int firstMarked = 0;
        while (full[firstMarked] != marked) firstMarked++;
        DecodingOptions o = DecodingOptions.greedy(20).withStopStrings(List.of("\n"));
        int[] stopped = new Generator(model, o).withEosId(-1)
                .withDetokenizer(ids -> {
                    StringBuilder sb = new StringBuilder();
                    for (int t : ids) sb.append(t == marked ? "x\ny" : "<" + t + ">");
                    return sb.toString();
                }).generate(PROMPT).getFirst().tokens();
        assertArrayEquals(Arrays.copyOf(full, firstMarked + 1), stopped);
        assertThrows(IllegalStateException.class, () -> new Generator(model, o).generate(PROMPT));
        // in beam search a stop string finishes a hypothesis like EOS: stop at a token the free search uses
        DecodingOptions beam = DecodingOptions.alma().withMaxNewTokens(12);
        int stop = new Generator(model, beam).withEosId(-1).generate(PROMPT).getFirst().tokens()[3];
        List<Hypothesis> beams = new Generator(model, beam.withStopStrings(List.of("<" + stop + ">")))
                .withEosId(-1).withDetokenizer(ids -> {
                    StringBuilder sb = new StringBuilder();
                    for (int t : ids) sb.append('<').append(t).append('>');
                    return sb.toString();
                }).generate(PROMPT);
        boolean endsWithStop = false;
        for (Hypothesis h : beams) {
            int[] t = h.tokens();
            for (int i = 0; i < t.length - 1; i++) assertNotEquals(stop, t[i], "a stop string inside a beam");
            endsWithStop |= t[t.length - 1] == stop;
        }
        assertTrue(endsWithStop, "some hypothesis should end at the stop string");
    }
}
