package dev.alma.tokenizer;

/**
 * Hugging Face BPE merges: the pair of ids {@code (left, right)} to its rank (position in the merges list; lower
 * merges first) and the id of the merged token. Open addressing on the packed pair; immutable after construction.
 */
final class MergeTable {
    private final long[] keys;
    private final int[] ranks;
    private final int[] merged;
    private final int mask;

    MergeTable(int capacity) {
        int slots = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) << 1;
        keys = new long[slots];
        ranks = new int[slots];
        merged = new int[slots];
        java.util.Arrays.fill(keys, -1L);
        mask = slots - 1;
    }

    /** Sets the merge of {@code (left, right)}; a later merge of the same pair replaces an earlier one. */
    void put(int left, int right, int rank, int mergedId) {
        long key = pack(left, right);
        int slot = slot(key);
        while (keys[slot] != -1L && keys[slot] != key) slot = (slot + 1) & mask;
        keys[slot] = key;
        ranks[slot] = rank;
        merged[slot] = mergedId;
    }

    /** The slot of {@code (left, right)}, or -1 when the pair does not merge. */
    int find(int left, int right) {
        long key = pack(left, right);
        int slot = slot(key);
        long k;
        while ((k = keys[slot]) != -1L) {
            if (k == key) return slot;
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    int rank(int slot) {
        return ranks[slot];
    }

    int merged(int slot) {
        return merged[slot];
    }

    private static long pack(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
