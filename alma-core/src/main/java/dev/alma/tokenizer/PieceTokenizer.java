package dev.alma.tokenizer;

/**
 * What every tokenizer of this package shares: the id-to-piece table, the special ids and the decoder. Subclasses
 * add the encoding. Immutable.
 */
abstract sealed class PieceTokenizer implements Tokenizer permits SentencePieceTokenizer, HuggingFaceTokenizer {
    private final String[] pieces;
    private final int bosId, eosId, unkId;
    final PieceDecoder decoder;

    PieceTokenizer(String[] pieces, int bosId, int eosId, int unkId, PieceDecoder decoder) {
        this.pieces = pieces;
        this.bosId = bosId;
        this.eosId = eosId;
        this.unkId = unkId;
        this.decoder = decoder;
    }

    @Override
    public String decode(int[] ids) {
        return decoder.decode(ids);
    }

    @Override
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(decoder);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int unkId() {
        return unkId;
    }

    @Override
    public String piece(int id) {
        decoder.check(id);
        return pieces[id];
    }
}
