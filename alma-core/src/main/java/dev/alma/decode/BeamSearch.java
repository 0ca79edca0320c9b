package dev.alma.decode;

import dev.alma.backend.KvCache;
import dev.alma.model.LlamaModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.function.Consumer;

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
 * <p>Memory: every beam is a KV-cache sequence. The prompt is computed once; each step the chosen parents are
 * {@linkplain KvCache#fork forked} into the new beams and the old beams freed, so beams share every common
 * prefix and only the page a beam writes to is copied when it is shared.
 */
final class BeamSearch {
    private record Beam(int[] tokens, double score, int parent, int seq) {
    }

    private record Candidate(int parent, int token, double score) {
    }

    private final LlamaModel model;
    private final DecodingOptions o;
    private final int eosId;
    private final Penalties penalties;
    private final StopStrings stops;
    private final Consumer<KvCache> observer;

    BeamSearch(LlamaModel model, DecodingOptions o, int eosId, StopStrings stops, Consumer<KvCache> observer) {
        this.model = model;
        this.o = o;
        this.eosId = eosId;
        this.penalties = new Penalties(o, eosId);
        this.stops = stops;
        this.observer = observer;
    }

    /** The search state of one prompt. */
    private final class Prompt {
        final int[] ids;
        final FinishedBeams finished = new FinishedBeams(o.numBeams());
        List<Beam> running = new ArrayList<>();
        /** The beams chosen by {@link #advance}, not yet given KV-cache sequences. */
        List<Beam> pending;
        int generated;
        boolean improvable = true;
        boolean done;

        Prompt(int[] ids, int seq) {
            this.ids = ids;
            running.add(new Beam(new int[0], 0, -1, seq));
        }

        /** Chooses the next beams from the running beams' logits; sets {@link #done} when the prompt is over. */
        void advance(float[][] logits) {
            int nb = o.numBeams();
            int keep = 2 * nb;
            int vocab = logits[0].length;
            // Each beam's log-softmax (an exp per vocabulary entry: most of a step's host time) and top tokens,
            // beams in parallel; the candidates are then gathered in beam order, so the result does not depend on it.
            int n = running.size();
            float[][] lps = new float[n][];
            int[][] tops = new int[n][];
            IntStream beams = IntStream.range(0, n);
            (n > 1 ? beams.parallel() : beams).forEach(i -> {
                float[] lp = Logits.logSoftmax(logits[i]);
                penalties.apply(lp, ids, running.get(i).tokens, generated);
                lps[i] = lp;
                tops[i] = Logits.topK(lp, keep);
            });
            List<Candidate> cands = new ArrayList<>();
            for (int i = 0; i < n; i++)
                for (int t : tops[i]) cands.add(new Candidate(i, t, running.get(i).score + lps[i][t]));
            cands.sort(Comparator.comparingDouble(Candidate::score).reversed()
                    .thenComparingLong(c -> (long) c.parent * vocab + c.token));
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
                boolean ends = c.token == eosId || len >= o.maxNewTokens() || stops.hit(tokens, len);
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
                int hypothetical = o.earlyStopping().equals("never") && o.lengthPenalty() > 0 ? o.maxNewTokens() : len;
                double bestPossible = next.getFirst().score / Math.pow(heuristicLength(hypothetical), o.lengthPenalty());
                improvable = improvable && (!finished.full() || bestPossible > finished.worst());
            }
            done = next.isEmpty() || !improvable || (o.earlyStopping().equals("true") && finished.full());
            pending = next;
        }

        /** The length a finished hypothesis is normalized by. */
        private double scoreLength(int generatedLength, boolean endsWithEos) {
            if (!o.fullLengthNormalization()) return generatedLength;
            return ids.length + generatedLength - (endsWithEos ? 1 : 0);
        }

        private double heuristicLength(int generatedLength) {
            return o.fullLengthNormalization() ? ids.length + generatedLength : generatedLength;
        }

        /** Moves the KV cache to the new beams: forks each chosen parent, then frees the old beams. */
        void reseat(KvCache cache) {
            List<Beam> children = new ArrayList<>(pending.size());
            if (!done)
                for (Beam b : pending) children.add(new Beam(b.tokens, b.score, b.parent, cache.fork(running.get(b.parent).seq)));
            for (Beam b : running) cache.free(b.seq);
            running = children;
            pending = null;
        }
    }

    /** Runs the search for every prompt; returns each prompt's {@code numReturn} best hypotheses, best first. */
    List<List<Hypothesis>> run(LlamaModel.Context ctx, List<int[]> prompts) {
        KvCache cache = ctx.cache();
        int[] seqs = new int[prompts.size()];
        float[][] first = Generator.prefill(model, ctx, prompts, seqs);
        if (observer != null) observer.accept(cache);
        List<Prompt> states = new ArrayList<>();
        List<float[][]> rows = new ArrayList<>();
        for (int b = 0; b < prompts.size(); b++) {
            states.add(new Prompt(prompts.get(b), seqs[b]));
            rows.add(new float[][]{first[b]});
        }
        while (true) {
            List<Integer> tokens = new ArrayList<>(), seqList = new ArrayList<>(), positions = new ArrayList<>();
            List<Prompt> live = new ArrayList<>();
            for (int b = 0; b < states.size(); b++) {
                Prompt s = states.get(b);
                if (s.done) continue;
                s.advance(rows.get(b));
                s.reseat(cache);
                for (Beam beam : s.running) {
                    tokens.add(beam.tokens[s.generated - 1]);
                    seqList.add(beam.seq);
                    positions.add(s.ids.length + s.generated - 1);
                }
                if (!s.done) live.add(s);
            }
            if (live.isEmpty()) break;
            float[][] out = Generator.step(model, ctx, tokens, seqList, positions);
            if (observer != null) observer.accept(cache);
            int row = 0;
            for (int b = 0; b < states.size(); b++) {
                Prompt s = states.get(b);
                if (s.done) continue;
                rows.set(b, Arrays.copyOfRange(out, row, row + s.running.size()));
                row += s.running.size();
            }
        }
        List<List<Hypothesis>> results = new ArrayList<>();
        for (Prompt s : states) results.add(s.finished.top(o.numReturn()));
        return results;
    }
}
