package dev.alma.decode;

import dev.alma.model.LlamaModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Beam search where EOS competes: a random model whose EOS row of {@code lm_head} is scaled up, so EOS often ranks
 * among the candidates. Every finished hypothesis, its score and the number of steps are checked against
 * {@link Reference}, a literal transcription of transformers' tensor bookkeeping that recomputes every beam
 * from scratch (no KV cache sharing), for each early-stopping mode and several length penalties.
 */
class EosBeamSearchTest {
    static final int VOCAB = EosModel.VOCAB, EOS = EosModel.EOS, BEAMS = 4, MAX_NEW = 10;
    static LlamaModel model;
    static List<int[]> prompts = new ArrayList<>();

    @BeforeAll
    static void build(@TempDir Path dir) {
        model = EosModel.open(dir, 3f);
        prompts.addAll(EosModel.prompts(6, 5, i -> 5 + i));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** transformers' {@code _beam_search}, step by step on whole tensors, each beam's logits from a fresh forward pass. */
    static final class Reference {
        int steps;

        List<Hypothesis> run(int[] prompt, DecodingOptions o) {
            int nb = o.numBeams(), k = 2 * nb;
            int[][] running = new int[nb][0];
            double[] runningScores = new double[nb];
            Arrays.fill(runningScores, 1, nb, -1e9);
            int[][] finished = new int[nb][0];
            double[] finishedScores = new double[nb];
            Arrays.fill(finishedScores, -1e9);
            boolean[] isFinished = new boolean[nb];
            boolean unsatisfied = true;
            for (int cur = 0; ; cur++) {
                steps++;
                double[] acc = new double[nb * VOCAB];
                for (int b = 0; b < nb; b++) {
                    float[] logits = lastLogits(prompt, running[b]);
                    double lse = Logits.logSumExp(logits);
                    for (int v = 0; v < VOCAB; v++) {
                        double lp = (float) (logits[v] - lse);
                        if (v == EOS && cur < o.minNewTokens()) lp = Double.NEGATIVE_INFINITY;
                        acc[b * VOCAB + v] = runningScores[b] + lp;
                    }
                }
                int[] top = topK(acc, k);
                int[][] cand = new int[k][];
                double[] candScores = new double[k];
                boolean[] hits = new boolean[k];
                for (int j = 0; j < k; j++) {
                    int[] parent = running[top[j] / VOCAB];
                    cand[j] = Arrays.copyOf(parent, parent.length + 1);
                    cand[j][parent.length] = top[j] % VOCAB;
                    candScores[j] = acc[top[j]];
                    hits[j] = top[j] % VOCAB == EOS || cur + 1 >= o.maxNewTokens();
                }
                // next running beams: the best candidates that did not stop
                double[] masked = new double[k];
                for (int j = 0; j < k; j++) masked[j] = candScores[j] + (hits[j] ? -1e9 : 0);
                int[] keep = topK(masked, nb);
                int[][] nextRunning = new int[nb][];
                double[] nextScores = new double[nb];
                for (int j = 0; j < nb; j++) {
                    nextRunning[j] = cand[keep[j]];
                    nextScores[j] = masked[keep[j]];
                }
                // finished beams: merge the stopped candidates among the first nb ranks
                boolean allFinished = true;
                for (boolean f : isFinished) allFinished &= f;
                double[] merged = new double[nb + k];
                boolean[] mergedFinished = new boolean[nb + k];
                int[][] mergedSeqs = new int[nb + k][];
                for (int j = 0; j < nb; j++) {
                    merged[j] = finishedScores[j];
                    mergedFinished[j] = isFinished[j];
                    mergedSeqs[j] = finished[j];
                }
                for (int j = 0; j < k; j++) {
                    boolean just = hits[j] && j < nb;
                    double s = candScores[j] / Math.pow(cur + 1, o.lengthPenalty());
                    if (allFinished && o.earlyStopping().equals("true")) s -= 1e9;
                    if (!unsatisfied) s -= 1e9;
                    if (!just) s -= 1e9;
                    merged[nb + j] = s;
                    mergedFinished[nb + j] = just;
                    mergedSeqs[nb + j] = cand[j];
                }
                int[] best = topK(merged, nb);
                for (int j = 0; j < nb; j++) {
                    finishedScores[j] = merged[best[j]];
                    isFinished[j] = mergedFinished[best[j]];
                    finished[j] = mergedSeqs[best[j]];
                }
                running = nextRunning;
                runningScores = nextScores;
                int len = cur + 1;
                int hyp = o.earlyStopping().equals("never") && o.lengthPenalty() > 0 ? o.maxNewTokens() : len;
                double bestPossible = runningScores[0] / Math.pow(hyp, o.lengthPenalty());
                double min = Arrays.stream(finishedScores).min().orElseThrow();
                boolean any = false;
                for (int j = 0; j < nb; j++) any |= bestPossible > (isFinished[j] ? min : -1e9);
                unsatisfied &= any;
                allFinished = true;
                for (boolean f : isFinished) allFinished &= f;
                boolean allHit = true;
                for (boolean h : hits) allHit &= h;
                if (!unsatisfied || (allFinished && o.earlyStopping().equals("true")) || allHit) break;
            }
            List<Hypothesis> out = new ArrayList<>();
            for (int j = 0; j < o.numReturn(); j++) {
                assertTrue(isFinished[j], "reference ended with an unfinished slot");
                out.add(new Hypothesis(finished[j], finishedScores[j]));
            }
            return out;
        }

        private static float[] lastLogits(int[] prompt, int[] generated) {
            int[] all = Arrays.copyOf(prompt, prompt.length + generated.length);
            System.arraycopy(generated, 0, all, prompt.length, generated.length);
            try (LlamaModel.Context ctx = model.newContext(all.length)) {
                return model.append(ctx, ctx.cache().create(), all, false)[0];
            }
        }

        /** Indexes of the k largest values, largest first, lower index first on ties (a full stable sort). */
        private static int[] topK(double[] x, int k) {
            Integer[] idx = new Integer[x.length];
            for (int i = 0; i < idx.length; i++) idx[i] = i;
            Arrays.sort(idx, (a, b) -> Double.compare(x[b], x[a]));
            int[] out = new int[k];
            for (int i = 0; i < k; i++) out[i] = idx[i];
            return out;
        }
    }

    private static void compare(DecodingOptions o, int[] counts) {
        for (int[] prompt : prompts) {
            Reference ref = new Reference();
            List<Hypothesis> want = ref.run(prompt, o);
            int[] steps = {0};
            List<Hypothesis> got = new Generator(model, o).withStepObserver(c -> steps[0]++).generate(prompt);
            String what = o.earlyStopping() + "/" + o.lengthPenalty() + "/min " + o.minNewTokens() + " prompt " + Arrays.toString(prompt);
            assertEquals(want.size(), got.size(), what);
            for (int j = 0; j < want.size(); j++) {
                assertArrayEquals(want.get(j).tokens(), got.get(j).tokens(), what + " hypothesis " + j);
                assertEquals(want.get(j).score(), got.get(j).score(), 1e-5, what + " score " + j);
                int[] t = got.get(j).tokens();
                if (t[t.length - 1] == EOS) counts[0]++;
            }
            assertEquals(ref.steps, steps[0], what + ": decoding steps");
            if (steps[0] < o.maxNewTokens()) counts[1]++;
        }
    }

    @Test
    void finishedHypothesesMatchTheReferenceForEveryModeAndPenalty() {
        int[] counts = new int[2];
        for (String mode : List.of("false", "true", "never"))
            for (double lp : new double[]{0.5, 1.0, 2.0})
                compare(DecodingOptions.alma().withBeams(BEAMS).withNumReturn(BEAMS).withMaxNewTokens(MAX_NEW)
                        .withEarlyStopping(mode).withLengthPenalty(lp), counts);
        System.out.println("EOS-ended hypotheses: " + counts[0] + ", searches stopped early: " + counts[1]);
        assertTrue(counts[0] >= 20, "the test model must make EOS compete: only " + counts[0] + " hypotheses end with EOS");
        assertTrue(counts[1] >= 3, "some searches must stop before max_new_tokens: " + counts[1]);
    }

    @Test
    void minNewTokensHoldsEosBack() {
        int[] counts = new int[2];
        DecodingOptions o = DecodingOptions.alma().withBeams(BEAMS).withNumReturn(BEAMS).withMaxNewTokens(MAX_NEW).withMinNewTokens(4);
        compare(o, counts);
        for (int[] p : prompts)
            for (Hypothesis h : new Generator(model, o).generate(p))
                for (int i = 0; i < 3; i++) assertTrue(h.tokens()[i] != EOS, "EOS before min_new_tokens");
    }

    /** Sum of the log-probabilities of {@code tokens} after {@code prompt}, by teacher forcing. */
    private static double logProb(int[] prompt, int[] tokens) {
        int[] all = Arrays.copyOf(prompt, prompt.length + tokens.length);
        System.arraycopy(tokens, 0, all, prompt.length, tokens.length);
        try (LlamaModel.Context ctx = model.newContext(all.length)) {
            float[][] logits = model.append(ctx, ctx.cache().create(), all, true);
            double sum = 0;
            for (int i = 0; i < tokens.length; i++) {
                float[] after = logits[prompt.length - 1 + i];
                sum += after[tokens[i]] - Logits.logSumExp(after);
            }
            return sum;
        }
    }

    @Test
    void sequenceScoresAreLogProbOverLengthToThePenalty() {
        for (boolean full : new boolean[]{false, true})
            for (double lp : new double[]{0.5, 2.0}) {
                DecodingOptions o = DecodingOptions.alma().withBeams(BEAMS).withNumReturn(BEAMS).withMaxNewTokens(MAX_NEW)
                        .withLengthPenalty(lp).withFullLengthNormalization(full);
                for (int[] p : prompts)
                    for (Hypothesis h : new Generator(model, o).generate(p)) {
                        int n = h.tokens().length;
                        boolean eos = h.tokens()[n - 1] == EOS;
                        double length = full ? p.length + n - (eos ? 1 : 0) : n;
                        assertEquals(logProb(p, h.tokens()), h.score() * Math.pow(length, lp), 1e-4,
                                "full=" + full + " lp=" + lp + " " + Arrays.toString(h.tokens()));
                    }
            }
    }
}
