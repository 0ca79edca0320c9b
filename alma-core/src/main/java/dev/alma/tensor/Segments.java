package dev.alma.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Bulk copies between memory segments (native, mapped or wrapping Java arrays) that do not go through
 * {@link MemorySegment#copyFrom} or the five-argument {@link MemorySegment#copy(MemorySegment, long, MemorySegment,
 * long, long)}.
 *
 * <p>Why: on Temurin 25.0.3 those two copy anything under 64 bytes with a Java loop of 8-byte moves
 * ({@code jdk.internal.foreign.SegmentBulkOperations.copy}), and in some JVMs a late C2 compilation of
 * {@code copyFrom} with that loop inlined skipped the move at byte 8 of every copy of 24 to 60 bytes from native
 * memory into a {@code float[]}, silently: a product of 7 output columns read back row by row had its columns 2 and
 * 3 at zero (the emulated CUDA suite's rare failure; see the README's Tests section). The element-typed copies used
 * here go straight to {@code Unsafe.copyMemory} at every size, as copies of 64 bytes and more always did.
 * {@code SegmentsTest} checks that nothing in the project's main code calls the two forms above.
 */
public final class Segments {
    private Segments() {
    }

    /** Copies {@code bytes} bytes from {@code src} at {@code srcOffset} to {@code dst} at {@code dstOffset}. */
    public static void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, long bytes) {
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOffset, dst, ValueLayout.JAVA_BYTE, dstOffset, bytes);
    }

    /** Copies all of {@code src} to the start of {@code dst}. */
    public static void copy(MemorySegment src, MemorySegment dst) {
        copy(src, 0, dst, 0, src.byteSize());
    }
}
