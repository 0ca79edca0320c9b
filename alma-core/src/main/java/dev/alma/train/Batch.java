package dev.alma.train;

/**
 * A training batch of {@code size} sequences of {@code seqLen} tokens, row-major: input ids, and labels in
 * transformers' unshifted convention (label {@code t} is the token at {@code t}; the loss shifts them; {@code -100}
 * is not supervised). Sequences shorter than {@code seqLen} are right-padded with label {@code -100}; the causal
 * mask keeps padding from affecting the real tokens, so no attention mask is needed.
 */
public record Batch(int size, int seqLen, int[] inputIds, int[] labels) {
    public Batch {
        if (size <= 0 || seqLen <= 0) throw new IllegalArgumentException("empty batch");
        if (inputIds.length != size * seqLen || labels.length != size * seqLen)
            throw new IllegalArgumentException("batch of " + size + "×" + seqLen + " needs " + size * seqLen + " ids and labels");
    }

    /** Number of supervised next-token targets. */
    public int targets() {
        return CrossEntropy.count(labels, seqLen);
    }

    /** Number of positions the model processes, padding included (for throughput). */
    public int tokens() {
        return size * seqLen;
    }
}
