package dev.alma.tokenizer;

import java.nio.file.Path;

/**
 * Text to token ids and back, exactly as the model's reference tokenizer does. Implementations are immutable and
 * safe to share between threads.
 */
public interface Tokenizer {
    /**
     * Loads a tokenizer: a SentencePiece {@code tokenizer.model}, a Hugging Face {@code tokenizer.json}, or a model
     * directory holding one of them ({@code tokenizer.model} preferred).
     *
     * @throws dev.alma.io.FormatException if the file is missing, malformed, truncated or of an unsupported kind
     */
    static Tokenizer load(Path path) {
        return TokenizerFiles.load(path);
    }

    /** Token ids of {@code text}, without BOS or EOS. Text spelling {@code <s>} is ordinary text. */
    int[] encode(String text);

    /** Text of {@code ids}; special tokens (BOS, EOS, UNK, control) are dropped. */
    String decode(int[] ids);

    /** A fresh decoder for ids that arrive one at a time; its output concatenates to {@link #decode}. */
    StreamingDecoder streamingDecoder();

    /** Number of ids. */
    int vocabSize();

    /** Id of {@code <s>}, or -1 when there is none. */
    int bosId();

    /** Id of {@code </s>}, or -1 when there is none. */
    int eosId();

    /** Id of {@code <unk>}. */
    int unkId();

    /** The stored piece of {@code id}, e.g. {@code ▁Haus} or {@code <0x0A>}. */
    String piece(int id);
}
