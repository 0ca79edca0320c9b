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
 * ({@link CpuMatrix#dot4x5}; Q6_K two rows at a time, {@link V#rows2x5Q6K}); Q4_K and Q5_K decode four rows to floats
 * first ({@link #decodedDot4x5}). A thread reads
 * four weight rows a quarter of its range apart, as the one-token product does ({@link CpuMatrix#matvec}).
 * {@link Gemm} instead decodes whole weight rows to floats in memory before tiling them with the tokens: for a prompt
 * that cost is spread over many tokens, for five it is most of the product. When there are more than {@code TOKENS}
 * activation rows (up to {@link CpuMatrix#fewTokensMax}), further passes over the same four weight rows read them
 * from the cache. The activations are copied once per call into passes of five rows interleaved by vector
 * ({@link #interleave}), so that a kernel reads all five from one index.
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
        int width = padded(m.cols), passes = Math.ceilDiv(n, TOKENS);
        float[] xs = SCALED.get();
        if (xs.length < passes * TOKENS * width) SCALED.set(xs = new float[passes * TOKENS * width]);
        interleave(x, n, m.cols, m.fewTokenScale(), m.fewTokenOrder(), xs);
        float[] sums = new float[4 * TOKENS];
        int q = (r1 - r0) / 4;
        for (int r = r0; r < r0 + q; r++) rows4(m, xs, n, out, sums, r, r + q, r + 2 * q, r + 3 * q, 4);
        for (int r = r0 + 4 * q; r < r1; r++) rows4(m, xs, n, out, sums, r, r, r, r, 1);
    }

    /** Columns of one activation row in {@link #interleave}'s layout: {@code cols} rounded up to whole vectors. */
    static int padded(int cols) {
        return Math.ceilDiv(cols, V.L) * V.L;
    }

    /**
     * Where column {@code c} of activation row {@code j} of a pass starting at {@code xb} lies in {@link #interleave}'s
     * layout.
     */
    static int at(int xb, int c, int j) {
        return xb + TOKENS * (c - c % V.L) + j * V.L + c % V.L;
    }

    /**
     * Writes the {@code n} activation rows of {@code x} ({@code cols} each) to {@code xs} in passes of
     * {@link #TOKENS} rows, each pass {@code TOKENS * padded(cols)} floats: per vector of columns, the five rows'
     * vectors one after another ({@link #at}), so that a kernel addresses all five from one index (nine base
     * pointers — four weight rows and five activation rows — left C2 short of general registers, and it spilled
     * them to vector registers and the accumulators to the stack). Values are multiplied by {@code scale} and,
     * with an {@code order}, permuted per 256-value block ({@code column b + k} takes {@code x[b + order[k]]});
     * the columns past {@code cols} and the rows past {@code n} of the last pass are zeros.
     */
    static void interleave(float[] x, int n, int cols, float scale, int[] order, float[] xs) {
        int width = padded(cols), passes = Math.ceilDiv(n, TOKENS);
        if (width != cols || n % TOKENS != 0) java.util.Arrays.fill(xs, 0, passes * TOKENS * width, 0f);
        for (int i = 0; i < n; i++) {
            int xb = (i / TOKENS) * TOKENS * width, j = i % TOKENS, src = i * cols;
            for (int c0 = 0; c0 < cols; c0 += V.L) {
                int d = xb + TOKENS * c0 + j * V.L, len = Math.min(V.L, cols - c0);
                if (order == null) for (int t = 0; t < len; t++) xs[d + t] = x[src + c0 + t] * scale;
                else {
                    int block = src + c0 - c0 % order.length, k = c0 % order.length;
                    for (int t = 0; t < len; t++) xs[d + t] = x[block + order[k + t]] * scale;
                }
            }
        }
    }

    /** Weight rows {@code ra..rd} (the first {@code distinct} of them distinct) times every activation row. */
    private static void rows4(CpuMatrix m, float[] xs, int n, float[] out, float[] sums, int ra, int rb, int rc, int rd,
                              int distinct) {
        int pass = TOKENS * padded(m.cols);
        for (int t = 0; t < n; t += TOKENS) {
            m.dot4x5(ra, rb, rc, rd, xs, (t / TOKENS) * pass, sums);
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

    /** How 16-bit weights widen to floats in {@link V#rows4x5F16}: the bits shifted left (and masked, for f16). */
    enum Half {
        /**
         * f16: exponent and mantissa moved to float position without the 2^112 multiply of an exact conversion (slow
         * on the f16 subnormals), so the widened weights are 2^-112 times their value; the activations are scaled by
         * 2^56 ({@link #scale}) and the sums by the other 2^56, keeping the products far from float underflow.
         */
        F16(0x1.0p56f),
        /** bf16: the top half of a float. */
        BF16(1f);

        /** What the activations are scaled by. */
        final float scale;

        Half(float scale) {
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
    static void dot4x5(MemorySegment w, Half kind, int cols, int ra, int rb, int rc, int rd, float[] xs, int xb,
                       float[] sums) {
        int vec = cols - cols % V.L;
        long bytes = 2L * cols;
        if (kind == Half.F16) V.rows4x5F16(w, ra * bytes, rb * bytes, rc * bytes, rd * bytes, xs, xb, vec, sums);
        else V.rows4x5BF16(w, ra * bytes, rb * bytes, rc * bytes, rd * bytes, xs, xb, vec, sums);
        for (int i = 0; i < sums.length; i++) sums[i] *= kind.scale;
        if (vec == cols) return;
        int[] r = {ra, rb, rc, rd};
        for (int j = 0; j < TOKENS; j++)
            for (int k = 0; k < 4; k++) {
                float tail = 0;
                for (int c = vec; c < cols; c++)
                    tail += kind.widen(w.get(dev.alma.tensor.Layouts.I16, r[k] * bytes + 2L * c)) * xs[at(xb, c, j)];
                sums[4 * j + k] += tail / kind.scale;
            }
    }

    /**
     * {@link CpuMatrix#dot4x5} of a type whose blocks cost more to unpack in registers than to decode (Q4_K and Q5_K,
     * whose rows are whole 256-value super-blocks, so whole vectors): the four rows decoded by
     * {@link CpuMatrix#fewTokenRow} into a per-thread buffer, then multiplied from there.
     */
    static void decodedDot4x5(CpuMatrix m, int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        int cols = m.cols;
        if (cols % V.L != 0) throw new IllegalStateException(m.tensor.name() + ": " + cols + " columns, not whole vectors");
        float[] w = DECODED.get();
        if (w.length < 4 * cols) DECODED.set(w = new float[4 * cols]);
        m.fewTokenRow(ra, w, 0);
        m.fewTokenRow(rb, w, cols);
        m.fewTokenRow(rc, w, 2 * cols);
        m.fewTokenRow(rd, w, 3 * cols);
        V.rows4x5Floats(w, cols, xs, xb, cols, sums);
    }

    /** The Vector-API kernels; a nested class so that nothing loads it unless {@link Simd#AVAILABLE}. */
    static final class V {
        static final int L = Simd.V.L;
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

        private V() {
        }

        /** The f16 weight vector at byte {@code off} widened as {@link Half#F16} describes. */
        private static FloatVector widenF16(MemorySegment w, long off) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(Simd.V.S, w, off, LE)
                    .convertShape(VectorOperators.S2I, Simd.V.I, 0);
            return bits.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
        }

        /** The bf16 weight vector at byte {@code off} as floats. */
        private static FloatVector widenBF16(MemorySegment w, long off) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(Simd.V.S, w, off, LE)
                    .convertShape(VectorOperators.S2I, Simd.V.I, 0);
            return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }

        /**
         * The dot products of the first {@code vec} columns of the f16 weight rows at byte offsets {@code o0..o3}
         * with the five activation rows of the pass at {@code x[xb..]} ({@link FewTokens#interleave}):
         * {@code sums[4*j + k]} for activation row {@code j} and weight row {@code k}, times 2^-112
         * ({@link Half#F16}).
         *
         * <p>This and {@link #rows4x5BF16} differ only in the widening. One kernel taking the shift count and mask
         * as arguments (or a flag) ran at 70-100 GFLOP/s on one core in cache, five tokens: C2 (JDK 25) kept them
         * in registers, ran short of them and spilled four to eight of the twenty accumulators to the stack on every
         * step; with the constants in the loop, 130-200.
         */
        static void rows4x5F16(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xb, int vec,
                               float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int i = 0; i < vec; i += L) {
                long b = 2L * i;
                int xi = xb + TOKENS * i;
                FloatVector w0 = widenF16(w, o0 + b), w1 = widenF16(w, o1 + b);
                FloatVector w2 = widenF16(w, o2 + b), w3 = widenF16(w, o3 + b);
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, xi);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, xi + L);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 2 * L);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 3 * L);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 4 * L);
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

        /** As {@link #rows4x5F16} for bf16 weights (exact sums). */
        static void rows4x5BF16(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xb, int vec,
                               float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int i = 0; i < vec; i += L) {
                long b = 2L * i;
                int xi = xb + TOKENS * i;
                FloatVector w0 = widenBF16(w, o0 + b), w1 = widenBF16(w, o1 + b);
                FloatVector w2 = widenBF16(w, o2 + b), w3 = widenBF16(w, o3 + b);
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, xi);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, xi + L);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 2 * L);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 3 * L);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 4 * L);
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

        /** As {@link #rows4x5F16} for four rows of floats at {@code w[0]}, {@code w[ld]}, {@code w[2ld]}, {@code w[3ld]}. */
        static void rows4x5Floats(float[] w, int ld, float[] x, int xb, int vec, float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int i = 0; i < vec; i += L) {
                int xi = xb + TOKENS * i;
                FloatVector w0 = FloatVector.fromArray(Simd.V.F, w, i), w1 = FloatVector.fromArray(Simd.V.F, w, ld + i);
                FloatVector w2 = FloatVector.fromArray(Simd.V.F, w, 2 * ld + i), w3 = FloatVector.fromArray(Simd.V.F, w, 3 * ld + i);
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, xi);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, xi + L);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 2 * L);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 3 * L);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 4 * L);
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
         * As {@link #rows4x5F16} for the Q8_0 rows at byte offsets {@code o0..o3} ({@code blocks} blocks each): each
         * vector of values is widened and multiplied by its block's scale once for the five activation rows. One loop
         * over vectors that loads the scale with each: a loop per block holding its four scales over the block's
         * vectors left C2 four registers short, and it spilled accumulators to the stack (one core, in cache: 81 against
         * 124-143 GFLOP/s).
         */
        static void rows4x5Q8_0(MemorySegment w, long o0, long o1, long o2, long o3, int blocks, float[] x, int xb,
                                float[] sums) {
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            for (int i = 0; i < 32 * blocks; i += L) {
                long off = (long) (i >> 5) * Q8_0Matrix.BLOCK_BYTES, p = off + 2 + (i & 31);
                FloatVector w0 = q8(w, o0 + p).mul(scale(w, o0 + off)), w1 = q8(w, o1 + p).mul(scale(w, o1 + off));
                FloatVector w2 = q8(w, o2 + p).mul(scale(w, o2 + off)), w3 = q8(w, o3 + p).mul(scale(w, o3 + off));
                int xi = xb + TOKENS * i;
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, xi);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, xi + L);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 2 * L);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 3 * L);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 4 * L);
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
         * As {@link #rows4x5F16} for the Q4_0 rows at byte offsets {@code o0..o3} ({@code blocks} blocks each): each
         * vector of nibbles is widened, offset by 8 and scaled once for the five activation rows; one loop over vectors,
         * as {@link #rows4x5Q8_0} and for the same reason.
         */
        static void rows4x5Q4_0(MemorySegment w, long o0, long o1, long o2, long o3, int blocks, float[] x, int xb,
                                float[] sums) {
            ByteVector m0f = ByteVector.broadcast(SimdQuant.V.B, (byte) 0x0F), m8 = ByteVector.broadcast(SimdQuant.V.B, (byte) 8);
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            FloatVector a40 = z, a41 = z, a42 = z, a43 = z;
            // value i of a row: block i / 32, the low nibbles of its bytes 0..15 for values 0..15, the high ones after
            for (int i = 0; i < 32 * blocks; i += L) {
                long off = (long) (i >> 5) * Q4_0Matrix.BLOCK_BYTES, p = off + 2 + (i & 15);
                int shift = (i & 16) >> 2;
                FloatVector w0 = q4(w, o0 + p, shift, m0f, m8).mul(scale(w, o0 + off));
                FloatVector w1 = q4(w, o1 + p, shift, m0f, m8).mul(scale(w, o1 + off));
                FloatVector w2 = q4(w, o2 + p, shift, m0f, m8).mul(scale(w, o2 + off));
                FloatVector w3 = q4(w, o3 + p, shift, m0f, m8).mul(scale(w, o3 + off));
                int xi = xb + TOKENS * i;
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, xi);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                a02 = w2.fma(y, a02);
                a03 = w3.fma(y, a03);
                y = FloatVector.fromArray(Simd.V.F, x, xi + L);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                a12 = w2.fma(y, a12);
                a13 = w3.fma(y, a13);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 2 * L);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                a22 = w2.fma(y, a22);
                a23 = w3.fma(y, a23);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 3 * L);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                a32 = w2.fma(y, a32);
                a33 = w3.fma(y, a33);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 4 * L);
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
         * As {@link #rows4x5F16} for two Q6_K rows at byte offsets {@code o0, o1} ({@code blocks} super-blocks each), in
         * the values' own order, into {@code sums[4j + k0]} and {@code sums[4j + k0 + 1]}: each vector of 6-bit codes is
         * put together from its ql nibbles and qh bit pair (shifts on int lanes, masks per byte), offset by 32, widened
         * and multiplied by its 16 values' scale once for the five activation rows. Two rows, not four: with four, the
         * unpacking of the fourth row passed C2's inlining node budget (NodeCountInliningCutoff), its vector operations
         * ran in the Vector API's Java fallback and the product took 16 GFLOP/s on one core.
         */
        static void rows2x5Q6K(MemorySegment w, long o0, long o1, int blocks, float[] x, int xb, float[] sums, int k0) {
            ByteVector m0f = ByteVector.broadcast(SimdQuant.V.B, (byte) 0x0F), m30 = ByteVector.broadcast(SimdQuant.V.B, (byte) 0x30);
            ByteVector m32 = ByteVector.broadcast(SimdQuant.V.B, (byte) 32);
            FloatVector z = FloatVector.zero(Simd.V.F);
            FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z, a40 = z, a41 = z;
            // value i of a row: super-block i / 256, half h = (i / 128) % 2, quarter k = (i / 32) % 4, l = i % 32: ql byte
            // 64h + 32(k % 2) + l (the low nibble for k < 2), qh byte 128 + 32h + l (bits 2k, 2k+1), scale 192 + 8h + 2k + l / 16
            for (int i = 0; i < 256 * blocks; i += L) {
                int v = i & 255, h = v >> 7, k = (v >> 5) & 3, l = v & 31;
                long p = (long) (i >> 8) * Q6KMatrix.BLOCK_BYTES, ql = p + 64 * h + 32 * (k & 1) + l, qh = p + 128 + 32 * h + l;
                long sc = p + 192 + 8 * h + 2 * k + (l >> 4);
                int nibble = (k >> 1) << 2, high = 2 * k;
                FloatVector w0 = q6(w, o0 + ql, o0 + qh, nibble, high, m0f, m30, m32).mul(scale6(w, o0 + p, o0 + sc));
                FloatVector w1 = q6(w, o1 + ql, o1 + qh, nibble, high, m0f, m30, m32).mul(scale6(w, o1 + p, o1 + sc));
                int xi = xb + TOKENS * i;
                FloatVector y = FloatVector.fromArray(Simd.V.F, x, xi);
                a00 = w0.fma(y, a00);
                a01 = w1.fma(y, a01);
                y = FloatVector.fromArray(Simd.V.F, x, xi + L);
                a10 = w0.fma(y, a10);
                a11 = w1.fma(y, a11);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 2 * L);
                a20 = w0.fma(y, a20);
                a21 = w1.fma(y, a21);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 3 * L);
                a30 = w0.fma(y, a30);
                a31 = w1.fma(y, a31);
                y = FloatVector.fromArray(Simd.V.F, x, xi + 4 * L);
                a40 = w0.fma(y, a40);
                a41 = w1.fma(y, a41);
            }
            sums[k0] = a00.reduceLanes(VectorOperators.ADD); sums[k0 + 1] = a01.reduceLanes(VectorOperators.ADD);
            sums[k0 + 4] = a10.reduceLanes(VectorOperators.ADD); sums[k0 + 5] = a11.reduceLanes(VectorOperators.ADD);
            sums[k0 + 8] = a20.reduceLanes(VectorOperators.ADD); sums[k0 + 9] = a21.reduceLanes(VectorOperators.ADD);
            sums[k0 + 12] = a30.reduceLanes(VectorOperators.ADD); sums[k0 + 13] = a31.reduceLanes(VectorOperators.ADD);
            sums[k0 + 16] = a40.reduceLanes(VectorOperators.ADD); sums[k0 + 17] = a41.reduceLanes(VectorOperators.ADD);
        }

        /**
         * L 6-bit codes minus 32, as floats: the nibble at {@code ql} ({@code nibble} 0: low, 4: high) and bits
         * {@code high, high+1} of the byte at {@code qh} moved to bits 4-5 (int-lane shifts; the masks drop what enters
         * from the neighbouring bytes).
         */
        private static FloatVector q6(MemorySegment w, long ql, long qh, int nibble, int high, ByteVector m0f, ByteVector m30,
                                      ByteVector m32) {
            ByteVector lo = ByteVector.fromMemorySegment(SimdQuant.V.B, w, ql, LE), hi = ByteVector.fromMemorySegment(SimdQuant.V.B, w, qh, LE);
            lo = lo.reinterpretAsInts().lanewise(VectorOperators.LSHR, nibble).reinterpretAsBytes().and(m0f);
            hi = hi.reinterpretAsInts().lanewise(VectorOperators.LSHR, high).lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and(m30);
            return (FloatVector) lo.or(hi).sub(m32).convertShape(VectorOperators.B2F, Simd.V.F, 0);
        }

        /** {@code d · scale} of a Q6_K super-block at {@code p} for the int8 scale at {@code sc}, in every lane. */
        private static FloatVector scale6(MemorySegment w, long p, long sc) {
            return FloatVector.broadcast(Simd.V.F, QuantMatrix.f16(w, p + 208) * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, sc));
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
