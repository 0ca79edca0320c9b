package dev.alma.backend.cpu;

import dev.alma.AlmaException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The memory the CPU kernels read weights from: one kind of segment for all of them. Weights stay in their mapped
 * files, seen through plain native segments of the same lifetime ({@link #view}); the copies that
 * {@link PanelMatrix} makes are native memory outside the Java heap and outside the direct-buffer limit
 * ({@link #allocate}), freed when the garbage collector drops the matrix.
 *
 * <p>Why one kind: C2 compiles a kernel for the segment class it has seen. When panels (native memory) and
 * mapped weights went through the same kernels, the first compiled loops were thrown away on the second class and
 * the recompiled ones checked the segment on every load: the Q8_0 decode step of the 940M benchmark model went
 * from ~30 to 35-70 ms.
 *
 * <p>Both need native access ({@code --enable-native-access=ALL-UNNAMED}, which the launcher and the tests pass);
 * without it weights are read from the mapped segments as they are and nothing is copied into panels.
 */
final class WeightMemory {
    private WeightMemory() {
    }

    /** Whether this module may call restricted methods without a warning. */
    static final boolean NATIVE_ACCESS = WeightMemory.class.getModule().isNativeAccessEnabled();

    private static final MethodHandle ALIGNED_ALLOC, FREE;

    static {
        MethodHandle alloc = null, free = null;
        if (NATIVE_ACCESS) {
            Linker linker = Linker.nativeLinker();
            var a = linker.defaultLookup().find("aligned_alloc");
            var f = linker.defaultLookup().find("free");
            if (a.isPresent() && f.isPresent()) {
                alloc = linker.downcallHandle(a.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                free = linker.downcallHandle(f.get(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            }
        }
        ALIGNED_ALLOC = alloc;
        FREE = free;
    }

    /** Whether weights are viewed and copied as described above. */
    static boolean enabled() {
        return NATIVE_ACCESS && ALIGNED_ALLOC != null;
    }

    /** {@code data} as a plain native segment over the same memory with the same lifetime (heap segments as they are). */
    static MemorySegment view(MemorySegment data) {
        return data.isNative() ? data.reinterpret(data.byteSize()) : data;
    }

    /**
     * {@code bytes} of native memory aligned to 64, freed once the returned segment is unreachable; {@code what}
     * names it in the error when the system has no memory left.
     */
    static MemorySegment allocate(long bytes, String what) {
        long rounded = Math.max(64, (bytes + 63) & ~63L);
        MemorySegment p;
        try {
            p = (MemorySegment) ALIGNED_ALLOC.invokeExact(64L, rounded);
        } catch (Throwable t) {
            throw new AlmaException("cannot allocate " + bytes + " bytes for " + what + ": " + t);
        }
        if (p.address() == 0) throw new AlmaException("out of memory: " + bytes + " bytes for " + what);
        return p.reinterpret(bytes, Arena.ofAuto(), WeightMemory::free);
    }

    private static void free(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
