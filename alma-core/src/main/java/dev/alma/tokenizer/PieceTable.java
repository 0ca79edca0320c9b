package dev.alma.tokenizer;

import java.util.Arrays;

/**
 * Piece text to id, looked up straight from a range of a {@code char[]} so that the encoders never build a
 * substring per candidate merge. Open addressing with linear probing; immutable after construction.
 */
final class PieceTable {
    private final char[][] keys;
    private final int[] hashes;
    private final int[] ids;
    private final int mask;
    private int size;

    /** A table sized for up to {@code capacity} pieces. */
    PieceTable(int capacity) {
        int slots = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) << 2;
        keys = new char[slots][];
        hashes = new int[slots];
        ids = new int[slots];
        mask = slots - 1;
    }

    /** Adds {@code piece} with {@code id}; returns false (and changes nothing) when the piece is already present. */
    boolean put(String piece, int id) {
        if (size * 2 >= keys.length) throw new IllegalStateException("piece table is full");
        char[] key = piece.toCharArray();
        int h = hash(key, 0, key.length);
        int slot = h & mask;
        while (keys[slot] != null) {
            if (Arrays.equals(keys[slot], key)) return false;
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        hashes[slot] = h;
        ids[slot] = id;
        size++;
        return true;
    }

    /** The id of {@code text[off, off + len)}, or -1. */
    int get(char[] text, int off, int len) {
        int h = hash(text, off, len);
        int slot = h & mask;
        char[] key;
        while ((key = keys[slot]) != null) {
            if (hashes[slot] == h && key.length == len && Arrays.equals(key, 0, len, text, off, off + len))
                return ids[slot];
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    /** The id of {@code piece}, or -1. */
    int get(String piece) {
        char[] c = piece.toCharArray();
        return get(c, 0, c.length);
    }

    private static int hash(char[] text, int off, int len) {
        int h = len;
        for (int i = off, end = off + len; i < end; i++) h = 31 * h + text[i];
        h *= 0x9E3779B9;
        return h ^ (h >>> 15);
    }
}
