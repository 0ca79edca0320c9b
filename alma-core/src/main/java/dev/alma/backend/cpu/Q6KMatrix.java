package dev.alma.backend.cpu;

import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Q6_K weight matrix: super-blocks of 256 values = 128 bytes {@code ql} (low 4 bits), 64 bytes {@code qh} (high
 * 2 bits), 16 int8 scales (one per 16 values) and f16 {@code d}; a value is {@code d·scale·(q − 32)} with the
 * 6-bit {@code q}. Each half of 128 values uses 64 bytes of ql, 32 of qh and 8 scales: for {@code l < 32}, ql byte
 * {@code l} holds values {@code l} (low nibble) and {@code l+64} (high), ql byte {@code l+32} values {@code l+32}
 * and {@code l+96}, and qh byte {@code l} the high bits of {@code l, l+32, l+64, l+96} in bit pairs 0-1 … 6-7.
 */
final class Q6KMatrix extends QuantMatrix {
    static final int BLOCK_BYTES = 210;

    Q6KMatrix(Tensor t) {
        super(t);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = r * rowBytes;
        if (SimdQuant.AVAILABLE) return SimdQuant.V.dotQ6K(w, base, x, xOff, blocks);
        return dotScalar(w, base, x, xOff, blocks);
    }

    /**
     * Row after row by {@link KQuantLanes.V#dotQ6K} when it is enabled, the activations permuted into its lane order
     * once for the chunk (compute-bound: four far-apart streams measured slower, MatmulBench Q6_K tokens=1,
     * 2026-11-27: 222.9 against 560.5 ops/s); otherwise the four-stream order of {@link CpuMatrix#matvec}.
     */
    @Override
    void matvec(float[] x, float[] out, int r0, int r1) {
        if (!KQuantLanes.ENABLED) {
            super.matvec(x, out, r0, r1);
            return;
        }
        var a = KQuantLanes.Q6Activations.of(x, cols);
        for (int r = r0; r < r1; r++) out[r] = KQuantLanes.V.dotQ6K(w, r * rowBytes, a.lanes(), a.offsetSums(), blocks);
    }

    /**
     * Row {@code r} decoded by the vector code when it is available: several tokens go through {@link Gemm} (the
     * four-row decoding of {@link FewTokens#decodedDot4x5} measured no faster for Q6_K's 5-beam steps).
     */
    @Override
    int fewTokensMax() {
        return FewTokens.TOKENS;
    }

    @Override
    void dot4x5(int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        FewTokens.V.rows2x5Q6K(w, ra * rowBytes, rb * rowBytes, blocks, xs, xb, sums, 0);
        FewTokens.V.rows2x5Q6K(w, rc * rowBytes, rd * rowBytes, blocks, xs, xb, sums, 2);
    }

    @Override
    void row(int r, float[] out, int off) {
        if (SimdQuant.AVAILABLE) SimdQuant.V.decodeQ6K(w, r * rowBytes, out, off, blocks);
        else decode(w, r * rowBytes, out, off, blocks);
    }

    /** The four 6-bit values (minus 32) of position {@code l} in the half at ql {@code pl} and qh {@code ph}. */
    private static int q(MemorySegment w, long pl, long ph, int l, int k) {
        int lo = u8(w, pl + l + (k & 1) * 32);
        int nibble = k < 2 ? lo & 0xF : lo >>> 4;
        return (nibble | (((u8(w, ph + l) >>> (2 * k)) & 3) << 4)) - 32;
    }

    static float dotScalar(MemorySegment w, long base, float[] x, int xOff, int blocks) {
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p + 208);
            for (int half = 0; half < 2; half++) {
                long pl = p + 64 * half, ph = p + 128 + 32 * half, ps = p + 192 + 8 * half;
                int xi = xOff + 256 * b + 128 * half;
                for (int k = 0; k < 4; k++) {
                    for (int g = 0; g < 2; g++) {
                        float gs = 0;
                        for (int l = 16 * g; l < 16 * g + 16; l++) gs += q(w, pl, ph, l, k) * x[xi + 32 * k + l];
                        s += d * w.get(ValueLayout.JAVA_BYTE, ps + g + 2 * k) * gs;
                    }
                }
            }
        }
        return s;
    }

    static void decode(MemorySegment w, long base, float[] out, int off, int blocks) {
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p + 208);
            for (int half = 0; half < 2; half++) {
                long pl = p + 64 * half, ph = p + 128 + 32 * half, ps = p + 192 + 8 * half;
                int o = off + 256 * b + 128 * half;
                for (int k = 0; k < 4; k++)
                    for (int l = 0; l < 32; l++)
                        out[o + 32 * k + l] = d * w.get(ValueLayout.JAVA_BYTE, ps + l / 16 + 2 * k) * q(w, pl, ph, l, k);
            }
        }
    }
}
