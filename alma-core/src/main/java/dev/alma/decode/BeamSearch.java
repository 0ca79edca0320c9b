package dev.alma.decode;

import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;
import dev.alma.model.LlamaModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Beam search with the semantics of Hugging Face transformers' {@code generate(num_beams=...)} (the vectorised
 * {@code _beam_search} of transformers 4.5x/5.x), for a batch of prompts at once.
 *
 * <p>Each step, per prompt: the log-softmax of every running beam's logits (after the {@link Penalties}) is
 * added to the beam's score; the best {@code 2·numBeams} (beam, token) candidates are taken. A candidate that
 * ends its sequence (EOS, {@code maxNewTokens} reached, or a stop string) and ranks among the first
 * {@code numBeams} becomes a finished hypothesis scored {@code sum_logprobs / generated_length^lengthPenalty}
 * (the generated length counts the new token); the best {@code numBeams} unfinished candidates run on. A prompt
 * is done when no candidate can continue, when {@code early_stopping=true} and {@code numBeams} hypotheses are
 * finished, or when the best running beam, scored at its current length (at {@code max_new_tokens} for
 * {@code "never"} with a positive length penalty), cannot beat the worst of {@code numBeams} finished ones.
 *
 * <p>Without penalties on a backend that finds the largest logits where they are ({@link
 * dev.alma.backend.Backend#rowTopsOnDevice}: CUDA), a step reads back only each beam's {@code 2·numBeams} largest
 * logits and its log-sum-exp, not the vocabulary row; the log-probabilities are the same up to the rounding of the
 * log-sum-exp.
 *
 * <p>Memory: every beam is a KV-cache sequence. The prompt is computed once; each step the chosen parents are
 * {@linkplain KvCache#fork forked} into the new beams and the old beams freed, so beams share every common
 * prefix and only the page a beam writes to is copied when it is shared.
 *
 * <p>Each prompt is searched on its own ({@link Search.Entry}): prompts of a batch only share forward passes.
 */
final class BeamSearch extends Search {
    private record Beam(int[] tokens, double score, int parent, int seq) {
    }

    private record Candidate(int parent, int token, double score) {
    }

    private final LlamaModel model;
    private final DecodingOptions o;
    private final int eosId;
    private final Penalties penalties;
    private final StopStrings stops;
    private final boolean tops;

    BeamSearch(LlamaModel model, DecodingOptions o, int eosId, StopStrings stops) {
        this.model = model;
        this.o = o;
        this.eosId = eosId;
        this.penalties = new Penalties(o, eosId);
        this.stops = stops;
        // Read back only the top candidates where the backend finds them in place and no penalty needs the row.
        this.tops = !penalties.active() && model.backend().rowTopsOnDevice();
    }

    @Override
    int width() {
        return o.numBeams();
    }

    @Override
    boolean tops() {
        return tops;
    }

    @Override
    int topK() {
        return 2 * o.numBeams();
    }

    @Override
    boolean restartable() {
        return true;
    }

    @Override
    Entry start(int index, int[] ids, int seq, int limit, KvCache cache) {
        return new Prompt(index, ids, seq, limit);
    }

    /** The search state of one prompt. */
    private final class Prompt extends Entry {
        final FinishedBeams finished = new FinishedBeams(o.numBeams());
        List<Beam> running = new ArrayList<>();
        /** The running beams' best tokens and their log-probabilities (after the penalties), set by a score method. */
        int[][] topIds;
        float[][] topLogProbs;
        int generated;
        boolean improvable = true;

        Prompt(int index, int[] ids, int seq, int limit) {
            super(index, ids, limit);
            running.add(new Beam(new int[0], 0, -1, seq));
        }

        /** Scores the running beams from their logits (rows {@code from ..}, one per beam). */
        @Override
        void score(float[][] logits, int from) {
            int keep = 2 * o.numBeams();
            // Each beam's log-softmax (an exp per vocabulary entry: most of a step's host time) and top tokens,
            // beams in parallel; the candidates are then gathered in beam order, so the result does not depend on it.
            int n = running.size();
            topIds = new int[n][];
            topLogProbs = new float[n][];
            IntStream beams = IntStream.range(0, n);
            (n > 1 ? beams.parallel() : beams).forEach(i -> {
                float[] lp = Logits.logSoftmax(logits[from + i]);
                penalties.apply(lp, ids, running.get(i).tokens, generated);
                int[] top = Logits.topK(lp, keep);
                float[] v = new float[top.length];
                for (int j = 0; j < top.length; j++) v[j] = lp[top[j]];
                topIds[i] = top;
                topLogProbs[i] = v;
            });
        }

        /**
         * Scores the running beams from rows {@code from ..} of a step's tops (no penalties): log p = logit -
         * log-sum-exp, rounded to float32 as {@link Logits#logSoftmax} does.
         */
        @Override
        void score(RowTops tops, int from) {
            int n = running.size();
            topIds = new int[n][];
            topLogProbs = new float[n][];
            for (int i = 0; i < n; i++) {
                double lse = tops.logSumExp()[from + i];
                float[] v = tops.values()[from + i];
                float[] lp = new float[v.length];
                for (int j = 0; j < v.length; j++) lp[j] = (float) (v[j] - lse);
                topIds[i] = tops.ids()[from + i];
                topLogProbs[i] = lp;
            }
        }

        @Override
        void advance(KvCache cache) {
            reseat(cache, choose());
        }

        /** Chooses the next beams from the scored candidates; sets {@link #done} when the prompt is over. */
        private List<Beam> choose() {
            int nb = o.numBeams();
            int keep = 2 * nb;
            long vocab = model.config().vocabSize();
            int n = running.size();
            List<Candidate> cands = new ArrayList<>();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < topIds[i].length; j++)
                    cands.add(new Candidate(i, topIds[i][j], running.get(i).score + topLogProbs[i][j]));
            cands.sort(Comparator.comparingDouble(Candidate::score).reversed()
                    .thenComparingLong(c -> c.parent * vocab + c.token));
            if (cands.size() > keep) cands = cands.subList(0, keep);

            int len = generated + 1;
            List<Hypothesis> fresh = new ArrayList<>();
            List<Beam> next = new ArrayList<>();
            // a prompt still advancing accepts hypotheses: it would be done if it could not improve, or if it were
            // full with early_stopping=true
            for (int r = 0; r < cands.size(); r++) {
                if (r >= nb && next.size() >= nb) break;
                Candidate c = cands.get(r);
                int[] tokens = Arrays.copyOf(running.get(c.parent).tokens, len);
                tokens[len - 1] = c.token;
                boolean ends = c.token == eosId || len >= limit || stops.hit(tokens, len);
                if (ends) {
                    if (r < nb)
                        fresh.add(new Hypothesis(tokens, c.score / Math.pow(scoreLength(len, c.token == eosId), o.lengthPenalty())));
                } else if (next.size() < nb) {
                    next.add(new Beam(tokens, c.score, c.parent, -1));
                }
            }
            finished.offer(fresh);
            generated = len;
            if (!next.isEmpty()) {
                int hypothetical = o.earlyStopping().equals("never") && o.lengthPenalty() > 0 ? limit : len;
                double bestPossible = next.getFirst().score / Math.pow(heuristicLength(hypothetical), o.lengthPenalty());
                improvable = improvable && (!finished.full() || bestPossible > finished.worst());
            }
            done = next.isEmpty() || !improvable || (o.earlyStopping().equals("true") && finished.full());
            return next;
        }

        /** The length a finished hypothesis is normalized by. */
        private double scoreLength(int generatedLength, boolean endsWithEos) {
            if (!o.fullLengthNormalization()) return generatedLength;
            return ids.length + generatedLength - (endsWithEos ? 1 : 0);
        }

        private double heuristicLength(int generatedLength) {
            return o.fullLengthNormalization() ? ids.length + generatedLength : generatedLength;
        }

        /** Moves the KV cache to the chosen beams: forks each chosen parent, then frees the old beams. */
        private void reseat(KvCache cache, List<Beam> chosen) {
            List<Beam> children = new ArrayList<>(chosen.size());
            if (!done)
                for (Beam b : chosen) children.add(new Beam(b.tokens, b.score, b.parent, cache.fork(running.get(b.parent).seq)));
            for (Beam b : running) cache.free(b.seq);
            running = children;
        }

        @Override
        void addTo(StepBatch batch) {
            for (Beam beam : running)
                batch.add(beam.tokens[generated - 1], beam.seq, ids.length + generated - 1, true);
        }

        @Override
        int stepPages(KvCache cache) {
            int pages = 0;
            for (Beam beam : running) pages += cache.pagesToWrite(beam.seq, ids.length + generated - 1);
            return pages;
        }

        @Override
        void release(KvCache cache) {
            for (Beam beam : running) cache.free(beam.seq);
            running = List.of();
        }

        @Override
        List<Hypothesis> result() {
            return finished.top(o.numReturn());
        }
    }
}
