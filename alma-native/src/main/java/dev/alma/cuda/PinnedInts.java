package dev.alma.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A device array of ints refilled from the host through a page-locked staging buffer: the copy is queued on the
 * stream without waiting (an event guards the staging buffer until the copy has read it), and an upload whose
 * contents equal the previous one is skipped, so the positions and page tables every layer of a forward pass needs
 * are copied once per pass. The device address stays the same until a larger array needs more room.
 */
final class PinnedInts implements AutoCloseable {
    private final String what;
    private DeviceBuffer device;
    private long host;
    private long capacity;  // ints
    private long event;
    private boolean pending;
    private int[] last;
    /** Set by the backend while a recorded, not yet launched, step refers to this array's device copy. */
    boolean inTape;

    PinnedInts(String what) {
        this.what = what;
    }

    /** Whether {@link #upload} of {@code values} would copy (they differ from the last upload). */
    boolean changes(int[] values) {
        return last == null || !Arrays.equals(last, values);
    }

    /** Whether {@code count} ints fit without moving to a larger device array. */
    boolean fits(int count) {
        return count <= capacity;
    }

    /** Device address of {@code values}: queued for upload on {@code stream} unless unchanged since the last call. */
    long upload(int[] values, long stream) {
        if (!changes(values)) return device.ptr;
        if (!fits(values.length)) grow(values.length);
        if (pending) CudaRuntime.check(AlmaCuda.alma_event_sync(event), "cudaEventSynchronize (staging buffer)");
        long bytes = (long) values.length * 4;
        if (bytes > 0) {
            MemorySegment.copy(values, 0, MemorySegment.ofAddress(host).reinterpret(bytes), ValueLayout.JAVA_INT, 0,
                    values.length);
            CudaRuntime.check(AlmaCuda.alma_memcpy_h2d_async(device.ptr, host, bytes, stream), "cudaMemcpyAsync H2D (" + what + ")");
            CudaRuntime.check(AlmaCuda.alma_event_record(event, stream), "cudaEventRecord");
            pending = true;
        }
        last = values.clone();
        return device.ptr;
    }

    private void grow(int count) {
        long want = Math.max(16, Long.highestOneBit(Math.max(1, count)) * 2);
        if (pending) CudaRuntime.check(AlmaCuda.alma_event_sync(event), "cudaEventSynchronize (staging buffer)");
        pending = false;
        free();
        device = DeviceBuffer.allocate(want * 4, what);
        long[] p = new long[1];
        CudaRuntime.check(AlmaCuda.alma_malloc_host(p, want * 4), "cudaMallocHost of " + want * 4 + " bytes for " + what);
        host = p[0];
        if (event == 0) {
            long[] e = new long[1];
            CudaRuntime.check(AlmaCuda.alma_event_create(e), "cudaEventCreate");
            event = e[0];
        }
        capacity = want;
    }

    private void free() {
        if (device != null) device.close();
        device = null;
        if (host != 0) CudaRuntime.check(AlmaCuda.alma_free_host(host), "cudaFreeHost");
        host = 0;
        capacity = 0;
        last = null;
    }

    @Override
    public void close() {
        if (pending) AlmaCuda.alma_event_sync(event);
        pending = false;
        free();
        if (event != 0) AlmaCuda.alma_event_destroy(event);
        event = 0;
    }
}
