package dev.alma.decode;

/**
 * One generated sequence.
 *
 * @param tokens generated token ids (prompt excluded; a final EOS included when generated)
 * @param score  beam search: Hugging Face's sequence score (sum of log-probs / length^penalty); otherwise the
 *               sum of the chosen tokens' log-probabilities
 */
public record Hypothesis(int[] tokens, double score) {
}
