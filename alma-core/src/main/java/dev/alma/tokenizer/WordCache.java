package dev.alma.tokenizer;

import java.util.Arrays;

/**
 * A small per-thread memo of word → ids for one tokenizer, looked up straight from the normalized text so that a hit
 * allocates nothing. Bounded: when any part is full it is emptied and refilled. Lives in {@link EncodeScratch}, so
 * it is never shared between threads.
 */
final class WordCache {
    /** Words longer than this (in UTF-16 units) are not cached. */
    static final int MAX_WORD = 32;
    private static final int SLOTS = 16384;
    private static final int MAX_ENTRIES = SLOTS / 2;

    /** Serial number of the tokenizer whose words these are (a number, so the memo keeps no tokenizer alive). */
    private long owner = -1;
    private final int[] hashes = new int[SLOTS];
    private final int[] keyStart = new int[SLOTS];
    private final int[] keyLen = new int[SLOTS];
    private final int[] idStart = new int[SLOTS];
    private final int[] idLen = new int[SLOTS];
    private final char[] keys = new char[MAX_ENTRIES * 12];
    private final int[] ids = new int[MAX_ENTRIES * 6];
    private int keysUsed, idsUsed, entries;

    WordCache() {
        Arrays.fill(keyLen, -1);
    }

    /** Empties the cache unless it already belongs to the tokenizer with serial number {@code tokenizer}. */
    void claim(long tokenizer) {
        if (owner != tokenizer) {
            clear();
            owner = tokenizer;
        }
    }

    /** Appends the cached ids of {@code text[off, off + len)} to {@code s} and returns true, or returns false. */
    boolean emitIfCached(char[] text, int off, int len, EncodeScratch s) {
        int h = hash(text, off, len);
        int slot = h & (SLOTS - 1);
        while (keyLen[slot] >= 0) {
            if (hashes[slot] == h && keyLen[slot] == len
                    && Arrays.equals(keys, keyStart[slot], keyStart[slot] + len, text, off, off + len)) {
                for (int i = idStart[slot], end = i + idLen[slot]; i < end; i++) s.emit(ids[i]);
                return true;
            }
            slot = (slot + 1) & (SLOTS - 1);
        }
        return false;
    }

    /** Remembers that {@code text[off, off + len)} encodes to {@code out[from, to)}. */
    void put(char[] text, int off, int len, int[] out, int from, int to) {
        int n = to - from;
        if (len > MAX_WORD) return;
        if (entries >= MAX_ENTRIES || keysUsed + len > keys.length || idsUsed + n > ids.length) clear();
        if (n > ids.length) return;
        int h = hash(text, off, len);
        int slot = h & (SLOTS - 1);
        while (keyLen[slot] >= 0) slot = (slot + 1) & (SLOTS - 1);
        hashes[slot] = h;
        keyStart[slot] = keysUsed;
        keyLen[slot] = len;
        idStart[slot] = idsUsed;
        idLen[slot] = n;
        System.arraycopy(text, off, keys, keysUsed, len);
        System.arraycopy(out, from, ids, idsUsed, n);
        keysUsed += len;
        idsUsed += n;
        entries++;
    }

    private void clear() {
        Arrays.fill(keyLen, -1);
        keysUsed = 0;
        idsUsed = 0;
        entries = 0;
    }

    private static int hash(char[] text, int off, int len) {
        int h = len;
        for (int i = off, end = off + len; i < end; i++) h = 31 * h + text[i];
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
