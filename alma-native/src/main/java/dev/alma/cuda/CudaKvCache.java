package dev.alma.cuda;

import dev.alma.backend.PagedKvCache;

/**
 * The KV cache in device memory, laid out like the CPU cache ({@code alma_cuda.h}): page {@code p} holds, for every
 * layer, the keys then the values of {@link #PAGE_SIZE} positions, as float32 or f16 ({@link #type}). All pages are
 * allocated up front; the page tables and copy-on-write bookkeeping are {@link PagedKvCache}'s, and a copied page is
 * one device-to-device copy.
 */
final class CudaKvCache extends PagedKvCache {
    static final int PAGE_SIZE = 16;
    final int layers;
    final int kvHeads;
    final int headDim;
    final int kvDim;
    /** The elements' type, as the kernels name it: {@link CudaWeight#F32} or {@link CudaWeight#F16}. */
    final int type;
    final long pageBytes;
    final DeviceBuffer pages;
    private final long stream;
    private final Runnable beforeCopy;
    private final Runnable beforeFree;

    /**
     * @param beforeCopy run before a copy-on-write page copy is queued, {@code beforeFree} before the pages are freed
     *                   (the backend launches what it has recorded)
     */
    CudaKvCache(int layers, int kvHeads, int headDim, int maxTokens, int type, long stream, Runnable beforeCopy,
                Runnable beforeFree) {
        super(PAGE_SIZE, maxTokens);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.type = type;
        this.pageBytes = (long) layers * 2 * PAGE_SIZE * kvDim * elementBytes(type);
        this.stream = stream;
        this.beforeCopy = beforeCopy;
        this.beforeFree = beforeFree;
        this.pages = DeviceBuffer.allocate(Math.multiplyExact(pageBytes, (long) maxPages()), "KV cache of "
                + capacity() + " positions");
    }

    /** Bytes of an element of {@code type} ({@link CudaWeight#F32} or {@link CudaWeight#F16}). */
    static int elementBytes(int type) {
        return type == CudaWeight.F16 ? 2 : 4;
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
