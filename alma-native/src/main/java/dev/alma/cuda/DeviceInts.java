package dev.alma.cuda;

import java.util.Arrays;

/**
 * A device array of ints refilled from the host: an upload whose contents equal the previous one is skipped, so
 * the positions and page tables every layer of a forward pass needs are copied once per pass.
 */
final class DeviceInts implements AutoCloseable {
    private final String what;
    private DeviceBuffer buffer;
    private int[] last;

    DeviceInts(String what) {
        this.what = what;
    }

    /** Device address of {@code values} (uploaded unless unchanged since the previous call). */
    long upload(int[] values, long stream) {
        if (last != null && Arrays.equals(last, values)) return buffer.ptr;
        if (buffer == null || buffer.bytes < (long) values.length * 4) {
            if (buffer != null) buffer.close();
            buffer = DeviceBuffer.allocate(Math.max(64L, Long.highestOneBit(Math.max(1, values.length)) * 8), what);
        }
        buffer.upload(values, stream);
        last = values.clone();
        return buffer.ptr;
    }

    @Override
    public void close() {
        if (buffer != null) buffer.close();
        buffer = null;
        last = null;
    }
}
