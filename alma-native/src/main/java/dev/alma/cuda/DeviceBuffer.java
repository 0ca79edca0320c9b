package dev.alma.cuda;

import dev.alma.tensor.Segments;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;

/** Device memory of a fixed size, freed by {@link #close()}; helpers copy Java arrays and segments in and out. */
final class DeviceBuffer implements AutoCloseable {
    final long ptr;
    final long bytes;
    private boolean closed;

    private DeviceBuffer(long ptr, long bytes) {
        this.ptr = ptr;
        this.bytes = bytes;
    }

    /** Allocates {@code bytes} (at least 1) of device memory, zero-filled. */
    static DeviceBuffer allocate(long bytes, String what) {
        if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes + " for " + what);
        long[] p = new long[1];
        int rc = AlmaCuda.alma_malloc(p, Math.max(1, bytes));
        if (rc != 0)
            throw new CudaException("cudaMalloc of " + bytes + " bytes for " + what, rc, AlmaCuda.alma_error_string(rc));
        DeviceBuffer b = new DeviceBuffer(p[0], bytes);
        // Zero it before any stream can use it: the backend's stream does not wait for the legacy stream 0.
        CudaRuntime.check(AlmaCuda.alma_memset(b.ptr, 0, Math.max(1, bytes), 0), "cudaMemset");
        CudaRuntime.check(AlmaCuda.alma_stream_sync(0), "cudaStreamSynchronize");
        return b;
    }

    /** Device address of byte {@code offset}. */
    long at(long offset) {
        return ptr + offset;
    }

    /** Copies {@code src} (any segment: heap, mapped or native) to byte {@code offset}, waiting for the copy. */
    void upload(MemorySegment src, long offset, long stream) {
        long n = src.byteSize();
        if (offset < 0 || offset + n > bytes)
            throw new IllegalArgumentException("upload of " + n + " bytes at " + offset + " into " + bytes);
        if (n == 0) return;
        if (src.isNative()) {
            // The native call sees only the address: keep the segment (and an automatic arena's memory) reachable
            // until it returns, or the garbage collector may free it while it is copied.
            try {
                CudaRuntime.check(AlmaCuda.alma_memcpy_h2d(ptr + offset, src.address(), n, stream), "cudaMemcpy H2D");
            } finally {
                Reference.reachabilityFence(src);
            }
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staged = arena.allocate(n, 16);
                Segments.copy(src, staged);
                CudaRuntime.check(AlmaCuda.alma_memcpy_h2d(ptr + offset, staged.address(), n, stream), "cudaMemcpy H2D");
            }
        }
    }

    void upload(int[] src, long stream) {
        upload(MemorySegment.ofArray(src), 0, stream);
    }

    void upload(float[] src, long offset, long stream) {
        upload(MemorySegment.ofArray(src), offset, stream);
    }

    /** Copies {@code count} floats from byte {@code offset} into {@code dst[dstOff ..]} (waits for the stream). */
    void download(long offset, float[] dst, int dstOff, int count, long stream) {
        download(offset, MemorySegment.ofArray(dst).asSlice((long) dstOff * 4, (long) count * 4), stream);
    }

    void download(long offset, int[] dst, long stream) {
        download(offset, MemorySegment.ofArray(dst), stream);
    }

    private void download(long offset, MemorySegment dst, long stream) {
        long n = dst.byteSize();
        if (offset < 0 || offset + n > bytes)
            throw new IllegalArgumentException("download of " + n + " bytes at " + offset + " from " + bytes);
        toHost(ptr + offset, dst, stream);
    }

    /**
     * Copies {@code dst.byteSize()} bytes from device address {@code src} into {@code dst} (any segment, heap
     * included) through a native staging buffer, waiting for the stream.
     */
    static void toHost(long src, MemorySegment dst, long stream) {
        long n = dst.byteSize();
        if (n == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staged = arena.allocate(n, 16);
            CudaRuntime.check(AlmaCuda.alma_memcpy_d2h(staged.address(), src, n, stream), "cudaMemcpy D2H");
            Segments.copy(staged, dst);
        }
    }

    static MemorySegment ints(Arena arena, int[] values) {
        return arena.allocateFrom(ValueLayout.JAVA_INT, values);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaRuntime.check(AlmaCuda.alma_free(ptr), "cudaFree");
    }
}
