package dev.alma.model;

/**
 * The tokenizer stored in a GGUF file's {@code tokenizer.ggml.*} metadata, as plain arrays for a tokenizer
 * factory to build on.
 *
 * @param model          {@code tokenizer.ggml.model}: {@code llama} for SentencePiece vocabularies, {@code gpt2} for BPE
 * @param tokens         the pieces, by id
 * @param scores         SentencePiece scores by id, or null when the file has none
 * @param tokenTypes     token types by id (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte), or null
 * @param bosId          {@code tokenizer.ggml.bos_token_id}, or -1
 * @param eosId          {@code tokenizer.ggml.eos_token_id}, or -1
 * @param unkId          {@code tokenizer.ggml.unknown_token_id}, or -1
 * @param addSpacePrefix {@code tokenizer.ggml.add_space_prefix}, or null when the file does not say
 * @param addBos         {@code tokenizer.ggml.add_bos_token}, or null when the file does not say
 */
public record GgufVocabulary(String model, String[] tokens, float[] scores, int[] tokenTypes, int bosId, int eosId,
                             int unkId, Boolean addSpacePrefix, Boolean addBos) {

    /** Number of tokens. */
    public int size() {
        return tokens.length;
    }
}
