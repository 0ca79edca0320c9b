package dev.alma.backend.cpu;

import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A Q8_0 weight matrix: blocks of an f16 scale {@code d} and 32 int8 values {@code q}; a value is {@code d·q}. */
final class Q8_0Matrix extends QuantMatrix {
    static final int BLOCK_BYTES = 34;

    Q8_0Matrix(Tensor t) {
        super(t);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = r * rowBytes;
        if (SimdQuant.AVAILABLE) return SimdQuant.V.dotQ8_0(w, base, x, xOff, blocks);
        return dotScalar(w, base, x, xOff, blocks);
    }

    @Override
    void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] out, int o0, int o1, int o2, int o3) {
        if (SimdQuant.AVAILABLE && SimdQuant.V.L == 16)
            SimdQuant.V.dot4Q8_0(w, r0 * rowBytes, r1 * rowBytes, r2 * rowBytes, r3 * rowBytes, x, xOff, blocks, out, o0, o1, o2, o3);
        else super.dot4(r0, r1, r2, r3, x, xOff, out, o0, o1, o2, o3);
    }

    @Override
    int fewTokensMax() {
        return FewTokens.MAX;
    }

    @Override
    void dot4x5(int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        FewTokens.V.rows4x5Q8_0(w, ra * rowBytes, rb * rowBytes, rc * rowBytes, rd * rowBytes, blocks, xs, xb,
                sums);
    }

    @Override
    void row(int r, float[] out, int off) {
        if (SimdQuant.AVAILABLE) SimdQuant.V.rowQ8_0(w, r * rowBytes, out, off, blocks);
        else decode(w, r * rowBytes, out, off, blocks);
    }

    static float dotScalar(MemorySegment w, long base, float[] x, int xOff, int blocks) {
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            int xi = xOff + 32 * b;
            float bs = 0;
            for (int i = 0; i < 32; i++) bs += w.get(ValueLayout.JAVA_BYTE, p + 2 + i) * x[xi + i];
            s += f16(w, p) * bs;
        }
        return s;
    }

    static void decode(MemorySegment w, long base, float[] out, int off, int blocks) {
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p);
            for (int i = 0; i < 32; i++) out[off + 32 * b + i] = d * w.get(ValueLayout.JAVA_BYTE, p + 2 + i);
        }
    }
}
