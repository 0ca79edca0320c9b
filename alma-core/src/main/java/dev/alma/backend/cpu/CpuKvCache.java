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
        long pageFloats = (long) layers * 2 * PAGE_SIZE * kvDim;
        if (pageFloats > Integer.MAX_VALUE - 8)
            throw new dev.alma.AlmaException("KV cache: a page of " + PAGE_SIZE + " positions of " + layers + " layers × "
                    + kvDim + " key/value columns is " + pageFloats + " floats, more than a Java array holds");
        this.pages = new float[maxPages()][];
    }

    /** Bytes one position takes over all layers: a float key and value per key/value column. */
    static long bytesPerPosition(int layers, int kvDim) {
        return 2L * layers * kvDim * Float.BYTES;
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
        if (pages[page] != null) return;
        try {
            pages[page] = new float[layers * 2 * pageSize * kvDim];
        } catch (OutOfMemoryError e) {
            long held = java.util.Arrays.stream(pages).filter(java.util.Objects::nonNull).count();
            long pageBytes = 4L * layers * 2 * pageSize * kvDim;
            throw new dev.alma.AlmaException("KV cache: the Java heap has no room for another page of " + pageSize
                    + " positions (" + pageBytes / (1 << 20) + " MiB; " + held + " pages, " + held * pageSize
                    + " positions, held): translate fewer texts at once or with fewer beams, or give the JVM more heap"
                    + " (-Xmx; the alma launcher passes ALMA_JAVA_OPTS)");
        }
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
