package dev.alma.backend.cpu;

import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A Q4_0 weight matrix: blocks of an f16 scale {@code d} and 16 bytes; byte {@code j} holds value {@code j} in its
 * low nibble and value {@code j+16} in its high nibble, and a nibble {@code q} means {@code (q-8)·d}.
 */
final class Q4_0Matrix extends QuantMatrix {
    static final int BLOCK_BYTES = 18;

    Q4_0Matrix(Tensor t) {
        super(t);
    }

    /**
     * Row after row: the product is bound by the nibble unpacking, not by memory, and the four far-apart streams
     * of {@link CpuMatrix#matvec} then cost more than they bring (MatmulBench Q4_0 tokens=1, 2026-11-27, two runs
     * each: 335.8 and 339.4 ops/s four streams, 654.6 and 612.7 row after row).
     */
    @Override
    void matvec(float[] x, float[] out, int r0, int r1) {
        for (int r = r0; r < r1; r++) out[r] = dot(r, x, 0);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = r * rowBytes;
        if (SimdQuant.AVAILABLE) return SimdQuant.V.dotQ4_0(w, base, x, xOff, blocks);
        return dotScalar(w, base, x, xOff, blocks);
    }

    /** Row {@code r} decoded by the vector code when it is available (prompts go through {@link Gemm}). */
    @Override
    void row(int r, float[] out, int off) {
        if (SimdQuant.AVAILABLE) SimdQuant.V.decodeQ4_0(w, r * rowBytes, out, off, blocks);
        else decode(w, r * rowBytes, out, off, blocks);
    }

    /**
     * Beams (one pass of five tokens) in registers; from six tokens on Gemm is faster, its nibbles unpacked once
     * (MatmulBench 32768 x 2048: 6 tokens 116.2 against 67.1 ops/s, 8 tokens 133.6 against 72.1).
     */
    @Override
    int fewTokensMax() {
        return FewTokens.TOKENS;
    }

    @Override
    void dot4x5(int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        FewTokens.V.rows4x5Q4_0(w, ra * rowBytes, rb * rowBytes, rc * rowBytes, rd * rowBytes, blocks, xs, xb,
                sums);
    }

    static float dotScalar(MemorySegment w, long base, float[] x, int xOff, int blocks) {
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            int xi = xOff + 32 * b;
            float bs = 0;
            for (int j = 0; j < 16; j++) {
                int q = u8(w, p + 2 + j);
                bs += ((q & 0xF) - 8) * x[xi + j] + ((q >>> 4) - 8) * x[xi + 16 + j];
            }
            s += f16(w, p) * bs;
        }
        return s;
    }

    static void decode(MemorySegment w, long base, float[] out, int off, int blocks) {
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p);
            int o = off + 32 * b;
            for (int j = 0; j < 16; j++) {
                int q = u8(w, p + 2 + j);
                out[o + j] = ((q & 0xF) - 8) * d;
                out[o + 16 + j] = ((q >>> 4) - 8) * d;
            }
        }
    }
}
