package dev.alma.tokenizer;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A Hugging Face {@code tokenizers} BPE pipeline as declared in a {@code tokenizer.json}: normalizers, an optional
 * {@code Metaspace} pre-tokenizer, then BPE that applies merges by rank (the order of the merges list, leftmost
 * first on ties) with byte fallback or an unknown token for characters outside the vocabulary. Added tokens such as
 * {@code <s>} are not matched in the text: text spelling them is ordinary text. Immutable and thread-safe.
 */
final class HuggingFaceTokenizer extends PieceTokenizer {
    /** The Metaspace pre-tokenizer's settings: spaces become {@code replacement}, optionally a prefix, optional split. */
    record Metaspace(char replacement, boolean prepend, boolean split) {
    }

    private final PieceTable vocab;
    private final MergeTable merges;
    private final List<UnaryOperator<String>> normalizers;
    private final Metaspace metaspace;
    private final boolean byteFallback;
    private final int[] byteIds;
    /** The model's unknown token for characters without a piece or byte fallback, or -1 to drop them. */
    private final int modelUnkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;

    HuggingFaceTokenizer(String[] pieces, PieceTable vocab, MergeTable merges, List<UnaryOperator<String>> normalizers,
                         Metaspace metaspace, boolean byteFallback, int[] byteIds, int modelUnkId, boolean fuseUnk,
                         boolean ignoreMerges, int bosId, int eosId, int unkId, PieceDecoder decoder) {
        super(pieces, bosId, eosId, unkId, decoder);
        this.vocab = vocab;
        this.merges = merges;
        this.normalizers = List.copyOf(normalizers);
        this.metaspace = metaspace;
        this.byteFallback = byteFallback;
        this.byteIds = byteIds;
        this.modelUnkId = modelUnkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
    }

    @Override
    public int[] encode(String text) {
        String t = text;
        for (UnaryOperator<String> n : normalizers) {
            if (t.isEmpty()) break;
            t = n.apply(t);
        }
        if (t.isEmpty()) return new int[0];
        EncodeScratch s = EncodeScratch.get();
        if (metaspace != null) {
            char rep = metaspace.replacement();
            if (metaspace.prepend() && t.charAt(0) != ' ' && t.charAt(0) != rep) s.appendText(rep);
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                s.appendText(c == ' ' ? rep : c);
            }
        } else {
            for (int i = 0; i < t.length(); i++) s.appendText(t.charAt(i));
        }
        int wordStart = 0;
        if (metaspace != null && metaspace.split()) {
            // Split before every replacement character (the delimiter starts the next word).
            char rep = metaspace.replacement();
            for (int i = 1; i < s.length; i++) {
                if (s.text[i] == rep) {
                    word(s, wordStart, i);
                    wordStart = i;
                }
            }
        }
        word(s, wordStart, s.length);
        return s.result();
    }

    /** BPE over {@code s.text[from, to)}; appends the ids. */
    private void word(EncodeScratch s, int from, int to) {
        if (from >= to) return;
        if (ignoreMerges) {
            int whole = vocab.get(s.text, from, to - from);
            if (whole >= 0) {
                s.emit(whole);
                return;
            }
        }
        s.reserveSymbols(4 * (to - from) + 1);
        s.pairCount = 0;
        s.heap.clear();
        int count = 0;
        boolean lastIsUnk = false;
        for (int i = from; i < to; ) {
            int cp = Character.codePointAt(s.text, i, to);
            int n = Character.charCount(cp);
            int id = vocab.get(s.text, i, n);
            i += n;
            if (id >= 0) {
                count = addSymbol(s, count, id);
                lastIsUnk = false;
                continue;
            }
            if (byteFallback) {
                int nb = Utf8.encode(Character.isSurrogate((char) cp) ? 0xFFFD : cp, s.utf8, 0);
                boolean all = true;
                for (int k = 0; k < nb; k++) all &= byteIds[s.utf8[k] & 0xFF] >= 0;
                if (all) {
                    for (int k = 0; k < nb; k++) count = addSymbol(s, count, byteIds[s.utf8[k] & 0xFF]);
                    lastIsUnk = false;
                    continue;
                }
            }
            if (modelUnkId >= 0) {
                if (!(fuseUnk && lastIsUnk)) count = addSymbol(s, count, modelUnkId);
                lastIsUnk = true;
            }
        }
        if (count == 0) return;
        s.next[count - 1] = -1;
        int[] ids = s.id, next = s.next, prev = s.prev, alive = s.len;
        for (int i = 0; i + 1 < count; i++) candidate(s, i, ids[i], ids[i + 1]);
        while (!s.heap.isEmpty()) {
            int e = s.heap.pop();
            int pos = s.pairLeft[e];
            if (alive[pos] == 0 || next[pos] < 0) continue;
            int right = next[pos];
            int slot = merges.find(ids[pos], ids[right]);
            if (slot < 0 || merges.merged(slot) != s.pairValue[e]) continue;
            ids[pos] = s.pairValue[e];
            alive[right] = 0;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0) candidate(s, prev[pos], ids[prev[pos]], ids[pos]);
            if (next[pos] >= 0) candidate(s, pos, ids[pos], ids[next[pos]]);
        }
        for (int sym = 0; sym != -1; sym = next[sym]) s.emit(ids[sym]);
    }

    private static int addSymbol(EncodeScratch s, int count, int id) {
        s.id[count] = id;
        s.len[count] = 1;
        s.prev[count] = count - 1;
        s.next[count] = count + 1;
        return count + 1;
    }

    private void candidate(EncodeScratch s, int pos, int left, int right) {
        int slot = merges.find(left, right);
        if (slot < 0) return;
        long key = ((long) merges.rank(slot) << 32) | pos;
        s.heap.push(key, s.addPair(pos, -1, merges.merged(slot), merges.merged(slot)));
    }
}
