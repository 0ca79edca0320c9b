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
    void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] out, int o0, int o1, int o2, int o3) {
        if (!Simd.AVAILABLE) {
            super.dot4(r0, r1, r2, r3, x, xOff, out, o0, o1, o2, o3);
            return;
        }
        long rb = (long) cols * 2;
        Simd.V.dot4BF16(w, r0 * rb, r1 * rb, r2 * rb, r3 * rb, x, xOff, cols, out, o0, o1, o2, o3);
    }

    @Override
    int fewTokensMax() {
        return FewTokens.MAX;
    }

    @Override
    float fewTokenScale() {
        return FewTokens.Half.BF16.scale;
    }

    @Override
    void dot4x5(int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        FewTokens.dot4x5(w, FewTokens.Half.BF16, cols, ra, rb, rc, rd, xs, xb, sums);
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
