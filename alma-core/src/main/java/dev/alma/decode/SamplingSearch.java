package dev.alma.decode;

import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Greedy decoding and sampling for a batch of prompts: every sequence advances by one token per forward pass.
 * With sampling, each prompt yields {@code numReturn} independent samples that share the prompt's KV cache; the
 * {@code r}-th sample of a prompt draws from the {@code r}-th split of {@code new SplittableRandom(seed)}, so a
 * prompt's samples do not depend on the other prompts of the batch. Hypothesis scores are the sums of the chosen
 * tokens' log-probabilities under the model (before penalties and warpers).
 */
final class SamplingSearch extends Search {
    private static final class Sequence {
        final int index;
        final int[] tokens;
        final SplittableRandom random;
        final int seq;
        float[] logits;
        int length;
        double score;
        boolean active = true;

        Sequence(int index, int maxTokens, SplittableRandom random, int seq) {
            this.index = index;
            this.tokens = new int[maxTokens];
            this.random = random;
            this.seq = seq;
        }
    }

    private final DecodingOptions o;
    private final int eosId;
    private final Penalties penalties;
    private final Sampler sampler;
    private final StopStrings stops;
    private final TokenListener listener;

    /** @param listener receives each sequence's tokens as they are chosen (null: none) */
    SamplingSearch(DecodingOptions o, int eosId, StopStrings stops, TokenListener listener) {
        this.o = o;
        this.eosId = eosId;
        this.penalties = new Penalties(o, eosId);
        this.sampler = new Sampler(o);
        this.stops = stops;
        this.listener = listener;
    }

    @Override
    int width() {
        return o.doSample() ? o.numReturn() : 1;
    }

    @Override
    boolean tops() {
        return false;
    }

    @Override
    int topK() {
        return 0;
    }

    @Override
    boolean restartable() {
        return listener == null;
    }

    @Override
    Entry start(int index, int[] ids, int seq, int limit, KvCache cache) {
        return new Prompt(index, ids, seq, limit, cache);
    }

    /** One prompt's sequences: its samples share the prompt's cache pages. */
    private final class Prompt extends Entry {
        private final int promptSeq;
        private final KvCache cache;
        private final List<Sequence> sequences = new ArrayList<>();

        Prompt(int index, int[] ids, int seq, int limit, KvCache cache) {
            super(index, ids, limit);
            this.promptSeq = seq;
            this.cache = cache;
        }

        @Override
        void score(float[][] logits, int from) {
            if (sequences.isEmpty()) {  // the prompt's logits: every sample starts from them
                SplittableRandom root = new SplittableRandom(o.seed());
                for (int r = 0; r < width(); r++) {
                    Sequence s = new Sequence(r, limit, root.split(), r == 0 ? promptSeq : cache.fork(promptSeq));
                    s.logits = logits[from];
                    sequences.add(s);
                }
                return;
            }
            int row = from;
            for (Sequence s : sequences) if (s.active) s.logits = logits[row++];
        }

        @Override
        void score(RowTops tops, int from) {
            throw new UnsupportedOperationException("sampling needs whole rows of logits");
        }

        @Override
        void advance(KvCache cache) {
            boolean any = false;
            for (Sequence s : sequences) {
                if (!s.active) continue;
                int token = choose(s);
                s.tokens[s.length++] = token;
                s.logits = null;
                boolean go = listener == null || listener.onToken(index, s.index, token);
                if (!go || token == eosId || s.length >= limit || stops.hit(s.tokens, s.length)) {
                    s.active = false;
                    cache.free(s.seq);
                } else {
                    any = true;
                }
            }
            done = !any;
        }

        private int choose(Sequence s) {
            float[] logits = s.logits;
            double lse = Logits.logSumExp(logits);
            float[] scores = logits;
            if (penalties.active() || o.doSample()) {
                scores = logits.clone();
                penalties.apply(scores, ids, s.tokens, s.length);
            }
            int token = o.doSample() ? sampler.sample(scores, s.random) : Logits.argmax(scores);
            s.score += logits[token] - lse;
            return token;
        }

        @Override
        void addTo(StepBatch batch) {
            for (Sequence s : sequences)
                if (s.active) batch.add(s.tokens[s.length - 1], s.seq, ids.length + s.length - 1, true);
        }

        @Override
        int stepPages(KvCache cache) {
            int pages = 0;
            for (Sequence s : sequences) if (s.active) pages += cache.pagesToWrite(s.seq, ids.length + s.length - 1);
            return pages;
        }

        @Override
        void release(KvCache cache) {
            for (Sequence s : sequences)
                if (s.active) {
                    s.active = false;
                    cache.free(s.seq);
                }
        }

        @Override
        List<Hypothesis> result() {
            List<Hypothesis> out = new ArrayList<>(sequences.size());
            for (Sequence s : sequences) out.add(new Hypothesis(Arrays.copyOf(s.tokens, s.length), s.score));
            return List.copyOf(out);
        }
    }
}
