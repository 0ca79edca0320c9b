package dev.alma.train;

import dev.alma.tokenizer.Tokenizer;

/**
 * A test tokenizer: one id per character ({@code 3 + codePoint mod (vocab−3)}), BOS 1, EOS 2, so that tests need
 * no model file. Decoding is only exact for characters below {@code vocab−3}.
 */
final class CharTokenizer implements Tokenizer {
    private final int vocab;

    CharTokenizer(int vocab) {
        this.vocab = vocab;
    }

    @Override
    public int[] encode(String text) {
        return text.codePoints().map(c -> 3 + c % (vocab - 3)).toArray();
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) if (id >= 3) b.appendCodePoint(id - 3);
        return b.toString();
    }

    /** Training never decodes incrementally; this test double has no streaming decoder. */
    @Override
    public dev.alma.tokenizer.StreamingDecoder streamingDecoder() {
        throw new UnsupportedOperationException("CharTokenizer is a test double without streaming decoding");
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int bosId() {
        return 1;
    }

    @Override
    public int eosId() {
        return 2;
    }

    @Override
    public int unkId() {
        return 0;
    }

    @Override
    public String piece(int id) {
        return Character.toString(id);
    }
}
