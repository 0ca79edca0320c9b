package dev.alma.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SentencePiece's BPE tokenizer (the LLaMA-2 one): the normalizer's whitespace handling (dummy prefix, spaces as
 * {@code ▁}, optional removal of extra spaces), merges of the adjacent pair whose joined piece has the highest
 * score (the leftmost on ties), unknown characters as byte pieces {@code <0xXX>} when byte fallback is on.
 * Built from a {@code tokenizer.model} by {@link Tokenizer#load}, or from a vocabulary by
 * {@link #fromVocabulary} (GGUF's {@code tokenizer.ggml.*} arrays). Immutable and thread-safe.
 */
public final class SentencePieceTokenizer extends PieceTokenizer {
    /** Piece types, numbered as SentencePiece's {@code ModelProto.SentencePiece.Type} (and GGUF's token types). */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    private static final char SPACE_SYMBOL = '\u2581';
    private static final AtomicLong SERIAL = new AtomicLong();

    /** Normalizer settings, as in SentencePiece's {@code NormalizerSpec} and {@code TrainerSpec}. */
    record Options(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces,
                   boolean treatWhitespaceAsSuffix, boolean byteFallback) {
    }

    private final float[] scores;
    private final byte[] types;
    private final Options options;
    /** Normal, user-defined and unused pieces: the ones merges may produce. */
    private final PieceTable mergeable;
    /** Control, unknown and byte pieces. */
    private final PieceTable reserved;
    private final int[] byteIds;
    /** User-defined pieces, longest first; they are never split nor merged. */
    private final char[][] userDefined;
    /** Output id of each one-char piece of the Basic Multilingual Plane, -1 when there is none. */
    private final int[] charIds = new int[65536];
    /** Output id of each mergeable piece: itself, or a reserved piece of the same text, which SentencePiece prefers. */
    private final int[] outputIds;
    /** Whether words (a run of "▁" and the characters up to the next "▁") can be encoded one by one. */
    private final boolean wordwise;
    /** Identifies this tokenizer's entries in the per-thread word memo. */
    private final long serial = SERIAL.incrementAndGet();

    /** Normalization rules of the model, or null for the identity (LLaMA). */
    private final PrecompiledCharsMap charsMap;
    /** UTF-8 of the user-defined pieces, for matching them in the input when a character map is applied. */
    private final byte[][] userDefinedUtf8;

    SentencePieceTokenizer(String[] pieces, float[] scores, int[] types, int bosId, int eosId, Options options,
                           PrecompiledCharsMap charsMap) {
        int n = pieces.length;
        if (n == 0) throw new IllegalArgumentException("the vocabulary is empty");
        if (scores.length != n || types.length != n)
            throw new IllegalArgumentException("pieces, scores and types differ in length: " + n + ", "
                    + scores.length + ", " + types.length);
        PieceTable mergeable = new PieceTable(n);
        PieceTable reserved = new PieceTable(n);
        byte[] typeBytes = new byte[n];
        int[] byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        List<char[]> user = new ArrayList<>();
        int unk = -1;
        for (int i = 0; i < n; i++) {
            String p = pieces[i];
            int t = types[i];
            if (p == null || p.isEmpty()) throw new IllegalArgumentException("piece " + i + " is empty");
            if (t < NORMAL || t > BYTE) throw new IllegalArgumentException("piece " + i + " has unknown type " + t);
            typeBytes[i] = (byte) t;
            boolean normal = t == NORMAL || t == USER_DEFINED || t == UNUSED;
            if (!(normal ? mergeable : reserved).put(p, i))
                throw new IllegalArgumentException("piece " + i + " '" + p + "' is defined twice");
            if (t == USER_DEFINED) user.add(p.toCharArray());
            if (t == UNKNOWN) {
                if (unk >= 0) throw new IllegalArgumentException("pieces " + unk + " and " + i + " are both unknown");
                unk = i;
            }
            if (t == BYTE) {
                int b = byteOf(p);
                if (b < 0) throw new IllegalArgumentException("byte piece " + i + " is '" + p + "', not <0xXX>");
                byteIds[b] = i;
            }
        }
        if (unk < 0) throw new IllegalArgumentException("no piece has the unknown type");
        checkSpecial("bos", bosId, n);
        checkSpecial("eos", eosId, n);
        String[] copy = pieces.clone();
        super(copy, bosId, eosId, unk, decoder(copy, typeBytes, options));
        this.scores = scores.clone();
        this.types = typeBytes;
        this.options = options;
        this.mergeable = mergeable;
        this.reserved = reserved;
        this.byteIds = byteIds;
        user.sort((x, y) -> y.length - x.length);
        this.userDefined = user.toArray(char[][]::new);
        outputIds = new int[n];
        Arrays.fill(charIds, -1);
        boolean wordwise = options.escapeWhitespaces() && options.byteFallback() && user.isEmpty();
        for (int i = 0; i < n; i++) {
            wordwise &= typeBytes[i] != UNUSED && !(typeBytes[i] == NORMAL && spansWordStart(copy[i]));
            int r = reserved.get(copy[i]);
            outputIds[i] = r >= 0 ? r : i;
            if (copy[i].length() == 1) charIds[copy[i].charAt(0)] = pieceToId(copy[i].toCharArray(), 0, 1);
        }
        this.wordwise = wordwise;
        this.charsMap = charsMap;
        userDefinedUtf8 = new byte[userDefined.length][];
        for (int i = 0; i < userDefined.length; i++)
            userDefinedUtf8[i] = new String(userDefined[i]).getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code piece} has a whitespace symbol right after another character, i.e. reaches into a next word. */
    private static boolean spansWordStart(String piece) {
        for (int i = 1; i < piece.length(); i++)
            if (piece.charAt(i) == SPACE_SYMBOL && piece.charAt(i - 1) != SPACE_SYMBOL) return true;
        return false;
    }

    /**
     * A tokenizer from a vocabulary such as GGUF's {@code tokenizer.ggml.tokens}, {@code .scores} and
     * {@code .token_type}, with LLaMA's normalizer: spaces as {@code ▁}, extra spaces kept, byte fallback when the
     * vocabulary has byte pieces.
     *
     * @param types          SentencePiece piece types: {@link #NORMAL}, {@link #UNKNOWN}, {@link #CONTROL},
     *                       {@link #USER_DEFINED}, {@link #UNUSED}, {@link #BYTE}
     * @param bosId          id of {@code <s>}, or -1
     * @param eosId          id of {@code </s>}, or -1
     * @param unkId          id of {@code <unk>}; must be the piece of type {@link #UNKNOWN}
     * @param addDummyPrefix whether a space is put in front of the text (GGUF's {@code tokenizer.ggml.add_space_prefix},
     *                       true for LLaMA)
     * @throws IllegalArgumentException if the arrays are inconsistent, a piece is empty or repeated, or an id is
     *                                  out of range
     */
    public static SentencePieceTokenizer fromVocabulary(String[] pieces, float[] scores, int[] types, int bosId,
                                                        int eosId, int unkId, boolean addDummyPrefix) {
        return fromVocabulary(pieces, scores, types, bosId, eosId, unkId, addDummyPrefix, false);
    }

    /**
     * As {@link #fromVocabulary(String[], float[], int[], int, int, int, boolean)}, with SentencePiece's
     * {@code remove_extra_whitespaces} (GGUF's {@code tokenizer.ggml.remove_extra_whitespaces}, false for LLaMA):
     * leading, trailing and repeated spaces dropped before encoding.
     */
    public static SentencePieceTokenizer fromVocabulary(String[] pieces, float[] scores, int[] types, int bosId,
                                                        int eosId, int unkId, boolean addDummyPrefix,
                                                        boolean removeExtraWhitespaces) {
        boolean hasBytes = false;
        for (int t : types) hasBytes |= t == BYTE;
        SentencePieceTokenizer tok = new SentencePieceTokenizer(pieces, scores, types, bosId, eosId,
                new Options(addDummyPrefix, removeExtraWhitespaces, true, false, hasBytes), null);
        if (tok.unkId() != unkId)
            throw new IllegalArgumentException("unk id " + unkId + " is not the unknown piece " + tok.unkId());
        return tok;
    }

    private static void checkSpecial(String name, int id, int n) {
        if (id < -1 || id >= n) throw new IllegalArgumentException(name + " id " + id + " is out of range [0, " + n + ")");
    }

    /** The byte of a piece spelled {@code <0xXX>} (two upper-case hex digits, as SentencePiece writes them), or -1. */
    static int byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        int hi = hexDigit(piece.charAt(3)), lo = hexDigit(piece.charAt(4));
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static int hexDigit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static PieceDecoder decoder(String[] pieces, byte[] types, Options options) {
        int n = pieces.length;
        String[] surface = new String[n];
        String[] stripped = new String[n];
        int[] byteValue = new int[n];
        for (int i = 0; i < n; i++) {
            byteValue[i] = types[i] == BYTE ? byteOf(pieces[i]) : -1;
            if (types[i] == CONTROL || types[i] == UNKNOWN) continue;
            surface[i] = pieces[i].replace(SPACE_SYMBOL, ' ');
            if (pieces[i].charAt(0) == SPACE_SYMBOL) stripped[i] = pieces[i].substring(1).replace(SPACE_SYMBOL, ' ');
        }
        PieceDecoder.LeadingSpace leading = options.treatWhitespaceAsSuffix() ? PieceDecoder.LeadingSpace.KEEP
                : options.removeExtraWhitespaces() ? PieceDecoder.LeadingSpace.ALL_LEADING_PIECES
                : options.addDummyPrefix() ? PieceDecoder.LeadingSpace.FIRST_PIECE : PieceDecoder.LeadingSpace.KEEP;
        return new PieceDecoder(surface, stripped, byteValue, leading, 0);
    }

    @Override
    public int[] encode(String text) {
        EncodeScratch s = EncodeScratch.get();
        normalize(text, s);
        if (s.length == 0) return new int[0];
        if (!wordwise) {
            segment(s, 0, s.length);
            return s.result();
        }
        // No piece reaches across the start of a word ("▁" after another character), so words encode alone
        // and repeated words come from the memo.
        WordCache cache = s.words(serial);
        char[] t = s.text;
        int from = 0;
        for (int i = 1; i <= s.length; i++) {
            if (i == s.length || (t[i] == SPACE_SYMBOL && t[i - 1] != SPACE_SYMBOL)) {
                if (!cache.emitIfCached(t, from, i - from, s)) {
                    int before = s.outCount;
                    segment(s, from, i);
                    cache.put(t, from, i - from, s.out, before, s.outCount);
                }
                from = i;
            }
        }
        return s.result();
    }

    /** Encodes {@code s.text[from, to)} with SentencePiece's BPE and appends the ids. */
    private void segment(EncodeScratch s, int from, int to) {
        int n = split(s, from, to);
        merge(s, n);
        boolean prevUnknown = false;
        for (int sym = 0; sym != -1; sym = s.next[sym]) {
            prevUnknown = output(s, s.start[sym], s.len[sym], s.id[sym], prevUnknown);
        }
    }

    /** SentencePiece's {@code Normalizer::Normalize} without a character map: whitespace rules only. */
    private void normalize(String text, EncodeScratch s) {
        if (charsMap != null) {
            normalizeWithCharsMap(text, s);
            return;
        }
        int n = text.length();
        int i = 0;
        boolean removeExtra = options.removeExtraWhitespaces();
        if (removeExtra) while (i < n && text.charAt(i) == ' ') i++;
        if (i == n) return;
        if (!options.treatWhitespaceAsSuffix() && options.addDummyPrefix()) appendSpace(s);
        boolean prevSpace = removeExtra;
        while (i < n) {
            int matched = userDefined.length == 0 ? 0 : matchUserDefined(text, i);
            if (matched > 0) {
                int from = i;
                while (prevSpace && from < i + matched && text.charAt(from) == ' ') from++;
                for (int k = from; k < i + matched; k++) appendChar(s, text.charAt(k));
                if (from < i + matched) prevSpace = text.charAt(i + matched - 1) == ' ';
                i += matched;
            } else {
                char c = text.charAt(i);
                if (c == ' ') {
                    if (!prevSpace) appendSpace(s);
                    prevSpace = true;
                    i++;
                } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    s.appendText(c);
                    s.appendText(text.charAt(i + 1));
                    prevSpace = false;
                    i += 2;
                } else {
                    s.appendText(Character.isSurrogate(c) ? '\uFFFD' : c);
                    prevSpace = false;
                    i++;
                }
            }
            if (!removeExtra) prevSpace = false;
        }
        if (removeExtra) {
            char space = options.escapeWhitespaces() ? SPACE_SYMBOL : ' ';
            while (s.length > 0 && s.text[s.length - 1] == space) s.length--;
        }
        if (options.treatWhitespaceAsSuffix() && options.addDummyPrefix()) appendSpace(s);
    }

    /**
     * SentencePiece's {@code Normalizer::Normalize} with a character map: the input is consumed rule by rule on its
     * UTF-8 bytes (a user-defined piece, else the longest rule, else one character), and the whitespace rules are
     * applied to each replacement.
     */
    private void normalizeWithCharsMap(String text, EncodeScratch s) {
        byte[] in = utf8(text);
        int n = in.length;
        String[] piece = new String[1];
        boolean removeExtra = options.removeExtraWhitespaces();
        int i = 0;
        if (removeExtra) {
            while (i < n) {
                int consumed = prefix(in, i, piece);
                if (!piece[0].equals(" ")) break;
                i += consumed;
            }
        }
        if (i == n) return;
        if (!options.treatWhitespaceAsSuffix() && options.addDummyPrefix()) appendSpace(s);
        boolean prevSpace = removeExtra;
        while (i < n) {
            i += prefix(in, i, piece);
            String p = piece[0];
            int k = 0;
            while (prevSpace && k < p.length() && p.charAt(k) == ' ') k++;
            if (k < p.length()) {
                for (int j = k; j < p.length(); j++) appendChar(s, p.charAt(j));
                prevSpace = p.charAt(p.length() - 1) == ' ';
            }
            if (!removeExtra) prevSpace = false;
        }
        if (removeExtra) {
            char space = options.escapeWhitespaces() ? SPACE_SYMBOL : ' ';
            while (s.length > 0 && s.text[s.length - 1] == space) s.length--;
        }
        if (options.treatWhitespaceAsSuffix() && options.addDummyPrefix()) appendSpace(s);
    }

    /** SentencePiece's {@code NormalizePrefix}: stores the normalized text of the next unit and returns its byte length. */
    private int prefix(byte[] in, int at, String[] piece) {
        for (byte[] u : userDefinedUtf8) {
            if (u.length <= in.length - at && Arrays.equals(u, 0, u.length, in, at, at + u.length)) {
                piece[0] = new String(u, StandardCharsets.UTF_8);
                return u.length;
            }
        }
        int matched = charsMap.longestMatch(in, at, in.length, piece);
        if (matched > 0) return matched;
        int len = Utf8.sequenceLength(in, at, in.length);
        if (len <= 0) {
            piece[0] = "\uFFFD";
            return 1;
        }
        piece[0] = new String(in, at, len, StandardCharsets.UTF_8);
        return len;
    }

    /** UTF-8 of {@code text}, a lone surrogate as U+FFFD. */
    private static byte[] utf8(String text) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .replaceWith(new byte[]{(byte) 0xEF, (byte) 0xBF, (byte) 0xBD})
                    .encode(CharBuffer.wrap(text));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void appendSpace(EncodeScratch s) {
        s.appendText(options.escapeWhitespaces() ? SPACE_SYMBOL : ' ');
    }

    private void appendChar(EncodeScratch s, char c) {
        s.appendText(c == ' ' && options.escapeWhitespaces() ? SPACE_SYMBOL : c);
    }

    private int matchUserDefined(String text, int at) {
        for (char[] u : userDefined) {
            if (u.length <= text.length() - at && text.regionMatches(at, new String(u), 0, u.length)) return u.length;
        }
        return 0;
    }

    /** Splits {@code s.text[from, to)} into one symbol per character (user-defined pieces whole); returns the count. */
    private int split(EncodeScratch s, int from, int to) {
        s.reserveSymbols(to - from);
        s.pairCount = 0;
        s.heap.clear();
        char[] t = s.text;
        int count = 0;
        int i = from;
        while (i < to) {
            int len = 0;
            boolean frozen = false;
            for (char[] u : userDefined) {
                if (u.length <= to - i && Arrays.equals(u, 0, u.length, t, i, i + u.length)) {
                    len = u.length;
                    frozen = true;
                    break;
                }
            }
            if (len == 0) len = Character.isHighSurrogate(t[i]) && i + 1 < to ? 2 : 1;
            s.start[count] = i;
            s.len[count] = len;
            s.prev[count] = count - 1;
            s.next[count] = count + 1;
            s.frozen[count] = frozen;
            s.id[count] = len == 1 ? charIds[t[i]] : pieceToId(t, i, len);
            count++;
            i += len;
        }
        s.next[count - 1] = -1;
        return count;
    }

    /** SentencePiece's BPE: merge the best-scoring adjacent pair (leftmost on ties) until none is a piece. */
    private void merge(EncodeScratch s, int count) {
        for (int i = 0; i + 1 < count; i++) candidate(s, i, i + 1);
        LongHeap heap = s.heap;
        int[] len = s.len, next = s.next, prev = s.prev;
        while (!heap.isEmpty()) {
            int e = heap.pop();
            int l = s.pairLeft[e], r = s.pairRight[e];
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != s.pairValue[e]) continue;
            len[l] += len[r];
            len[r] = 0;
            s.id[l] = outputIds[s.pairId[e]];
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            candidate(s, prev[l], l);
            candidate(s, l, next[l]);
        }
    }

    private void candidate(EncodeScratch s, int left, int right) {
        if (left < 0 || right < 0 || s.frozen[left] || s.frozen[right]) return;
        int size = s.len[left] + s.len[right];
        int id = mergeable.get(s.text, s.start[left], size);
        if (id < 0) return;
        float score = scores[id];
        int bits = Float.floatToIntBits(score == 0f ? 0f : score);
        int ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        long key = ((long) ~ordered << 32) | left;
        s.heap.push(key, s.addPair(left, right, size, id));
        if (types[id] == UNUSED) s.unusedSplits().put(new String(s.text, s.start[left], size), s.len[left]);
    }

    /** SentencePiece's PieceToId without the fallback to unknown: a reserved piece first, then a mergeable one, or -1. */
    private int pieceToId(char[] text, int start, int len) {
        int id = reserved.get(text, start, len);
        return id >= 0 ? id : mergeable.get(text, start, len);
    }

    /** Emits the id(s) of one final symbol whose piece has id {@code id} (-1: none); returns whether it was unknown. */
    private boolean output(EncodeScratch s, int start, int len, int id, boolean prevUnknown) {
        if (id >= 0 && types[id] == UNUSED) {
            // SentencePiece splits a merged unused piece back into the two symbols it was last merged from.
            Integer leftLen = s.unusedSplits().get(new String(s.text, start, len));
            if (leftLen != null) {
                int right = start + leftLen, rightLen = len - leftLen;
                boolean unk = output(s, start, leftLen, pieceToId(s.text, start, leftLen), prevUnknown);
                return output(s, right, rightLen, pieceToId(s.text, right, rightLen), unk);
            }
        }
        if (id < 0) id = unkId();
        boolean unknown = types[id] == UNKNOWN;
        if (unknown && options.byteFallback()) {
            int end = start + len;
            for (int i = start; i < end; ) {
                int cp = Character.codePointAt(s.text, i, end);
                i += Character.charCount(cp);
                int nb = Utf8.encode(cp, s.utf8, 0);
                for (int k = 0; k < nb; k++) {
                    int b = byteIds[s.utf8[k] & 0xFF];
                    s.emit(b >= 0 ? b : unkId());
                }
            }
        } else if (!(unknown && prevUnknown)) {
            s.emit(id);
        }
        return unknown;
    }

    /** The score of {@code id} (higher merges first). */
    public float score(int id) {
        decoder.check(id);
        return scores[id];
    }

    /** Whether a space is put in front of the text (SentencePiece's {@code add_dummy_prefix}). */
    public boolean addsDummyPrefix() {
        return options.addDummyPrefix();
    }

    /** The SentencePiece type of {@code id}. */
    public int type(int id) {
        decoder.check(id);
        return types[id];
    }
}
