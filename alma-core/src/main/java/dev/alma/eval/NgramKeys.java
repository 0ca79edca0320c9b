package dev.alma.eval;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Dense integer keys for every n-gram (orders 1..maxOrder) of a few symbol sequences (the hypothesis and the
 * references of one segment): equal n-grams get equal keys, keys of order n lie in {@code [0, distinct(n))}.
 * An n-gram's key is the id of the pair (key of its first n-1 symbols, key of its last symbol), so any
 * vocabulary size works and counting needs only plain arrays, no hashing of strings or tuples.
 */
final class NgramKeys {
    private final int[][][] keys;
    private final int[] distinct;

    /** @param seqs symbol sequences (any non-negative ints, e.g. code points or word ids) */
    NgramKeys(int[][] seqs, int maxOrder) {
        keys = new int[maxOrder][seqs.length][];
        distinct = new int[maxOrder];
        int total = 0;
        for (int[] s : seqs) total += s.length;
        KeyTable table = new KeyTable(total);
        for (int s = 0; s < seqs.length; s++) {
            int[] k = new int[seqs[s].length];
            for (int i = 0; i < k.length; i++) k[i] = table.id(seqs[s][i]);
            keys[0][s] = k;
        }
        distinct[0] = table.size;
        for (int n = 2; n <= maxOrder; n++) {
            table.clear();
            for (int s = 0; s < seqs.length; s++) {
                int[] prev = keys[n - 2][s], first = keys[0][s];
                int[] k = new int[Math.max(0, first.length - n + 1)];
                for (int i = 0; i < k.length; i++) k[i] = table.id(((long) prev[i] << 32) | first[i + n - 1]);
                keys[n - 1][s] = k;
            }
            distinct[n - 1] = table.size;
        }
    }

    /** Open-addressing map from a long key to its dense id, in order of first appearance. */
    private static final class KeyTable {
        private final long[] keys;
        private final int[] ids;
        private final int mask;
        int size;

        KeyTable(int capacity) {
            int n = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) << 1;
            keys = new long[n];
            ids = new int[n];
            mask = n - 1;
            clear();
        }

        void clear() {
            Arrays.fill(ids, -1);
            size = 0;
        }

        int id(long key) {
            int h = (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
            while (ids[h] >= 0) {
                if (keys[h] == key) return ids[h];
                h = (h + 1) & mask;
            }
            keys[h] = key;
            return ids[h] = size++;
        }
    }

    /** How many n-grams of this order sequence {@code seq} has. */
    int total(int order, int seq) {
        return keys[order - 1][seq].length;
    }

    /** The count of every n-gram of this order in sequence {@code seq}, indexed by key. */
    int[] counts(int order, int seq) {
        int[] c = new int[distinct[order - 1]];
        for (int k : keys[order - 1][seq]) c[k]++;
        return c;
    }

    /** Dense ids of words (equal strings, equal ids) across several word lists. */
    static int[][] wordIds(List<List<String>> sentences) {
        Map<String, Integer> vocab = new HashMap<>();
        int[][] out = new int[sentences.size()][];
        for (int s = 0; s < out.length; s++) {
            List<String> words = sentences.get(s);
            int[] ids = new int[words.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = vocab.computeIfAbsent(words.get(i), w -> vocab.size());
            out[s] = ids;
        }
        return out;
    }
}
