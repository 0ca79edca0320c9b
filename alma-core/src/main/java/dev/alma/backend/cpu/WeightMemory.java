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
 * ({@link #allocate}), released when the backend that made them closes.
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

    /** Linux on x86-64/AArch64: anonymous mappings filled in by the kernel at once (MAP_POPULATE); elsewhere aligned_alloc. */
    private static final boolean LINUX = System.getProperty("os.name", "").startsWith("Linux")
            && java.util.Set.of("amd64", "x86_64", "aarch64").contains(System.getProperty("os.arch", ""));
    private static final int PROT_READ_WRITE = 0x3, MAP_PRIVATE_ANONYMOUS_POPULATE = 0x02 | 0x20 | 0x8000;

    private static final MethodHandle ALLOC, RELEASE;

    static {
        MethodHandle alloc = null, release = null;
        if (NATIVE_ACCESS) {
            Linker linker = Linker.nativeLinker();
            var lookup = linker.defaultLookup();
            var a = lookup.find(LINUX ? "mmap" : "aligned_alloc");
            var r = lookup.find(LINUX ? "munmap" : "free");
            if (a.isPresent() && r.isPresent()) {
                alloc = linker.downcallHandle(a.get(), LINUX
                        ? FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)
                        : FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                release = linker.downcallHandle(r.get(), LINUX
                        ? FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG)
                        : FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            }
        }
        ALLOC = alloc;
        RELEASE = release;
    }

    /** Whether weights are viewed and copied as described above. */
    static boolean enabled() {
        return NATIVE_ACCESS && ALLOC != null;
    }

    /** {@code data} as a plain native segment over the same memory with the same lifetime (heap segments as they are). */
    static MemorySegment view(MemorySegment data) {
        return data.isNative() ? data.reinterpret(data.byteSize()) : data;
    }

    /**
     * {@code bytes} of native memory aligned to 64 (a page on Linux), released when {@code owner} closes (for an
     * automatic arena: once the segment is unreachable); {@code what} names it in the error when the system has no
     * memory left. On Linux (x86-64, AArch64) the pages are mapped in one call rather than faulted in
     * one by one: copying a 2.1 GB model took 1.0 s this way against 2.2 s into aligned_alloc memory (this VM).
     */
    static MemorySegment allocate(long bytes, String what, Arena owner) {
        long size = Math.max(64, (bytes + 63) & ~63L);
        MemorySegment p;
        try {
            p = LINUX ? (MemorySegment) ALLOC.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS_POPULATE, -1, 0L)
                    : (MemorySegment) ALLOC.invokeExact(64L, size);
        } catch (Throwable t) {
            throw new AlmaException("cannot allocate " + bytes + " bytes for " + what + ": " + t);
        }
        if (p.address() == 0 || p.address() == -1) throw new AlmaException("out of memory: " + bytes + " bytes for " + what);
        return p.reinterpret(bytes, owner, s -> release(s, size));
    }

    private static void release(MemorySegment p, long size) {
        try {
            if (LINUX) {
                int rc = (int) RELEASE.invokeExact(p, size);
                if (rc != 0) throw new IllegalStateException("munmap failed for " + size + " bytes");
            } else {
                RELEASE.invokeExact(p);
            }
        } catch (Throwable t) {
            throw new IllegalStateException("releasing weight memory failed", t);
        }
    }
}
