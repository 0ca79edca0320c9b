package dev.alma.decode;

/**
 * One generated sequence.
 *
 * @param tokens generated token ids (prompt excluded; a final EOS included when generated)
 * @param score  beam search: Hugging Face's {@code sequences_scores}, the sum of the tokens' log-probabilities
 *               (after the {@link DecodingOptions} penalties) divided by {@code length^lengthPenalty}; greedy and
 *               sampling: the sum of the chosen tokens' log-probabilities under the model (before penalties,
 *               temperature, top-k and top-p)
 */
public record Hypothesis(int[] tokens, double score) {
}
