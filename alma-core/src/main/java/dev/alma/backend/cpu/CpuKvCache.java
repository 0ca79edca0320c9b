package dev.alma.backend.cpu;

import dev.alma.backend.PagedKvCache;

/**
 * The KV cache on the heap: one float array per page holding, for every layer, the keys then the values of
 * {@code pageSize} positions ({@code [layer][k|v][position][kvDim]}). Pages are allocated on first use.
 */
final class CpuKvCache extends PagedKvCache {
    static final int PAGE_SIZE = 16;
    final int layers;
    final int headDim;
    final int kvDim;
    final float[][] pages;

    CpuKvCache(int layers, int kvHeads, int headDim, int maxTokens) {
        super(PAGE_SIZE, maxTokens);
        this.layers = layers;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.pages = new float[maxPages()][];
    }

    /** Offset of position {@code slot} (within its page) of layer {@code layer}'s keys ({@code kv = 0}) or values. */
    int offset(int layer, int kv, int slot) {
        return ((layer * 2 + kv) * pageSize + slot) * kvDim;
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
