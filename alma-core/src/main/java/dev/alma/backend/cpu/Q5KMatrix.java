package dev.alma.backend.cpu;

import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A Q5_K weight matrix: super-blocks of 256 values = f16 {@code d}, f16 {@code dmin}, 12 bytes packing eight 6-bit
 * scales and mins (as Q4_K, {@link Q4KMatrix#scalesAndMins}), 32 bytes {@code qh} of fifth bits and 128 bytes
 * {@code qs} of nibbles. Sub-block {@code k} (32 values) decodes to {@code d·scale[k]·q − dmin·min[k]} with the 5-bit
 * {@code q}: for chunk {@code c} (sub-blocks {@code 2c}, {@code 2c+1}) and {@code l < 32}, qs byte {@code 32c+l} holds
 * value {@code l} of sub-block {@code 2c} in its low nibble and of {@code 2c+1} in its high nibble, and bits
 * {@code 2c} and {@code 2c+1} of qh byte {@code l} are their fifth bits (16).
 */
final class Q5KMatrix extends QuantMatrix {
    static final int BLOCK_BYTES = 176;

    Q5KMatrix(Tensor t) {
        super(t);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = r * rowBytes;
        if (SimdQuant.AVAILABLE)
            return SimdQuant.V.dotQ5K(w, base, x, xOff, runSums(x, xOff, cols, 32), blocks, new int[16]);
        return dotScalar(w, base, x, xOff, blocks);
    }

    /**
     * Row after row by {@link KQuantLanes.V#dotQ5K}, the activations permuted into its lane order once for the chunk;
     * with {@code -Dalma.cpu.kquantLanes=false}, {@link SimdQuant.V#dotQ5K} in the four-stream order of
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
            for (int r = r0; r < r1; r++) out[r] = KQuantLanes.V.dotQ5K(w, r * rowBytes, a.lanes(), a.minusSums(), blocks);
            return;
        }
        float[] xsum = runSums(x, 0, cols, 32);
        int[] sm = new int[16];
        int q = (r1 - r0) / 4;
        for (int r = r0; r < r0 + q; r++)
            for (int k = 0; k < 4; k++) out[r + k * q] = SimdQuant.V.dotQ5K(w, (r + k * q) * rowBytes, x, 0, xsum, blocks, sm);
        for (int r = r0 + 4 * q; r < r1; r++) out[r] = SimdQuant.V.dotQ5K(w, r * rowBytes, x, 0, xsum, blocks, sm);
    }

    /** Row {@code r} decoded by the vector code when it is available (for {@link Gemm} and {@link FewTokens}). */
    @Override
    void row(int r, float[] out, int off) {
        if (SimdQuant.AVAILABLE) SimdQuant.V.decodeQ5K(w, r * rowBytes, out, off, blocks);
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
        if (KQuantLanes.ENABLED) KQuantLanes.V.decodeQ5K(w, r * rowBytes, out, off, blocks);
        else row(r, out, off);
    }

    /** The 5-bit code of value {@code l} of sub-block {@code 2c + hi} of the super-block at {@code p}. */
    private static int q(MemorySegment w, long p, int c, int hi, int l) {
        int nibble = u8(w, p + 48 + 32 * c + l) >>> (4 * hi) & 0xF;
        return nibble | (u8(w, p + 16 + l) >>> (2 * c + hi) & 1) << 4;
    }

    static float dotScalar(MemorySegment w, long base, float[] x, int xOff, int blocks) {
        int[] sm = new int[16];
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p), dmin = f16(w, p + 2);
            Q4KMatrix.scalesAndMins(w, p + 4, sm);
            int xi = xOff + 256 * b;
            for (int k = 0; k < 8; k++) {
                float qx = 0, sx = 0;
                for (int l = 0; l < 32; l++) {
                    float xv = x[xi + 32 * k + l];
                    qx += q(w, p, k / 2, k % 2, l) * xv;
                    sx += xv;
                }
                s += d * sm[k] * qx - dmin * sm[8 + k] * sx;
            }
        }
        return s;
    }

    static void decode(MemorySegment w, long base, float[] out, int off, int blocks) {
        int[] sm = new int[16];
        for (int b = 0; b < blocks; b++) {
            long p = base + (long) b * BLOCK_BYTES;
            float d = f16(w, p), dmin = f16(w, p + 2);
            Q4KMatrix.scalesAndMins(w, p + 4, sm);
            for (int k = 0; k < 8; k++) {
                float dk = d * sm[k], mk = dmin * sm[8 + k];
                for (int l = 0; l < 32; l++) out[off + 256 * b + 32 * k + l] = dk * q(w, p, k / 2, k % 2, l) - mk;
            }
        }
    }
}
