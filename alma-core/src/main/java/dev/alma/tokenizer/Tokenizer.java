package dev.alma.tokenizer;

/**
 * Text to token ids and back, exactly as the model's reference tokenizer does. Implementations are immutable and
 * safe to share between threads.
 */
public interface Tokenizer {
    /** Token ids of {@code text}, without BOS or EOS. Text spelling {@code <s>} is ordinary text. */
    int[] encode(String text);

    /** Text of {@code ids}; special tokens (BOS, EOS, UNK, control) are dropped. */
    String decode(int[] ids);

    /** Number of ids. */
    int vocabSize();

    /** Id of {@code <s>}. */
    int bosId();

    /** Id of {@code </s>}. */
    int eosId();

    /** Id of {@code <unk>}. */
    int unkId();

    /** The stored piece of {@code id}, e.g. {@code ▁Haus} or {@code <0x0A>}. */
    String piece(int id);
}
