package dev.alma.backend.cpu;

import dev.alma.backend.PagedKvCache;

import java.lang.foreign.MemorySegment;

/**
 * The KV cache on the heap: one float array per page holding, for every layer, the keys then the values of
 * {@code pageSize} positions, head by head ({@code [layer][k|v][kvHead][position][headDim]}): the keys (or values)
 * of one head over a page's positions are contiguous, so attention streams them instead of picking a head's slice
 * out of every position's row (which was latency-bound: 2.7 ms of a 31 ms decode step of the 940M model).
 * Pages are allocated on first use: float arrays, or with {@code f16} short arrays of f16 bits (half the memory
 * and the attention's reads; each key and value rounded to the nearest f16), read through heap segments.
 */
final class CpuKvCache extends PagedKvCache {
    static final int PAGE_SIZE = 16;
    final int layers;
    final int headDim;
    final int kvDim;
    final int kvHeads;
    /** The pages as floats (null entries for an f16 cache). */
    final float[][] pages;
    /** The pages as f16 bits, and the same arrays as segments for the vector kernels (null for an f32 cache). */
    final short[][] halfPages;
    final MemorySegment[] halfSegments;

    CpuKvCache(int layers, int kvHeads, int headDim, int maxTokens, boolean f16) {
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
        this.halfPages = f16 ? new short[maxPages()][] : null;
        this.halfSegments = f16 ? new MemorySegment[maxPages()] : null;
    }

    boolean f16() {
        return halfPages != null;
    }

    /** Writes {@code n} values of {@code src} from {@code from} to page {@code page} at {@code offset}. */
    void store(float[] src, int from, int page, int offset, int n) {
        if (halfPages == null) {
            System.arraycopy(src, from, pages[page], offset, n);
            return;
        }
        short[] dst = halfPages[page];
        for (int i = 0; i < n; i++) dst[offset + i] = Float.floatToFloat16(src[from + i]);
    }

    /** Bytes one position takes over all layers: a key and a value (4 bytes, or 2 as f16) per key/value column. */
    static long bytesPerPosition(int layers, int kvDim, boolean f16) {
        return 2L * layers * kvDim * (f16 ? 2 : 4);
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
        if (pages[page] != null || (halfPages != null && halfPages[page] != null)) return;
        int values = layers * 2 * pageSize * kvDim;
        try {
            if (halfPages == null) {
                pages[page] = new float[values];
            } else {
                halfPages[page] = new short[values];
                halfSegments[page] = MemorySegment.ofArray(halfPages[page]);
            }
        } catch (OutOfMemoryError e) {
            long held = java.util.Arrays.stream(halfPages == null ? pages : halfPages).filter(java.util.Objects::nonNull).count();
            long pageBytes = (halfPages == null ? 4L : 2L) * values;
            throw new dev.alma.AlmaException("KV cache: the Java heap has no room for another page of " + pageSize
                    + " positions (" + pageBytes / (1 << 20) + " MiB; " + held + " pages, " + held * pageSize
                    + " positions, held): translate fewer texts at once or with fewer beams, or give the JVM more heap"
                    + " (-Xmx; the alma launcher passes ALMA_JAVA_OPTS)");
        }
    }

    @Override
    protected void copyPage(int src, int dst) {
        if (halfPages == null) System.arraycopy(pages[src], 0, pages[dst], 0, pages[src].length);
        else System.arraycopy(halfPages[src], 0, halfPages[dst], 0, halfPages[src].length);
    }

    @Override
    public void close() {
        java.util.Arrays.fill(pages, null);
        if (halfPages != null) {
            java.util.Arrays.fill(halfPages, null);
            java.util.Arrays.fill(halfSegments, null);
        }
    }
}
