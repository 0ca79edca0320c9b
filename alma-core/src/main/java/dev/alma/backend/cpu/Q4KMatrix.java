package dev.alma.backend.cpu;

import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A Q4_K weight matrix: super-blocks of 256 values = f16 {@code d}, f16 {@code dmin}, 12 bytes packing eight 6-bit
 * scales and eight 6-bit mins, and 128 bytes of nibbles. Sub-block {@code k} (32 values) decodes to
 * {@code d·scale[k]·q − dmin·min[k]}; bytes {@code 32c .. 32c+31} hold sub-block {@code 2c} in their low nibbles
 * and sub-block {@code 2c+1} in their high nibbles.
 */
final class Q4KMatrix extends QuantMatrix {
    static final int BLOCK_BYTES = 144;

    Q4KMatrix(Tensor t) {
        super(t);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = r * rowBytes;
        if (SimdQuant.AVAILABLE)
            return SimdQuant.V.dotQ4K(w, base, x, xOff, runSums(x, xOff, cols, 32), blocks, new int[16]);
        return dotScalar(w, base, x, xOff, blocks);
    }

    /**
     * Row after row by {@link KQuantLanes.V#dotQ4K}, the activations permuted into its lane order once for the chunk;
     * with {@code -Dalma.cpu.kquantLanes=false}, {@link SimdQuant.V#dotQ4K} in the four-stream order of
     * {@link CpuMatrix#matvec} with the sub-blocks' activation sums computed once for the chunk. Both kernels are
     * compute-bound, and the lane kernel runs faster row after row than in four streams (MatmulBench Q4_K tokens=1,
     * 2026-11-27: 421.0 against 724.3 ops/s).
     */
    @Override
    void matvec(float[] x, float[] out, int r0, int r1) {
        if (!SimdQuant.AVAILABLE) {
            super.matvec(x, out, r0, r1);
            return;
        }
        if (KQuantLanes.ENABLED) {
            var a = KQuantLanes.Q4Activations.of(x, cols);
            for (int r = r0; r < r1; r++) out[r] = KQuantLanes.V.dotQ4K(w, r * rowBytes, a.lanes(), a.minusSums(), blocks);
            return;
        }
        int[] sm = new int[16];
        int q = (r1 - r0) / 4;
        float[] xsum = runSums(x, 0, cols, 32);
        for (int r = r0; r < r0 + q; r++)
            for (int k = 0; k < 4; k++) out[r + k * q] = SimdQuant.V.dotQ4K(w, (r + k * q) * rowBytes, x, 0, xsum, blocks, sm);
        for (int r = r0 + 4 * q; r < r1; r++) out[r] = SimdQuant.V.dotQ4K(w, r * rowBytes, x, 0, xsum, blocks, sm);
    }

    /** Row {@code r} decoded by the vector code when it is available (for {@link Gemm} and {@link FewTokens}). */
    @Override
    void row(int r, float[] out, int off) {
        if (SimdQuant.AVAILABLE) SimdQuant.V.decodeQ4K(w, r * rowBytes, out, off, blocks);
        else decode(w, r * rowBytes, out, off, blocks);
    }

    /**
     * Beams: four rows decoded, then multiplied with five tokens ({@link FewTokens#decodedDot4x5}); more tokens go to
     * {@link Gemm}, which decodes each row once for all of them.
     */
    @Override
    int fewTokensMax() {
        return FewTokens.TOKENS;
    }

    /** With {@link KQuantLanes}, beams take the activations in its lane order and rows decoded by it. */
    @Override
    int[] fewTokenOrder() {
        return KQuantLanes.ENABLED ? KQuantLanes.V.Q4K_ORDER : null;
    }

    @Override
    void fewTokenRow(int r, float[] out, int off) {
        if (KQuantLanes.ENABLED) KQuantLanes.V.decodeQ4K(w, r * rowBytes, out, off, blocks);
        else row(r, out, off);
    }

    /**
     * Unpacks the 6-bit scale ({@code out[k]}) and min ({@code out[8+k]}) of the eight sub-blocks from the 12 bytes
     * at {@code p}: bytes 0-3 hold scales 0-3 in their low 6 bits, bytes 4-7 mins 0-3, bytes 8-11 the low 4 bits
     * of scales 4-7 (low nibble) and mins 4-7 (high nibble), whose top 2 bits are the top bits of bytes 0-3 / 4-7.
     */
    static void scalesAndMins(MemorySegment w, long p, int[] out) {
        // three little-endian ints: bytes 0-3, 4-7, 8-11
        int a = w.get(dev.alma.tensor.Layouts.I32, p), b = w.get(dev.alma.tensor.Layouts.I32, p + 4);
        int c = w.get(dev.alma.tensor.Layouts.I32, p + 8);
        for (int k = 0; k < 4; k++) {
            int sh = 8 * k;
            out[k] = (a >>> sh) & 63;
            out[8 + k] = (b >>> sh) & 63;
            out[4 + k] = ((c >>> sh) & 0xF) | (((a >>> (sh + 6)) & 3) << 4);
            out[12 + k] = ((c >>> (sh + 4)) & 0xF) | (((b >>> (sh + 6)) & 3) << 4);
        }
    }

    static float dotScalar(MemorySegment w, long base, float[] x, int xOff, int blocks) {
        int[] sm = new int[16];
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p), dmin = f16(w, p + 2);
            scalesAndMins(w, p + 4, sm);
            int xi = xOff + 256 * b;
            for (int c = 0; c < 4; c++) {
                float qx1 = 0, sx1 = 0, qx2 = 0, sx2 = 0;
                for (int l = 0; l < 32; l++) {
                    int q = u8(w, p + 16 + 32 * c + l);
                    float x1 = x[xi + 64 * c + l], x2 = x[xi + 64 * c + 32 + l];
                    qx1 += (q & 0xF) * x1;
                    sx1 += x1;
                    qx2 += (q >>> 4) * x2;
                    sx2 += x2;
                }
                s += d * sm[2 * c] * qx1 - dmin * sm[8 + 2 * c] * sx1 + d * sm[2 * c + 1] * qx2 - dmin * sm[9 + 2 * c] * sx2;
            }
        }
        return s;
    }

    static void decode(MemorySegment w, long base, float[] out, int off, int blocks) {
        int[] sm = new int[16];
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p), dmin = f16(w, p + 2);
            scalesAndMins(w, p + 4, sm);
            int o = off + 256 * b;
            for (int c = 0; c < 4; c++) {
                float d1 = d * sm[2 * c], m1 = dmin * sm[8 + 2 * c], d2 = d * sm[2 * c + 1], m2 = dmin * sm[9 + 2 * c];
                for (int l = 0; l < 32; l++) {
                    int q = u8(w, p + 16 + 32 * c + l);
                    out[o + 64 * c + l] = d1 * (q & 0xF) - m1;
                    out[o + 64 * c + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }
}
