package dev.alma.decode;

import java.util.BitSet;

/**
 * The logits processors of Hugging Face's {@code generate} that {@link DecodingOptions} can switch on, in its order:
 * repetition penalty, no-repeat n-grams, minimum new tokens. They see the whole sequence, prompt included. Greedy
 * decoding and sampling apply them to the logits; beam search, as transformers does, to the log-probabilities.
 */
final class Penalties {
    private final double repetition;
    private final int ngram;
    private final int minNewTokens;
    private final int eosId;

    Penalties(DecodingOptions o, int eosId) {
        this.repetition = o.repetitionPenalty();
        this.ngram = o.noRepeatNgramSize();
        this.minNewTokens = o.minNewTokens();
        this.eosId = eosId;
    }

    /** Whether {@link #apply} can change anything. */
    boolean active() {
        return repetition != 1.0 || ngram > 0 || minNewTokens > 0;
    }

    /**
     * Adjusts {@code scores} in place for the sequence {@code prompt ++ generated[0..n)}.
     */
    void apply(float[] scores, int[] prompt, int[] generated, int n) {
        if (repetition != 1.0) penalizeRepeats(scores, prompt, generated, n);
        if (ngram > 0) banNgrams(scores, prompt, generated, n);
        if (n < minNewTokens && eosId >= 0 && eosId < scores.length) scores[eosId] = Float.NEGATIVE_INFINITY;
    }

    /** CTRL's penalty: a score of a token already present is divided by the penalty when positive, else multiplied. */
    private void penalizeRepeats(float[] scores, int[] prompt, int[] generated, int n) {
        BitSet seen = new BitSet(scores.length);
        for (int t : prompt) seen.set(t);
        for (int i = 0; i < n; i++) seen.set(generated[i]);
        float p = (float) repetition;
        for (int t = seen.nextSetBit(0); t >= 0 && t < scores.length; t = seen.nextSetBit(t + 1)) {
            float s = scores[t];
            scores[t] = s < 0 ? s * p : s / p;
        }
    }

    /** Bans every token that would complete an n-gram already present in the sequence. */
    private void banNgrams(float[] scores, int[] prompt, int[] generated, int n) {
        int len = prompt.length + n;
        if (len + 1 < ngram) return;
        int prefixStart = len - (ngram - 1);
        for (int start = 0; start + ngram <= len; start++) {
            boolean match = true;
            for (int j = 0; j < ngram - 1 && match; j++)
                match = at(prompt, generated, start + j) == at(prompt, generated, prefixStart + j);
            if (match) {
                int banned = at(prompt, generated, start + ngram - 1);
                if (banned >= 0 && banned < scores.length) scores[banned] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    private static int at(int[] prompt, int[] generated, int i) {
        return i < prompt.length ? prompt[i] : generated[i - prompt.length];
    }
}
