package dev.alma.tokenizer;

/**
 * Turns ids back into text the way SentencePiece's decoder does: each piece's surface (its text with the whitespace
 * symbol as a space), runs of byte pieces reassembled into UTF-8 (each byte of an invalid sequence as U+FFFD),
 * special pieces left out, and the dummy-prefix space of the first piece removed. Immutable.
 */
final class PieceDecoder {
    /** How the leading space that encoding added is removed. */
    enum LeadingSpace {
        /** Keep everything. */
        KEEP,
        /** SentencePiece: drop the whitespace symbol that starts the first visible piece. */
        FIRST_PIECE,
        /** SentencePiece with remove_extra_whitespaces: drop it from every piece until text appears. */
        ALL_LEADING_PIECES,
        /** Hugging Face {@code Strip} decoder: drop up to {@code stripCount} leading spaces of the text. */
        TEXT_CHARS,
        /** Hugging Face {@code Metaspace} decoder: the first visible token is decoded by its stripped surface. */
        FIRST_TOKEN
    }

    private final String[] surface;
    private final String[] strippedSurface;
    private final int[] byteValue;
    final LeadingSpace leading;
    final int stripCount;

    /**
     * @param surface         text of each id, null for ids that decode to nothing (special tokens)
     * @param strippedSurface text of each id when it is the first visible piece and starts with the dummy prefix,
     *                        or null where the piece does not start with it
     * @param byteValue       the byte of each byte piece, -1 for other pieces
     */
    PieceDecoder(String[] surface, String[] strippedSurface, int[] byteValue, LeadingSpace leading, int stripCount) {
        this.surface = surface;
        this.strippedSurface = strippedSurface;
        this.byteValue = byteValue;
        this.leading = leading;
        this.stripCount = stripCount;
    }

    int size() {
        return surface.length;
    }

    void check(int id) {
        if (id < 0 || id >= surface.length)
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + surface.length + ")");
    }

    int byteValue(int id) {
        return byteValue[id];
    }

    String surface(int id) {
        return surface[id];
    }

    String strippedSurface(int id) {
        return strippedSurface[id];
    }

    /** The text of {@code ids}. */
    String decode(int[] ids) {
        StringBuilder text = new StringBuilder(ids.length * 4);
        byte[] bytes = new byte[ids.length];
        int byteCount = 0;
        boolean atStart = leading == LeadingSpace.FIRST_PIECE || leading == LeadingSpace.ALL_LEADING_PIECES;
        boolean strippedPrevious = false;
        boolean firstToken = leading == LeadingSpace.FIRST_TOKEN;
        for (int id : ids) {
            check(id);
            int b = byteValue[id];
            if (b >= 0) {
                bytes[byteCount++] = (byte) b;
                firstToken = false;
                continue;
            }
            if (byteCount > 0) {
                Utf8.decode(bytes, 0, byteCount, text);
                byteCount = 0;
            }
            if (strippedPrevious || !text.isEmpty()) atStart = false;
            String s = surface[id];
            strippedPrevious = false;
            if (s == null) continue;
            if (firstToken) {
                firstToken = false;
                if (strippedSurface[id] != null) s = strippedSurface[id];
            } else if (atStart && strippedSurface[id] != null) {
                s = strippedSurface[id];
                strippedPrevious = leading == LeadingSpace.FIRST_PIECE;
            }
            text.append(s);
        }
        if (byteCount > 0) Utf8.decode(bytes, 0, byteCount, text);
        if (leading == LeadingSpace.TEXT_CHARS) {
            int cut = 0;
            while (cut < stripCount && cut < text.length() && text.charAt(cut) == ' ') cut++;
            text.delete(0, cut);
        }
        return text.toString();
    }
}
