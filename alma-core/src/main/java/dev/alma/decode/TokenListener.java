package dev.alma.decode;

/**
 * Receives generated tokens as they are chosen (greedy decoding and sampling; beam search only knows its result
 * at the end). Called on the generating thread, in order, once per token of each sequence, EOS included.
 */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param prompt   index of the prompt in the batch
     * @param sequence index of the sequence among that prompt's returned sequences (0 unless several samples)
     * @param token    the token just generated
     * @return {@code true} to go on, {@code false} to stop this sequence here (it keeps the tokens so far,
     * this one included)
     */
    boolean onToken(int prompt, int sequence, int token);
}
