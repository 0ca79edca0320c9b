package dev.alma.backend.cpu;

import dev.alma.tensor.Layouts;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** A BF16 weight matrix, read in place. */
final class BF16Matrix extends CpuMatrix {
    private final MemorySegment w;

    BF16Matrix(Tensor t) {
        super(t);
        this.w = t.data();
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = (long) r * cols * 2;
        if (Simd.AVAILABLE) return Simd.V.dotBF16(w, base, x, xOff, cols);
        float s = 0;
        for (int i = 0; i < cols; i++) s += Float.intBitsToFloat(w.get(Layouts.I16, base + 2L * i) << 16) * x[xOff + i];
        return s;
    }

    @Override
    void row(int r, float[] out, int off) {
        long base = (long) r * cols * 2;
        if (Simd.AVAILABLE) {
            Simd.V.rowBF16(w, base, out, off, cols);
            return;
        }
        for (int i = 0; i < cols; i++) out[off + i] = Float.intBitsToFloat(w.get(Layouts.I16, base + 2L * i) << 16);
    }
}
