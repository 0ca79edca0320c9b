package dev.alma.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@code x · Wᵀ} for a few activation rows (a translation's five beams, a short batch). For F16, BF16, Q8_0 and Q4_0
 * weights each weight vector is loaded and widened once, in registers, for up to {@link #TOKENS} activation rows
 * ({@link CpuMatrix#dot4x5}); Q4_K and Q5_K decode four rows to floats first ({@link #decodedDot4x5}). A thread reads
 * four weight rows a quarter of its range apart, as the one-token product does ({@link CpuMatrix#matvec}).
 * {@link Gemm} instead decodes whole weight rows to floats in memory before tiling them with the tokens: for a prompt
 * that cost is spread over many tokens, for five it is most of the product. When there are more than {@code TOKENS}
 * activation rows (up to {@link CpuMatrix#fewTokensMax}), further passes over the same four weight rows read them
 * from the cache.
 *
 * <p>One thread, 32768 × 2048, five tokens (a harness outside the repository, best of 20): F16 decoding alone took
 * 11.8 ms and Gemm's whole product 22-25 ms, this kernel 9.5-12.5 ms; Q8_0 took 14.2-14.3 ms as a four-token block
 * kernel plus a fifth dot product per row, 7.7-7.8 ms here.
 */
final class FewTokens {
    /** Activation rows per pass over four weight rows (20 accumulators). */
    static final int TOKENS = 5;
    /**
     * Up to this many activation rows go through the in-register kernels (passes of five over the same four rows);
     * more through {@link Gemm}. MatmulBench, 32768 x 2048, 2 threads (ops/s, through Gemm / here): F16 10 tokens
     * 59.9 / 106.1, 15 tokens 50.6 / 76.6, 20 tokens 54.4 / 55.7; Q8_0 77.6 / 115.3, 61.0 / 81.5, 66.6 / 62.2.
     */
    static final int MAX = 16;

    /** {@code -Dalma.cpu.fewTokens=false} sends every product of several activation rows to {@link Gemm}. */
    private static final boolean ENABLED = !"false".equals(System.getProperty("alma.cpu.fewTokens"));

    /** Per-thread buffers: the activations scaled for a kernel, four decoded weight rows. */
    private static final ThreadLocal<float[]> SCALED = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> DECODED = ThreadLocal.withInitial(() -> new float[0]);

    private FewTokens() {
    }

    /** Whether {@link #matmul} takes {@code n} activation rows (the kernels need the Vector API). */
    static boolean applies(int n) {
        return ENABLED && n >= 2 && n <= MAX && SimdQuant.AVAILABLE;
    }

    /**
     * {@code out[i*m.rows + r] = W[r] · x[i*m.cols ..]} for activation rows {@code i < n} and weight rows
     * {@code r0 <= r < r1}, through {@code m}'s {@link CpuMatrix#dot4x5}.
     */
    static void matmul(CpuMatrix m, float[] x, int n, float[] out, int r0, int r1) {
        int cols = m.cols;
        float scale = m.fewTokenScale();
        int[] order = m.fewTokenOrder();
        float[] xs = x;
        if (scale != 1f || order != null) {
            xs = SCALED.get();
            if (xs.length < n * cols) SCALED.set(xs = new float[n * cols]);
            if (order == null) for (int i = 0; i < n * cols; i++) xs[i] = x[i] * scale;
            else
                for (int b = 0; b < n * cols; b += order.length)
                    for (int k = 0; k < order.length; k++) xs[b + k] = x[b + order[k]] * scale;
        }
        float[] sums = new float[4 * TOKENS];
        int q = (r1 - r0) / 4;
        for (int r = r0; r < r0 + q; r++) rows4(m, xs, n, out, sums, r, r + q, r + 2 * q, r + 3 * q, 4);
        for (int r = r0 + 4 * q; r < r1; r++) rows4(m, xs, n, out, sums, r, r, r, r, 1);
    }

    /** Weight rows {@code ra..rd} (the first {@code distinct} of them distinct) times every activation row. */
    private static void rows4(CpuMatrix m, float[] xs, int n, float[] out, float[] sums, int ra, int rb, int rc, int rd,
                              int distinct) {
        int cols = m.cols, last = n - 1;  // a pass with fewer than TOKENS rows left repeats the last one
        for (int t = 0; t < n; t += TOKENS) {
            m.dot4x5(ra, rb, rc, rd, xs, t * cols, Math.min(t + 1, last) * cols, Math.min(t + 2, last) * cols,
                    Math.min(t + 3, last) * cols, Math.min(t + 4, last) * cols, sums);
            for (int j = 0; j < TOKENS && t + j < n; j++) {
                int o = (t + j) * m.rows;
                out[o + ra] = sums[4 * j];
                if (distinct > 1) {
                    out[o + rb] = sums[4 * j + 1];
                    out[o + rc] = sums[4 * j + 2];
                    out[o + rd] = sums[4 * j + 3];
                }
            }
        }
    }

    /** How 16-bit weights widen to floats in {@link V#rows4x5}: the bits shifted left and masked. */
    enum Half {
        /**
         * f16: exponent and mantissa moved to float position without the 2^112 multiply of an exact conversion (slow
         * on the f16 subnormals), so the widened weights are 2^-112 times their value; the activations are scaled by
         * 2^56 ({@link #scale}) and the sums by the other 2^56, keeping the products far from float underflow.
         */
        F16(13, 0x8FFFE000, 0x1.0p56f),
        /** bf16: the top half of a float. */
        BF16(16, 0xFFFF0000, 1f);

        final int shift;
        final int mask;
        /** What the activations are scaled by. */
        final float scale;

        Half(int shift, int mask, float scale) {
            this.shift = shift;
            this.mask = mask;
            this.scale = scale;
        }

        /** The stored 16 bits as a float (exact). */
        float widen(short bits) {
            return this == F16 ? Float.float16ToFloat(bits) : Float.intBitsToFloat(bits << 16);
        }
    }

    /**
     * {@link CpuMatrix#dot4x5} of a row-major 16-bit matrix {@code w} with {@code cols} columns: the vector kernel
     * over whole vectors, the columns past them one by one.
     */
    static void dot4x5(MemorySegment w, Half kind, int cols, int ra, int rb, int rc, int rd, float[] xs, int x0, int x1,
                       int x2, int x3, int x4, float[] sums) {
        int vec = cols - cols % V.L;
        long bytes = 2L * cols;
        V.rows4x5(w, ra * bytes, rb * bytes, rc * bytes, rd * bytes, kind.shift, kind.mask, xs, x0, x1, x2, x3, x4,
                vec, sums);
        for (int i = 0; i < sums.length; i++) sums[i] *= kind.scale;
        if (vec == cols) return;
        int[] r = {ra, rb, rc, rd}, xo = {x0, x1, x2, x3, x4};
        for (int j = 0; j < TOKENS; j++)
            for (int k = 0; k < 4; k++) {
                float tail = 0;
                for (int c = vec; c < cols; c++)
                    tail += kind.widen(w.get(dev.alma.tensor.Layouts.I16, r[k] * bytes + 2L * c)) * xs[xo[j] + c];
                sums[4 * j + k] += tail / kind.scale;
            }
    }

    /**
     * {@link CpuMatrix#dot4x5} of a type whose blocks cost more to unpack in registers than to decode (Q4_K and Q5_K,
     * whose rows are whole 256-value super-blocks, so whole vectors): the four rows decoded by
     * {@link CpuMatrix#fewTokenRow} into a per-thread buffer, then multiplied from there.
     */
    static void decodedDot4x5(CpuMatrix m, int ra, int rb, int rc, int rd, float[] xs, int x0, int x1, int x2, int x3,
                              int x4, float[] sums) {
        int cols = m.cols;
        if (cols % V.L != 0) throw new IllegalStateException(m.tensor.name() + ": " + cols + " columns, not whole vectors");
        float[] w = DECODED.get();
        if (w.length < 4 * cols) DECODED.set(w = new float[4 * cols]);
        m.fewTokenRow(ra, w, 0);
        m.fewTokenRow(rb, w, cols);
        m.fewTokenRow(rc, w, 2 * cols);
        m.fewTokenRow(rd, w, 3 * cols);
        V.rows4x5Floats(w, cols, xs, x0, x1, x2, x3, x4, cols, sums);
    }

    /** The Vector-API kernels; a nested class so that nothing loads it unless {@link Simd#AVAILABLE}. */
    static final class V {
        static final int L = Simd.V.L;
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

        private V() {
        }

        /** The 16-bit weight vector at byte {@code off} widened as {@code bits << shift & mask}. */
        private static FloatVector widen(MemorySegment w, long off, int shift, int mask) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(Simd.V.S, w, off, LE)
                    .convertShape(VectorOperators.S2I, Simd.V.I, 0);
            return bits.lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats();
        }

        /**
         * The dot products of the first {@code vec} columns of the 16-bit weight rows at byte offsets {@code o0..o3}
         * with the activation rows at {@code x[x0..]} .. {@code x[x4..]}: {@code sums[4*j + k]} for activation row
         * {@code j} and weight row {@code k}.
         */
        static void rows4x5(MemorySegment w, long o0, long o1, long o2, long o3, int shift, int mask, float[] x,
                            int x0, int x1, int x2, int x3, int x4, int vec, float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int i = 0; i < vec; i += L) {
                long b = 2L * i;
                FloatVector w0 = widen(w, o0 + b, shift, mask), w1 = widen(w, o1 + b, shift, mask);
                FloatVector w2 = widen(w, o2 + b, shift, mask), w3 = widen(w, o3 + b, shift, mask);
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, x0 + i);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, x1 + i);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, x2 + i);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, x3 + i);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, x4 + i);
                a40 = w0.fma(y, a40);
                a41 = w1.fma(y, a41);
                a42 = w2.fma(y, a42);
                a43 = w3.fma(y, a43);
            }
            sums[0] = a00.reduceLanes(VectorOperators.ADD); sums[1] = a01.reduceLanes(VectorOperators.ADD); sums[2] = a02.reduceLanes(VectorOperators.ADD); sums[3] = a03.reduceLanes(VectorOperators.ADD);
            sums[4] = a10.reduceLanes(VectorOperators.ADD); sums[5] = a11.reduceLanes(VectorOperators.ADD); sums[6] = a12.reduceLanes(VectorOperators.ADD); sums[7] = a13.reduceLanes(VectorOperators.ADD);
            sums[8] = a20.reduceLanes(VectorOperators.ADD); sums[9] = a21.reduceLanes(VectorOperators.ADD); sums[10] = a22.reduceLanes(VectorOperators.ADD); sums[11] = a23.reduceLanes(VectorOperators.ADD);
            sums[12] = a30.reduceLanes(VectorOperators.ADD); sums[13] = a31.reduceLanes(VectorOperators.ADD); sums[14] = a32.reduceLanes(VectorOperators.ADD); sums[15] = a33.reduceLanes(VectorOperators.ADD);
            sums[16] = a40.reduceLanes(VectorOperators.ADD); sums[17] = a41.reduceLanes(VectorOperators.ADD); sums[18] = a42.reduceLanes(VectorOperators.ADD); sums[19] = a43.reduceLanes(VectorOperators.ADD);
        }

        /** As {@link #rows4x5} for four rows of floats at {@code w[0]}, {@code w[ld]}, {@code w[2ld]}, {@code w[3ld]}. */
        static void rows4x5Floats(float[] w, int ld, float[] x, int x0, int x1, int x2, int x3, int x4, int vec,
                                  float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int i = 0; i < vec; i += L) {
                FloatVector w0 = FloatVector.fromArray(Simd.V.F, w, i), w1 = FloatVector.fromArray(Simd.V.F, w, ld + i);
                FloatVector w2 = FloatVector.fromArray(Simd.V.F, w, 2 * ld + i), w3 = FloatVector.fromArray(Simd.V.F, w, 3 * ld + i);
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, x0 + i);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, x1 + i);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, x2 + i);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, x3 + i);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, x4 + i);
                a40 = w0.fma(y, a40);
                a41 = w1.fma(y, a41);
                a42 = w2.fma(y, a42);
                a43 = w3.fma(y, a43);
            }
            sums[0] = a00.reduceLanes(VectorOperators.ADD); sums[1] = a01.reduceLanes(VectorOperators.ADD); sums[2] = a02.reduceLanes(VectorOperators.ADD); sums[3] = a03.reduceLanes(VectorOperators.ADD);
            sums[4] = a10.reduceLanes(VectorOperators.ADD); sums[5] = a11.reduceLanes(VectorOperators.ADD); sums[6] = a12.reduceLanes(VectorOperators.ADD); sums[7] = a13.reduceLanes(VectorOperators.ADD);
            sums[8] = a20.reduceLanes(VectorOperators.ADD); sums[9] = a21.reduceLanes(VectorOperators.ADD); sums[10] = a22.reduceLanes(VectorOperators.ADD); sums[11] = a23.reduceLanes(VectorOperators.ADD);
            sums[12] = a30.reduceLanes(VectorOperators.ADD); sums[13] = a31.reduceLanes(VectorOperators.ADD); sums[14] = a32.reduceLanes(VectorOperators.ADD); sums[15] = a33.reduceLanes(VectorOperators.ADD);
            sums[16] = a40.reduceLanes(VectorOperators.ADD); sums[17] = a41.reduceLanes(VectorOperators.ADD); sums[18] = a42.reduceLanes(VectorOperators.ADD); sums[19] = a43.reduceLanes(VectorOperators.ADD);
        }

        /**
         * As {@link #rows4x5} for the Q8_0 rows at byte offsets {@code o0..o3} ({@code blocks} blocks each): a block's
         * values are widened and multiplied by its scale once for the five activation rows.
         */
        static void rows4x5Q8_0(MemorySegment w, long o0, long o1, long o2, long o3, int blocks, float[] x,
                                int x0, int x1, int x2, int x3, int x4, float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int b = 0; b < blocks; b++) {
                long off = (long) b * Q8_0Matrix.BLOCK_BYTES;
                FloatVector d0 = scale(w, o0 + off), d1 = scale(w, o1 + off), d2 = scale(w, o2 + off), d3 = scale(w, o3 + off);
                for (int h = 0; h < 32; h += L) {
                    long p = off + 2 + h;
                    FloatVector w0 = q8(w, o0 + p).mul(d0), w1 = q8(w, o1 + p).mul(d1);
                    FloatVector w2 = q8(w, o2 + p).mul(d2), w3 = q8(w, o3 + p).mul(d3);
                    int k = 32 * b + h;
                    FloatVector y = FloatVector.fromArray(Simd.V.F, x, x0 + k);
                    a00 = w0.fma(y, a00);
                    a01 = w1.fma(y, a01);
                    a02 = w2.fma(y, a02);
                    a03 = w3.fma(y, a03);
                    y = FloatVector.fromArray(Simd.V.F, x, x1 + k);
                    a10 = w0.fma(y, a10);
                    a11 = w1.fma(y, a11);
                    a12 = w2.fma(y, a12);
                    a13 = w3.fma(y, a13);
                    y = FloatVector.fromArray(Simd.V.F, x, x2 + k);
                    a20 = w0.fma(y, a20);
                    a21 = w1.fma(y, a21);
                    a22 = w2.fma(y, a22);
                    a23 = w3.fma(y, a23);
                    y = FloatVector.fromArray(Simd.V.F, x, x3 + k);
                    a30 = w0.fma(y, a30);
                    a31 = w1.fma(y, a31);
                    a32 = w2.fma(y, a32);
                    a33 = w3.fma(y, a33);
                    y = FloatVector.fromArray(Simd.V.F, x, x4 + k);
                    a40 = w0.fma(y, a40);
                    a41 = w1.fma(y, a41);
                    a42 = w2.fma(y, a42);
                    a43 = w3.fma(y, a43);
                }
            }
            sums[0] = a00.reduceLanes(VectorOperators.ADD); sums[1] = a01.reduceLanes(VectorOperators.ADD); sums[2] = a02.reduceLanes(VectorOperators.ADD); sums[3] = a03.reduceLanes(VectorOperators.ADD);
            sums[4] = a10.reduceLanes(VectorOperators.ADD); sums[5] = a11.reduceLanes(VectorOperators.ADD); sums[6] = a12.reduceLanes(VectorOperators.ADD); sums[7] = a13.reduceLanes(VectorOperators.ADD);
            sums[8] = a20.reduceLanes(VectorOperators.ADD); sums[9] = a21.reduceLanes(VectorOperators.ADD); sums[10] = a22.reduceLanes(VectorOperators.ADD); sums[11] = a23.reduceLanes(VectorOperators.ADD);
            sums[12] = a30.reduceLanes(VectorOperators.ADD); sums[13] = a31.reduceLanes(VectorOperators.ADD); sums[14] = a32.reduceLanes(VectorOperators.ADD); sums[15] = a33.reduceLanes(VectorOperators.ADD);
            sums[16] = a40.reduceLanes(VectorOperators.ADD); sums[17] = a41.reduceLanes(VectorOperators.ADD); sums[18] = a42.reduceLanes(VectorOperators.ADD); sums[19] = a43.reduceLanes(VectorOperators.ADD);
        }

        /**
         * As {@link #rows4x5} for the Q4_0 rows at byte offsets {@code o0..o3} ({@code blocks} blocks each): each
         * half block's nibbles are widened, offset by 8 and scaled once for the five activation rows.
         */
        static void rows4x5Q4_0(MemorySegment w, long o0, long o1, long o2, long o3, int blocks, float[] x,
                                int x0, int x1, int x2, int x3, int x4, float[] sums) {
            ByteVector m0f = ByteVector.broadcast(SimdQuant.V.B, (byte) 0x0F), m8 = ByteVector.broadcast(SimdQuant.V.B, (byte) 8);
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int b = 0; b < blocks; b++) {
                long off = (long) b * Q4_0Matrix.BLOCK_BYTES;
                FloatVector d0 = scale(w, o0 + off), d1 = scale(w, o1 + off), d2 = scale(w, o2 + off), d3 = scale(w, o3 + off);
                // h = 0: values j.. (low nibbles), h = 16: values 16 + j.. (high nibbles)
                for (int h = 0; h < 32; h += 16) {
                    for (int j = 0; j < 16; j += L) {
                        long p = off + 2 + j;
                        int shift = h / 4;
                        FloatVector w0 = q4(w, o0 + p, shift, m0f, m8).mul(d0), w1 = q4(w, o1 + p, shift, m0f, m8).mul(d1);
                        FloatVector w2 = q4(w, o2 + p, shift, m0f, m8).mul(d2), w3 = q4(w, o3 + p, shift, m0f, m8).mul(d3);
                        int k = 32 * b + h + j;
                        FloatVector y = FloatVector.fromArray(Simd.V.F, x, x0 + k);
                        a00 = w0.fma(y, a00);
                        a01 = w1.fma(y, a01);
                        a02 = w2.fma(y, a02);
                        a03 = w3.fma(y, a03);
                        y = FloatVector.fromArray(Simd.V.F, x, x1 + k);
                        a10 = w0.fma(y, a10);
                        a11 = w1.fma(y, a11);
                        a12 = w2.fma(y, a12);
                        a13 = w3.fma(y, a13);
                        y = FloatVector.fromArray(Simd.V.F, x, x2 + k);
                        a20 = w0.fma(y, a20);
                        a21 = w1.fma(y, a21);
                        a22 = w2.fma(y, a22);
                        a23 = w3.fma(y, a23);
                        y = FloatVector.fromArray(Simd.V.F, x, x3 + k);
                        a30 = w0.fma(y, a30);
                        a31 = w1.fma(y, a31);
                        a32 = w2.fma(y, a32);
                        a33 = w3.fma(y, a33);
                        y = FloatVector.fromArray(Simd.V.F, x, x4 + k);
                        a40 = w0.fma(y, a40);
                        a41 = w1.fma(y, a41);
                        a42 = w2.fma(y, a42);
                        a43 = w3.fma(y, a43);
                    }
                }
            }
            sums[0] = a00.reduceLanes(VectorOperators.ADD); sums[1] = a01.reduceLanes(VectorOperators.ADD); sums[2] = a02.reduceLanes(VectorOperators.ADD); sums[3] = a03.reduceLanes(VectorOperators.ADD);
            sums[4] = a10.reduceLanes(VectorOperators.ADD); sums[5] = a11.reduceLanes(VectorOperators.ADD); sums[6] = a12.reduceLanes(VectorOperators.ADD); sums[7] = a13.reduceLanes(VectorOperators.ADD);
            sums[8] = a20.reduceLanes(VectorOperators.ADD); sums[9] = a21.reduceLanes(VectorOperators.ADD); sums[10] = a22.reduceLanes(VectorOperators.ADD); sums[11] = a23.reduceLanes(VectorOperators.ADD);
            sums[12] = a30.reduceLanes(VectorOperators.ADD); sums[13] = a31.reduceLanes(VectorOperators.ADD); sums[14] = a32.reduceLanes(VectorOperators.ADD); sums[15] = a33.reduceLanes(VectorOperators.ADD);
            sums[16] = a40.reduceLanes(VectorOperators.ADD); sums[17] = a41.reduceLanes(VectorOperators.ADD); sums[18] = a42.reduceLanes(VectorOperators.ADD); sums[19] = a43.reduceLanes(VectorOperators.ADD);
        }

        /**
         * L nibbles at {@code off} (the low ones for {@code shift} 0, the high ones for 4) minus 8, as floats; the shift
         * runs on int lanes and the mask drops what enters from the next byte.
         */
        private static FloatVector q4(MemorySegment w, long off, int shift, ByteVector m0f, ByteVector m8) {
            ByteVector raw = ByteVector.fromMemorySegment(SimdQuant.V.B, w, off, LE);
            if (shift != 0) raw = raw.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes();
            return (FloatVector) raw.and(m0f).sub(m8).convertShape(VectorOperators.B2F, Simd.V.F, 0);
        }

        /** The f16 scale of the Q8_0 block at {@code p} in every lane. */
        private static FloatVector scale(MemorySegment w, long p) {
            return FloatVector.broadcast(Simd.V.F, QuantMatrix.f16(w, p));
        }

        /** L int8 values at {@code off} as floats. */
        private static FloatVector q8(MemorySegment w, long off) {
            return (FloatVector) ByteVector.fromMemorySegment(SimdQuant.V.B, w, off, LE)
                    .convertShape(VectorOperators.B2F, Simd.V.F, 0);
        }
    }
}
