package dev.alma.backend.cpu;

import dev.alma.tensor.Layouts;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** A F32 weight matrix, read in place. */
final class F32Matrix extends CpuMatrix {
    private final MemorySegment w;

    F32Matrix(Tensor t) {
        super(t);
        this.w = t.data();
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = (long) r * cols * 4;
        if (Simd.AVAILABLE) return Simd.V.dotF32(w, base, x, xOff, cols);
        float s = 0;
        for (int i = 0; i < cols; i++) s += w.get(Layouts.F32, base + 4L * i) * x[xOff + i];
        return s;
    }

    @Override
    void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] out, int o0, int o1, int o2, int o3) {
        if (!Simd.AVAILABLE) {
            super.dot4(r0, r1, r2, r3, x, xOff, out, o0, o1, o2, o3);
            return;
        }
        long rb = (long) cols * 4;
        Simd.V.dot4F32(w, r0 * rb, r1 * rb, r2 * rb, r3 * rb, x, xOff, cols, out, o0, o1, o2, o3);
    }

    @Override
    void row(int r, float[] out, int off) {
        MemorySegment.copy(w, Layouts.F32, (long) r * cols * 4, out, off, cols);
    }
}
