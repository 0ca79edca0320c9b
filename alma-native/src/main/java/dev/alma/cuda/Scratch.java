package dev.alma.cuda;

/** A device buffer reused between calls and grown (doubling) when a call needs more. */
final class Scratch implements AutoCloseable {
    private final String what;
    private DeviceBuffer buffer;

    Scratch(String what) {
        this.what = what;
    }

    /** Whether {@link #get} of {@code bytes} keeps the current buffer (growing frees it). */
    boolean fits(long bytes) {
        return buffer != null && buffer.bytes >= bytes;
    }

    /** Device address of at least {@code bytes} bytes (contents undefined). */
    long get(long bytes) {
        if (buffer == null || buffer.bytes < bytes) {
            if (buffer != null) buffer.close();
            buffer = DeviceBuffer.allocate(Math.max(bytes, buffer == null ? 0 : 2 * buffer.bytes), what);
        }
        return buffer.ptr;
    }

    /**
     * Like {@link #get}, but a newly allocated buffer is zeroed (all of it, on {@code stream}), for contents that
     * their users keep zero between calls (the attention's split counters).
     */
    long getZeroed(long bytes, long stream) {
        boolean fresh = !fits(bytes);
        long ptr = get(bytes);
        if (fresh) CudaRuntime.check(AlmaCuda.alma_memset(ptr, 0, buffer.bytes, stream), "cudaMemsetAsync");
        return ptr;
    }

    /** Device address of the current buffer and its size in bytes, or {0, 0} when none (tests' diagnostics). */
    long[] current() {
        return buffer == null ? new long[]{0, 0} : new long[]{buffer.ptr, buffer.bytes};
    }

    @Override
    public void close() {
        if (buffer != null) buffer.close();
        buffer = null;
    }
}
