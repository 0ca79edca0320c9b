package dev.alma.backend.cpu;

import dev.alma.backend.PagedKvCache;

/**
 * The KV cache on the heap: one float array per page holding, for every layer, the keys then the values of
 * {@code pageSize} positions, head by head ({@code [layer][k|v][kvHead][position][headDim]}): the keys (or values)
 * of one head over a page's positions are contiguous, so attention streams them instead of picking a head's slice
 * out of every position's row (which was latency-bound: 2.7 ms of a 31 ms decode step of the 940M model).
 * Pages are allocated on first use.
 */
final class CpuKvCache extends PagedKvCache {
    static final int PAGE_SIZE = 16;
    final int layers;
    final int headDim;
    final int kvDim;
    final int kvHeads;
    final float[][] pages;

    CpuKvCache(int layers, int kvHeads, int headDim, int maxTokens) {
        super(PAGE_SIZE, maxTokens);
        this.layers = layers;
        this.headDim = headDim;
        this.kvHeads = kvHeads;
        this.kvDim = kvHeads * headDim;
        this.pages = new float[maxPages()][];
    }

    /**
     * Offset of position {@code slot} (within its page) of KV head {@code head} in layer {@code layer}'s keys
     * ({@code kv = 0}) or values; the next position follows {@code headDim} floats later.
     */
    int offset(int layer, int kv, int head, int slot) {
        return (((layer * 2 + kv) * kvHeads + head) * pageSize + slot) * headDim;
    }

    @Override
    protected void ensurePage(int page) {
        if (pages[page] == null) pages[page] = new float[layers * 2 * pageSize * kvDim];
    }

    @Override
    protected void copyPage(int src, int dst) {
        System.arraycopy(pages[src], 0, pages[dst], 0, pages[src].length);
    }

    @Override
    public void close() {
        java.util.Arrays.fill(pages, null);
    }
}
