package dev.alma.tokenizer;

/**
 * Decodes ids one at a time for token-by-token output. {@link #accept} returns the text completed by that id (often
 * empty while a multi-byte character is still arriving as byte pieces); it never returns half a UTF-8 character.
 * The concatenation of every {@link #accept} result and {@link #finish()} equals {@link Tokenizer#decode} of all
 * ids. Not thread-safe: use one per output stream.
 */
public final class StreamingDecoder {
    private final PieceDecoder pieces;
    private final byte[] pending = new byte[8];
    private int pendingCount;
    private boolean atStart;
    private boolean strippedPrevious;
    private boolean anyText;
    private int stripLeft;
    private boolean firstToken;

    StreamingDecoder(PieceDecoder pieces) {
        this.pieces = pieces;
        reset();
    }

    private void reset() {
        pendingCount = 0;
        atStart = pieces.leading == PieceDecoder.LeadingSpace.FIRST_PIECE
                || pieces.leading == PieceDecoder.LeadingSpace.ALL_LEADING_PIECES;
        strippedPrevious = false;
        anyText = false;
        stripLeft = pieces.leading == PieceDecoder.LeadingSpace.TEXT_CHARS ? pieces.stripCount : 0;
        firstToken = pieces.leading == PieceDecoder.LeadingSpace.FIRST_TOKEN;
    }

    /**
     * Adds one id and returns the text it completes.
     *
     * @throws IllegalArgumentException if {@code id} is outside the vocabulary
     */
    public String accept(int id) {
        pieces.check(id);
        StringBuilder out = new StringBuilder();
        int b = pieces.byteValue(id);
        if (b >= 0) {
            pending[pendingCount++] = (byte) b;
            firstToken = false;
            int done = Utf8.decodeComplete(pending, 0, pendingCount, out);
            System.arraycopy(pending, done, pending, 0, pendingCount - done);
            pendingCount -= done;
            return emit(out);
        }
        flushPending(out);
        if (strippedPrevious || anyText || !out.isEmpty()) atStart = false;
        strippedPrevious = false;
        String s = pieces.surface(id);
        if (s != null) {
            if (firstToken) {
                firstToken = false;
                if (pieces.strippedSurface(id) != null) s = pieces.strippedSurface(id);
            } else if (atStart && pieces.strippedSurface(id) != null) {
                s = pieces.strippedSurface(id);
                strippedPrevious = pieces.leading == PieceDecoder.LeadingSpace.FIRST_PIECE;
            }
            out.append(s);
        }
        return emit(out);
    }

    /** Ends the stream: returns what is left (bytes of a cut-off character become U+FFFD) and resets the state. */
    public String finish() {
        StringBuilder out = new StringBuilder();
        flushPending(out);
        String s = emit(out);
        reset();
        return s;
    }

    private void flushPending(StringBuilder out) {
        if (pendingCount > 0) {
            Utf8.decode(pending, 0, pendingCount, out);
            pendingCount = 0;
        }
    }

    private String emit(StringBuilder out) {
        int cut = 0;
        while (stripLeft > 0 && cut < out.length()) {
            if (out.charAt(cut) != ' ') {
                stripLeft = 0;
                break;
            }
            cut++;
            stripLeft--;
        }
        if (cut < out.length()) {
            anyText = true;
            stripLeft = 0;
        }
        return cut == 0 ? out.toString() : out.substring(cut);
    }
}
