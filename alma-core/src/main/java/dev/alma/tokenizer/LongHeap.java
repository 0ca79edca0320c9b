package dev.alma.tokenizer;

import java.util.Arrays;

/**
 * A reusable binary min-heap of {@code long} keys, each with an {@code int} value. The encoders pack their merge
 * priority and the symbol position into the key; two equal keys can only be a stale entry and a live one for the
 * same position, and the stale one is discarded when popped, so the result never depends on their order.
 */
final class LongHeap {
    private long[] keys = new long[64];
    private int[] values = new int[64];
    private int size;

    void clear() {
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void push(long key, int value) {
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] <= key) break;
            keys[i] = keys[parent];
            values[i] = values[parent];
            i = parent;
        }
        keys[i] = key;
        values[i] = value;
    }

    /** Key of the smallest entry. */
    long peekKey() {
        return keys[0];
    }

    /** Removes the smallest entry and returns its value. */
    int pop() {
        int top = values[0];
        long key = keys[--size];
        int value = values[size];
        int i = 0;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && keys[child + 1] < keys[child]) child++;
            if (key <= keys[child]) break;
            keys[i] = keys[child];
            values[i] = values[child];
            i = child;
        }
        keys[i] = key;
        values[i] = value;
        return top;
    }
}
