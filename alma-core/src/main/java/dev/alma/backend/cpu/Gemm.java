package dev.alma.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-matrix products for several activation rows (prompts, and beams of the types {@link FewTokens} leaves out).
 * Weight rows are decoded to floats a few at a time into a per-thread scratch buffer (each weight read from memory
 * once per call, whatever the number of tokens), then multiplied in register tiles, one of two ways:
 * <ul>
 *   <li>{@link #matmulPacked} (from {@link #PACKED_MIN} tokens): the activations are first transposed into
 *       {@link Tiles#pack column-major groups} of one vector of tokens each, and {@link Tiles} multiplies
 *       {@link #PACKED_ROWS} decoded weight rows by up to 4 groups (64 tokens with 16-float vectors) at a time, with
 *       no sums across lanes and half the loads per multiply-add of the other way.</li>
 *   <li>{@link #matmul}: {@code 4} weight rows times {@code 4} activation rows as dot products (16 accumulators
 *       summed across lanes at the end), for a few tokens or a prompt too short to fill a vector of tokens.</li>
 * </ul>
 */
final class Gemm {
    /** Weight rows decoded and multiplied together by {@link #matmul}. */
    static final int ROWS = 4;

    /** Weight rows per tile of {@link #matmulPacked}. */
    static final int PACKED_ROWS = Tiles.ROWS;

    /** {@code -Dalma.cpu.packedGemm=false} sends every product to {@link #matmul}. */
    private static final boolean PACKED = !"false".equals(System.getProperty("alma.cpu.packedGemm"));

    /**
     * The fewest tokens {@link #matmulPacked} takes: one vector of them (16 with AVX-512). Shorter prompts, and those
     * whose last group would leave more than {@link #packs a third} of the lanes empty, go through {@link #matmul}.
     */
    static final int PACKED_MIN = Simd.AVAILABLE ? Simd.V.L : Integer.MAX_VALUE;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    /** A tile's accumulators on their way out ({@link Tiles#ACC} floats). */
    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[Tiles.ACC]);

    private Gemm() {
    }

    /** {@code out[i*m.rows + r] = W[r] · x[i*m.cols ..]} for tokens {@code i < n} and rows {@code r0 <= r < r1}. */
    static void matmul(CpuMatrix m, float[] x, int n, float[] out, int r0, int r1) {
        int cols = m.cols;
        float[] w = scratch(ROWS * cols);
        int r = r0;
        for (; r + ROWS <= r1; r += ROWS) {
            for (int j = 0; j < ROWS; j++) m.row(r + j, w, j * cols);
            if (Simd.AVAILABLE) V.rows4(w, cols, x, n, out, m.rows, r);
            else rows4Scalar(w, cols, x, n, out, m.rows, r);
        }
        for (; r < r1; r++) {
            m.row(r, w, 0);
            for (int i = 0; i < n; i++) out[i * m.rows + r] = Simd.dot(w, 0, x, i * cols, cols);
        }
    }

    /**
     * Whether a product of {@code n} tokens goes through {@link #matmulPacked}: at least {@link #PACKED_MIN} of them,
     * and the padded lanes of the last group (computed, then dropped) at most a third of all lanes: with 16-float
     * vectors 16 tokens, then every count from 22.
     */
    static boolean packs(int n) {
        return PACKED && n >= PACKED_MIN && 3 * n >= 2 * Tiles.groups(n) * Tiles.L;
    }

    /**
     * {@code out[i*m.rows + r] = W[r] · x_i} for tokens {@code i < n} and rows {@code [r0, r1)}, from activations
     * {@link Tiles#pack packed}: {@link #PACKED_ROWS} rows are decoded at a time and multiplied with each block of groups.
     */
    static void matmulPacked(CpuMatrix m, float[] xt, int n, float[] out, int r0, int r1) {
        int cols = m.cols, l0 = Tiles.L, groups = Tiles.groups(n);
        float[] w = scratch(PACKED_ROWS * cols), acc = ACC.get();
        for (int r = r0; r < r1; r += PACKED_ROWS) {
            int rows = Math.min(PACKED_ROWS, r1 - r);
            for (int j = 0; j < rows; j++) m.row(r + j, w, j * cols);
            for (int g = 0; g < groups; g += 4) {
                // lane l of vector t: token (g + t)·L + l, written to out[token·m.rows + r + j] for tokens below n
                int tb = Math.min(4, groups - g), xi = g * cols * l0, ci = g * l0 * m.rows + r, limit = n - g * l0;
                Tiles.tile(tb, xt, xi, w, 0, cols, cols, rows, out, ci, 1, m.rows, limit, false, acc);
            }
        }
    }

    private static float[] scratch(int length) {
        float[] w = SCRATCH.get();
        if (w.length < length) SCRATCH.set(w = new float[length]);
        return w;
    }

    private static void rows4Scalar(float[] w, int cols, float[] x, int n, float[] out, int ldo, int r) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < ROWS; j++) {
                float s = 0;
                for (int k = 0; k < cols; k++) s += w[j * cols + k] * x[i * cols + k];
                out[i * ldo + r + j] = s;
            }
    }

    /** The Vector-API kernels; a nested class so that nothing loads it unless {@link Simd#AVAILABLE}. */
    static final class V {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final int L = F.length();

        private V() {
        }

        /** 4 decoded weight rows {@code w[j*cols ..]} times every activation row, 4 activation rows per pass. */
        static void rows4(float[] w, int cols, float[] x, int n, float[] out, int ldo, int r) {
            int i = 0;
            int vec = cols - cols % L;
            for (; i + 4 <= n; i += 4) {
                int x0 = i * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
                FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
                FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
                FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
                for (int k = 0; k < vec; k += L) {
                    FloatVector w0 = FloatVector.fromArray(F, w, k);
                    FloatVector w1 = FloatVector.fromArray(F, w, cols + k);
                    FloatVector w2 = FloatVector.fromArray(F, w, 2 * cols + k);
                    FloatVector w3 = FloatVector.fromArray(F, w, 3 * cols + k);
                    FloatVector y = FloatVector.fromArray(F, x, x0 + k);
                    a00 = w0.fma(y, a00);
                    a01 = w1.fma(y, a01);
                    a02 = w2.fma(y, a02);
                    a03 = w3.fma(y, a03);
                    y = FloatVector.fromArray(F, x, x1 + k);
                    a10 = w0.fma(y, a10);
                    a11 = w1.fma(y, a11);
                    a12 = w2.fma(y, a12);
                    a13 = w3.fma(y, a13);
                    y = FloatVector.fromArray(F, x, x2 + k);
                    a20 = w0.fma(y, a20);
                    a21 = w1.fma(y, a21);
                    a22 = w2.fma(y, a22);
                    a23 = w3.fma(y, a23);
                    y = FloatVector.fromArray(F, x, x3 + k);
                    a30 = w0.fma(y, a30);
                    a31 = w1.fma(y, a31);
                    a32 = w2.fma(y, a32);
                    a33 = w3.fma(y, a33);
                }
                int o = i * ldo + r;
                out[o] = a00.reduceLanes(VectorOperators.ADD) + tail(w, 0, x, x0, cols, vec);
                out[o + 1] = a01.reduceLanes(VectorOperators.ADD) + tail(w, cols, x, x0, cols, vec);
                out[o + 2] = a02.reduceLanes(VectorOperators.ADD) + tail(w, 2 * cols, x, x0, cols, vec);
                out[o + 3] = a03.reduceLanes(VectorOperators.ADD) + tail(w, 3 * cols, x, x0, cols, vec);
                o += ldo;
                out[o] = a10.reduceLanes(VectorOperators.ADD) + tail(w, 0, x, x1, cols, vec);
                out[o + 1] = a11.reduceLanes(VectorOperators.ADD) + tail(w, cols, x, x1, cols, vec);
                out[o + 2] = a12.reduceLanes(VectorOperators.ADD) + tail(w, 2 * cols, x, x1, cols, vec);
                out[o + 3] = a13.reduceLanes(VectorOperators.ADD) + tail(w, 3 * cols, x, x1, cols, vec);
                o += ldo;
                out[o] = a20.reduceLanes(VectorOperators.ADD) + tail(w, 0, x, x2, cols, vec);
                out[o + 1] = a21.reduceLanes(VectorOperators.ADD) + tail(w, cols, x, x2, cols, vec);
                out[o + 2] = a22.reduceLanes(VectorOperators.ADD) + tail(w, 2 * cols, x, x2, cols, vec);
                out[o + 3] = a23.reduceLanes(VectorOperators.ADD) + tail(w, 3 * cols, x, x2, cols, vec);
                o += ldo;
                out[o] = a30.reduceLanes(VectorOperators.ADD) + tail(w, 0, x, x3, cols, vec);
                out[o + 1] = a31.reduceLanes(VectorOperators.ADD) + tail(w, cols, x, x3, cols, vec);
                out[o + 2] = a32.reduceLanes(VectorOperators.ADD) + tail(w, 2 * cols, x, x3, cols, vec);
                out[o + 3] = a33.reduceLanes(VectorOperators.ADD) + tail(w, 3 * cols, x, x3, cols, vec);
            }
            for (; i < n; i++) {
                // one activation row: two sets of accumulators (columns k and k+L) so that 8 chains of
                // multiply-adds are in flight, not 4 (which would wait on the FMA latency)
                int x0 = i * cols;
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                int k = 0;
                for (; k + 2 * L <= vec; k += 2 * L) {
                    FloatVector y = FloatVector.fromArray(F, x, x0 + k), z = FloatVector.fromArray(F, x, x0 + k + L);
                    a0 = FloatVector.fromArray(F, w, k).fma(y, a0);
                    a1 = FloatVector.fromArray(F, w, cols + k).fma(y, a1);
                    a2 = FloatVector.fromArray(F, w, 2 * cols + k).fma(y, a2);
                    a3 = FloatVector.fromArray(F, w, 3 * cols + k).fma(y, a3);
                    b0 = FloatVector.fromArray(F, w, k + L).fma(z, b0);
                    b1 = FloatVector.fromArray(F, w, cols + k + L).fma(z, b1);
                    b2 = FloatVector.fromArray(F, w, 2 * cols + k + L).fma(z, b2);
                    b3 = FloatVector.fromArray(F, w, 3 * cols + k + L).fma(z, b3);
                }
                for (; k < vec; k += L) {
                    FloatVector y = FloatVector.fromArray(F, x, x0 + k);
                    a0 = FloatVector.fromArray(F, w, k).fma(y, a0);
                    a1 = FloatVector.fromArray(F, w, cols + k).fma(y, a1);
                    a2 = FloatVector.fromArray(F, w, 2 * cols + k).fma(y, a2);
                    a3 = FloatVector.fromArray(F, w, 3 * cols + k).fma(y, a3);
                }
                a0 = a0.add(b0);
                a1 = a1.add(b1);
                a2 = a2.add(b2);
                a3 = a3.add(b3);
                int o = i * ldo + r;
                out[o] = a0.reduceLanes(VectorOperators.ADD) + tail(w, 0, x, x0, cols, vec);
                out[o + 1] = a1.reduceLanes(VectorOperators.ADD) + tail(w, cols, x, x0, cols, vec);
                out[o + 2] = a2.reduceLanes(VectorOperators.ADD) + tail(w, 2 * cols, x, x0, cols, vec);
                out[o + 3] = a3.reduceLanes(VectorOperators.ADD) + tail(w, 3 * cols, x, x0, cols, vec);
            }
        }


        /** The columns past the last whole vector (none when {@code cols} is a multiple of the vector length). */
        private static float tail(float[] w, int wOff, float[] x, int xOff, int cols, int vec) {
            float s = 0;
            for (int k = vec; k < cols; k++) s += w[wOff + k] * x[xOff + k];
            return s;
        }
    }
}
