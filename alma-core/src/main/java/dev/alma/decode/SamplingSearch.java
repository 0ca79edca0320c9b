package dev.alma.decode;

import dev.alma.backend.KvCache;
import dev.alma.model.LlamaModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Greedy decoding and sampling for a batch of prompts: every sequence advances by one token per forward pass.
 * With sampling, each prompt yields {@code numReturn} independent samples that share the prompt's KV cache; the
 * {@code r}-th sample of a prompt draws from the {@code r}-th split of {@code new SplittableRandom(seed)}, so a
 * prompt's samples do not depend on the other prompts of the batch.
 */
final class SamplingSearch {
    private static final class Sequence {
        final int prompt;
        final int index;
        final int[] tokens;
        final SplittableRandom random;
        int seq;
        int length;
        double score;
        boolean active = true;

        Sequence(int prompt, int index, int maxTokens, SplittableRandom random, int seq) {
            this.prompt = prompt;
            this.index = index;
            this.tokens = new int[maxTokens];
            this.random = random;
            this.seq = seq;
        }
    }

    private final LlamaModel model;
    private final DecodingOptions o;
    private final int eosId;
    private final Penalties penalties;
    private final Sampler sampler;
    private final StopStrings stops;
    private final Consumer<KvCache> observer;

    SamplingSearch(LlamaModel model, DecodingOptions o, int eosId, StopStrings stops, Consumer<KvCache> observer) {
        this.model = model;
        this.o = o;
        this.eosId = eosId;
        this.penalties = new Penalties(o, eosId);
        this.sampler = new Sampler(o);
        this.stops = stops;
        this.observer = observer;
    }

    /**
     * Generates for every prompt; each sequence's tokens go to {@code listener} (may be null) as they come.
     * Hypothesis scores are the sums of the chosen tokens' log-probabilities under the model (before penalties
     * and warpers).
     */
    List<List<Hypothesis>> run(LlamaModel.Context ctx, List<int[]> prompts, TokenListener listener) {
        KvCache cache = ctx.cache();
        int[] seqs = new int[prompts.size()];
        float[][] first = Generator.prefill(ctx, prompts, seqs).logits(model, ctx);
        if (observer != null) observer.accept(cache);
        int perPrompt = o.doSample() ? o.numReturn() : 1;
        List<Sequence> all = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        for (int b = 0; b < prompts.size(); b++) {
            SplittableRandom root = new SplittableRandom(o.seed());
            for (int r = 0; r < perPrompt; r++) {
                int seq = r == 0 ? seqs[b] : cache.fork(seqs[b]);
                all.add(new Sequence(b, r, o.maxNewTokens(), root.split(), seq));
                rows.add(first[b]);
            }
        }
        while (true) {
            List<Integer> tokens = new ArrayList<>(), seqList = new ArrayList<>(), positions = new ArrayList<>();
            List<Sequence> live = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                Sequence s = all.get(i);
                if (!s.active) continue;
                int token = choose(s, prompts.get(s.prompt), rows.get(i));
                s.tokens[s.length++] = token;
                boolean go = listener == null || listener.onToken(s.prompt, s.index, token);
                if (!go || token == eosId || s.length >= o.maxNewTokens() || stops.hit(s.tokens, s.length)) {
                    s.active = false;
                    cache.free(s.seq);
                    continue;
                }
                live.add(s);
                tokens.add(token);
                seqList.add(s.seq);
                positions.add(prompts.get(s.prompt).length + s.length - 1);
            }
            if (live.isEmpty()) break;
            float[][] out = Generator.step(tokens, seqList, positions).logits(model, ctx);
            if (observer != null) observer.accept(cache);
            int row = 0;
            for (int i = 0; i < all.size(); i++) if (all.get(i).active) rows.set(i, out[row++]);
        }
        List<List<Hypothesis>> results = new ArrayList<>();
        for (int b = 0; b < prompts.size(); b++) results.add(new ArrayList<>());
        for (Sequence s : all) results.get(s.prompt).add(new Hypothesis(Arrays.copyOf(s.tokens, s.length), s.score));
        results.replaceAll(List::copyOf);
        return results;
    }

    private int choose(Sequence s, int[] prompt, float[] logits) {
        double lse = Logits.logSumExp(logits);
        float[] scores = logits;
        if (penalties.active() || o.doSample()) {
            scores = logits.clone();
            penalties.apply(scores, prompt, s.tokens, s.length);
        }
        int token = o.doSample() ? sampler.sample(scores, s.random) : Logits.argmax(scores);
        s.score += logits[token] - lse;
        return token;
    }
}
