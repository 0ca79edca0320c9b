package dev.alma.backend.cpu;

import dev.alma.tensor.Layouts;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** A F16 weight matrix, read in place. */
final class F16Matrix extends CpuMatrix {
    private final MemorySegment w;

    F16Matrix(Tensor t) {
        super(t);
        this.w = t.data();
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = (long) r * cols * 2;
        if (Simd.AVAILABLE) return Simd.V.dotF16(w, base, x, xOff, cols);
        float s = 0;
        for (int i = 0; i < cols; i++) s += Float.float16ToFloat(w.get(Layouts.I16, base + 2L * i)) * x[xOff + i];
        return s;
    }

    @Override
    void row(int r, float[] out, int off) {
        long base = (long) r * cols * 2;
        if (Simd.AVAILABLE) {
            Simd.V.rowF16(w, base, out, off, cols);
            return;
        }
        for (int i = 0; i < cols; i++) out[off + i] = Float.float16ToFloat(w.get(Layouts.I16, base + 2L * i));
    }
}
