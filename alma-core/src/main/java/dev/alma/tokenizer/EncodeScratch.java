package dev.alma.tokenizer;

import java.util.Arrays;
import java.util.HashMap;

/**
 * Per-thread working memory of the BPE encoders: the normalized text, the linked list of symbols, the candidate
 * merges and the output ids. Grown on demand and reused, so encoding a line allocates only its result.
 */
final class EncodeScratch {
    private static final ThreadLocal<EncodeScratch> LOCAL = ThreadLocal.withInitial(EncodeScratch::new);

    /** Normalized text (UTF-16) and its length. */
    char[] text = new char[256];
    int length;

    /** Symbols: start and length in {@link #text} (length 0 = merged away), neighbours (-1 = none), flags. */
    int[] start = new int[256];
    int[] len = new int[256];
    int[] prev = new int[256];
    int[] next = new int[256];
    boolean[] frozen = new boolean[256];
    /** Token id of each symbol (-1: none). */
    int[] id = new int[256];

    /** Candidate merges: left symbol, right symbol, and encoder-specific values (merged size and/or merged id). */
    int[] pairLeft = new int[768];
    int[] pairRight = new int[768];
    int[] pairValue = new int[768];
    int[] pairId = new int[768];
    int pairCount;

    final LongHeap heap = new LongHeap();

    /** Output ids. */
    int[] out = new int[256];
    int outCount;

    /** Unused pieces merged during this call and the length of their left part (rare; allocated on first use). */
    private HashMap<String, Integer> unusedSplits;

    /** Room for the UTF-8 bytes of one character. */
    final byte[] utf8 = new byte[4];

    /** Buffers grown beyond this many elements by one huge text are dropped at the next call rather than kept. */
    private static final int KEEP_LIMIT = 1 << 20;

    static EncodeScratch get() {
        EncodeScratch s = LOCAL.get();
        if (s.text.length > KEEP_LIMIT || s.start.length > KEEP_LIMIT || s.out.length > KEEP_LIMIT) {
            s = new EncodeScratch();
            LOCAL.set(s);
        }
        s.length = 0;
        s.pairCount = 0;
        s.outCount = 0;
        s.heap.clear();
        s.unusedSplits = null;
        return s;
    }

    /** Word memo of this thread, created on first use. */
    private WordCache words;

    WordCache words(long tokenizer) {
        if (words == null) words = new WordCache();
        words.claim(tokenizer);
        return words;
    }

    HashMap<String, Integer> unusedSplits() {
        if (unusedSplits == null) unusedSplits = new HashMap<>();
        return unusedSplits;
    }

    void appendText(char c) {
        if (length == text.length) text = Arrays.copyOf(text, length * 2);
        text[length++] = c;
    }

    /** Makes room for {@code n} symbols and {@code 3n} candidate merges. */
    void reserveSymbols(int n) {
        if (start.length < n) {
            int cap = Math.max(n, start.length * 2);
            start = new int[cap];
            len = new int[cap];
            prev = new int[cap];
            next = new int[cap];
            frozen = new boolean[cap];
            id = new int[cap];
        }
        if (pairLeft.length < 3 * n + 3) {
            int cap = Math.max(3 * n + 3, pairLeft.length * 2);
            pairLeft = new int[cap];
            pairRight = new int[cap];
            pairValue = new int[cap];
            pairId = new int[cap];
        }
    }

    /** Records a candidate merge and returns its index. */
    int addPair(int left, int right, int value, int id) {
        int e = pairCount++;
        pairLeft[e] = left;
        pairRight[e] = right;
        pairValue[e] = value;
        pairId[e] = id;
        return e;
    }

    void emit(int id) {
        if (outCount == out.length) out = Arrays.copyOf(out, outCount * 2);
        out[outCount++] = id;
    }

    int[] result() {
        return Arrays.copyOf(out, outCount);
    }
}
