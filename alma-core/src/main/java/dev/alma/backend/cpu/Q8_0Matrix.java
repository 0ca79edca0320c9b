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

    /** Up to this many activation rows are multiplied on the blocks ({@link #matmul}); more go through {@link Gemm}. */
    static final int FEW_ROWS = 8;

    /**
     * For a few activation rows (beams, a short batch) each weight block is widened in registers once for four of
     * them, the last {@code n % 4} by {@link #dot}; a prompt goes through {@link Gemm}, which decodes weight rows to
     * floats and tiles them with the tokens.
     */
    @Override
    void matmul(float[] x, int n, float[] out, int r0, int r1) {
        if (fewRowsKernel(n)) matmulByFours(x, n, out, r0, r1);
        else super.matmul(x, n, out, r0, r1);
    }

    /** Whether {@link #matmul} of {@code n} activation rows runs on the blocks ({@link #dotX4}) rather than {@link Gemm}. */
    static boolean fewRowsKernel(int n) {
        return n <= FEW_ROWS && SimdQuant.AVAILABLE && SimdQuant.V.L == 16;
    }

    /**
     * Row {@code r} times the activations at {@code x[i0..]}, {@code x[i1..]}, {@code x[i2..]}, {@code x[i3..]},
     * into {@code out[0..3]}, each block widened once for the four (needs {@link #fewRowsKernel}).
     */
    @Override
    void dotX4(int r, float[] x, int i0, int i1, int i2, int i3, float[] out) {
        SimdQuant.V.rowQ8_0x4(w, r * rowBytes, blocks, x, i0, i1, i2, i3, out, 0, 1, 2, 3);
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
