package dev.alma.cuda;

import dev.alma.backend.PagedKvCache;

/**
 * The KV cache in device memory, laid out like the CPU cache ({@code alma_cuda.h}): page {@code p} holds, for every
 * layer, the keys then the values of {@link #PAGE_SIZE} positions. All pages are allocated up front; the page
 * tables and copy-on-write bookkeeping are {@link PagedKvCache}'s, and a copied page is one device-to-device copy.
 */
final class CudaKvCache extends PagedKvCache {
    static final int PAGE_SIZE = 16;
    final int layers;
    final int kvHeads;
    final int headDim;
    final int kvDim;
    final long pageBytes;
    final DeviceBuffer pages;
    private final long stream;
    private final Runnable beforeCopy;
    private final Runnable beforeFree;

    /**
     * @param beforeCopy run before a copy-on-write page copy is queued, {@code beforeFree} before the pages are freed
     *                   (the backend launches what it has recorded)
     */
    CudaKvCache(int layers, int kvHeads, int headDim, int maxTokens, long stream, Runnable beforeCopy,
                Runnable beforeFree) {
        super(PAGE_SIZE, maxTokens);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.pageBytes = (long) layers * 2 * PAGE_SIZE * kvDim * 4;
        this.stream = stream;
        this.beforeCopy = beforeCopy;
        this.beforeFree = beforeFree;
        this.pages = DeviceBuffer.allocate(Math.multiplyExact(pageBytes, (long) maxPages()), "KV cache of "
                + capacity() + " positions");
    }

    @Override
    protected void copyPage(int src, int dst) {
        beforeCopy.run();
        CudaRuntime.check(AlmaCuda.alma_memcpy_d2d(pages.at(dst * pageBytes), pages.at(src * pageBytes), pageBytes,
                stream), "cudaMemcpy D2D (KV page copy)");
    }

    @Override
    public void close() {
        beforeFree.run();
        pages.close();
    }
}
