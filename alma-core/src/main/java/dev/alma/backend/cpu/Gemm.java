package dev.alma.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Matrix-matrix products for several activation rows (prompts, and beams of the types {@link FewTokens} leaves out).
 * Weight rows are decoded to floats a few at a time into a per-thread scratch buffer (each weight read from memory
 * once per call, whatever the number of tokens), then multiplied in register tiles, one of two ways:
 * <ul>
 *   <li>{@link #matmulPacked} (from {@link #PACKED_MIN} tokens): the activations are first transposed into
 *       {@link #pack column-major groups} of one vector of tokens each; a tile holds {@link #PACKED_ROWS} weight rows
 *       times up to 4 groups (64 tokens with 16-float vectors) in 20 accumulators, and each column {@code k} costs one
 *       broadcast weight per row and one activation load per group for 20 multiply-adds. The accumulators are
 *       finished products (no horizontal sums) and the loads per multiply-add are half of the other way's. One core
 *       of this project's machine (Zen 5, 16-float vectors) ran the tile at 245 GFLOP/s over 2048 in-cache columns
 *       against a 249 GFLOP/s FMA peak ({@code PeakBench}); whole products also wait on the row decoding.</li>
 *   <li>{@link #matmul}: {@code 4} weight rows times {@code 4} activation rows as dot products (16 accumulators
 *       summed across lanes at the end), for a few tokens or a prompt too short to fill a vector of tokens.</li>
 * </ul>
 */
final class Gemm {
    /** Weight rows decoded and multiplied together by {@link #matmul}. */
    static final int ROWS = 4;

    /** Weight rows per tile of {@link #matmulPacked}. */
    static final int PACKED_ROWS = 5;

    /** {@code -Dalma.cpu.packedGemm=false} sends every product to {@link #matmul}. */
    private static final boolean PACKED = !"false".equals(System.getProperty("alma.cpu.packedGemm"));

    /**
     * The fewest tokens {@link #matmulPacked} takes: one vector of them (16 with AVX-512). Shorter prompts, and those
     * whose last group would leave more than {@link #packs a third} of the lanes empty, go through {@link #matmul}.
     */
    static final int PACKED_MIN = Simd.AVAILABLE ? Simd.V.L : Integer.MAX_VALUE;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[0]);

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
        return PACKED && n >= PACKED_MIN && 3 * n >= 2 * groups(n) * Simd.V.L;
    }

    /** Groups of one vector of tokens that {@link #pack} makes of {@code n} tokens. */
    static int groups(int n) {
        return Math.ceilDiv(n, Simd.V.L);
    }

    /** Floats {@link #pack} writes for {@code n} tokens of {@code cols} columns. */
    static int packedLength(int n, int cols) {
        return groups(n) * Simd.V.L * cols;
    }

    /**
     * Columns {@code [k0, k1)} of the {@code n} activation rows {@code x} ({@code cols} wide), transposed into blocks
     * of up to 4 groups of {@code L} tokens (the blocks {@link #matmulPacked} multiplies): the block of {@code T} groups
     * from group {@code g} starts at {@code g*cols*L}, and holds token {@code (g+t)*L + l}'s column {@code k} at
     * {@code (k*T + t)*L + l}; lanes past token {@code n} are zero.
     */
    static void pack(float[] x, int n, int cols, float[] xt, int k0, int k1) {
        int l0 = Simd.V.L, groups = groups(n);
        for (int g = 0; g < groups; g += 4) {
            int tb = Math.min(4, groups - g), step = tb * l0;
            for (int t = 0; t < tb; t++)
                for (int l = 0; l < l0; l++) {
                    int token = (g + t) * l0 + l, o = g * cols * l0 + k0 * step + t * l0 + l;
                    if (token < n) {
                        for (int k = token * cols + k0, end = token * cols + k1; k < end; k++, o += step) xt[o] = x[k];
                    } else {
                        for (int k = k0; k < k1; k++, o += step) xt[o] = 0f;
                    }
                }
        }
    }

    /**
     * {@code out[i*m.rows + r] = W[r] · x_i} for tokens {@code i < n} and rows {@code [r0, r1)}, from activations
     * {@link #pack packed}: {@link #PACKED_ROWS} rows are decoded at a time and multiplied with each block of groups.
     */
    static void matmulPacked(CpuMatrix m, float[] xt, int n, float[] out, int r0, int r1) {
        int cols = m.cols, l0 = Simd.V.L, groups = groups(n);
        float[] w = scratch(PACKED_ROWS * cols);
        float[] lanes = LANES.get();
        if (lanes.length < l0) LANES.set(lanes = new float[l0]);
        for (int r = r0; r < r1; r += PACKED_ROWS) {
            int rows = Math.min(PACKED_ROWS, r1 - r);
            for (int j = 0; j < rows; j++) m.row(r + j, w, j * cols);
            if (rows < PACKED_ROWS) Arrays.fill(w, rows * cols, PACKED_ROWS * cols, 0f);
            for (int g = 0; g < groups; g += 4) {
                int tb = Math.min(4, groups - g), base = g * cols * l0;
                switch (tb) {
                    case 4 -> V.tile4(w, cols, xt, base, g, n, out, m.rows, r, rows, lanes);
                    case 3 -> V.tile3(w, cols, xt, base, g, n, out, m.rows, r, rows, lanes);
                    case 2 -> V.tile2(w, cols, xt, base, g, n, out, m.rows, r, rows, lanes);
                    default -> V.tile1(w, cols, xt, base, g, n, out, m.rows, r, rows, lanes);
                }
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


        /**
         * Weight rows {@code w[j*cols ..]}, {@code j < 5}, times the block of 4 token groups at {@code xt[base ..]}
         * (groups {@code g ..}): per column one activation vector per group and one broadcast weight per row, 20
         * multiply-adds into 20 accumulators; lane {@code l} of {@code a<j><t>} ends as token {@code (g+t)*L + l}'s
         * product with row {@code r + j}, stored for the first {@code rows} rows.
         */
        static void tile4(float[] w, int cols, float[] xt, int base, int g, int n, float[] out, int ldo, int r,
                int rows, float[] lanes) {
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00;
            int w1 = cols, w2 = 2 * cols, w3 = 3 * cols, w4 = 4 * cols;
            for (int k = 0, xi = base; k < cols; k++, xi += 4 * L) {
                FloatVector x0 = FloatVector.fromArray(F, xt, xi), x1 = FloatVector.fromArray(F, xt, xi + L);
                FloatVector x2 = FloatVector.fromArray(F, xt, xi + 2 * L), x3 = FloatVector.fromArray(F, xt, xi + 3 * L);
                FloatVector v0 = FloatVector.broadcast(F, w[k]);
                a00 = x0.fma(v0, a00); a01 = x1.fma(v0, a01); a02 = x2.fma(v0, a02); a03 = x3.fma(v0, a03);
                FloatVector v1 = FloatVector.broadcast(F, w[w1 + k]);
                a10 = x0.fma(v1, a10); a11 = x1.fma(v1, a11); a12 = x2.fma(v1, a12); a13 = x3.fma(v1, a13);
                FloatVector v2 = FloatVector.broadcast(F, w[w2 + k]);
                a20 = x0.fma(v2, a20); a21 = x1.fma(v2, a21); a22 = x2.fma(v2, a22); a23 = x3.fma(v2, a23);
                FloatVector v3 = FloatVector.broadcast(F, w[w3 + k]);
                a30 = x0.fma(v3, a30); a31 = x1.fma(v3, a31); a32 = x2.fma(v3, a32); a33 = x3.fma(v3, a33);
                FloatVector v4 = FloatVector.broadcast(F, w[w4 + k]);
                a40 = x0.fma(v4, a40); a41 = x1.fma(v4, a41); a42 = x2.fma(v4, a42); a43 = x3.fma(v4, a43);
            }
            store(a00, g, n, out, ldo, r, lanes);
            store(a01, g + 1, n, out, ldo, r, lanes);
            store(a02, g + 2, n, out, ldo, r, lanes);
            store(a03, g + 3, n, out, ldo, r, lanes);
            if (rows > 1) {
                store(a10, g, n, out, ldo, r + 1, lanes);
                store(a11, g + 1, n, out, ldo, r + 1, lanes);
                store(a12, g + 2, n, out, ldo, r + 1, lanes);
                store(a13, g + 3, n, out, ldo, r + 1, lanes);
            }
            if (rows > 2) {
                store(a20, g, n, out, ldo, r + 2, lanes);
                store(a21, g + 1, n, out, ldo, r + 2, lanes);
                store(a22, g + 2, n, out, ldo, r + 2, lanes);
                store(a23, g + 3, n, out, ldo, r + 2, lanes);
            }
            if (rows > 3) {
                store(a30, g, n, out, ldo, r + 3, lanes);
                store(a31, g + 1, n, out, ldo, r + 3, lanes);
                store(a32, g + 2, n, out, ldo, r + 3, lanes);
                store(a33, g + 3, n, out, ldo, r + 3, lanes);
            }
            if (rows > 4) {
                store(a40, g, n, out, ldo, r + 4, lanes);
                store(a41, g + 1, n, out, ldo, r + 4, lanes);
                store(a42, g + 2, n, out, ldo, r + 4, lanes);
                store(a43, g + 3, n, out, ldo, r + 4, lanes);
            }
        }

        /** {@link #tile4} for a block of 3 groups. */
        static void tile3(float[] w, int cols, float[] xt, int base, int g, int n, float[] out, int ldo, int r,
                int rows, float[] lanes) {
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00;
            FloatVector a40 = a00, a41 = a00, a42 = a00;
            int w1 = cols, w2 = 2 * cols, w3 = 3 * cols, w4 = 4 * cols;
            for (int k = 0, xi = base; k < cols; k++, xi += 3 * L) {
                FloatVector x0 = FloatVector.fromArray(F, xt, xi), x1 = FloatVector.fromArray(F, xt, xi + L);
                FloatVector x2 = FloatVector.fromArray(F, xt, xi + 2 * L);
                FloatVector v0 = FloatVector.broadcast(F, w[k]);
                a00 = x0.fma(v0, a00); a01 = x1.fma(v0, a01); a02 = x2.fma(v0, a02);
                FloatVector v1 = FloatVector.broadcast(F, w[w1 + k]);
                a10 = x0.fma(v1, a10); a11 = x1.fma(v1, a11); a12 = x2.fma(v1, a12);
                FloatVector v2 = FloatVector.broadcast(F, w[w2 + k]);
                a20 = x0.fma(v2, a20); a21 = x1.fma(v2, a21); a22 = x2.fma(v2, a22);
                FloatVector v3 = FloatVector.broadcast(F, w[w3 + k]);
                a30 = x0.fma(v3, a30); a31 = x1.fma(v3, a31); a32 = x2.fma(v3, a32);
                FloatVector v4 = FloatVector.broadcast(F, w[w4 + k]);
                a40 = x0.fma(v4, a40); a41 = x1.fma(v4, a41); a42 = x2.fma(v4, a42);
            }
            store(a00, g, n, out, ldo, r, lanes);
            store(a01, g + 1, n, out, ldo, r, lanes);
            store(a02, g + 2, n, out, ldo, r, lanes);
            if (rows > 1) {
                store(a10, g, n, out, ldo, r + 1, lanes);
                store(a11, g + 1, n, out, ldo, r + 1, lanes);
                store(a12, g + 2, n, out, ldo, r + 1, lanes);
            }
            if (rows > 2) {
                store(a20, g, n, out, ldo, r + 2, lanes);
                store(a21, g + 1, n, out, ldo, r + 2, lanes);
                store(a22, g + 2, n, out, ldo, r + 2, lanes);
            }
            if (rows > 3) {
                store(a30, g, n, out, ldo, r + 3, lanes);
                store(a31, g + 1, n, out, ldo, r + 3, lanes);
                store(a32, g + 2, n, out, ldo, r + 3, lanes);
            }
            if (rows > 4) {
                store(a40, g, n, out, ldo, r + 4, lanes);
                store(a41, g + 1, n, out, ldo, r + 4, lanes);
                store(a42, g + 2, n, out, ldo, r + 4, lanes);
            }
        }

        /** {@link #tile4} for a block of 2 groups. */
        static void tile2(float[] w, int cols, float[] xt, int base, int g, int n, float[] out, int ldo, int r,
                int rows, float[] lanes) {
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a10 = a00, a11 = a00;
            FloatVector a20 = a00, a21 = a00;
            FloatVector a30 = a00, a31 = a00;
            FloatVector a40 = a00, a41 = a00;
            int w1 = cols, w2 = 2 * cols, w3 = 3 * cols, w4 = 4 * cols;
            for (int k = 0, xi = base; k < cols; k++, xi += 2 * L) {
                FloatVector x0 = FloatVector.fromArray(F, xt, xi), x1 = FloatVector.fromArray(F, xt, xi + L);
                FloatVector v0 = FloatVector.broadcast(F, w[k]);
                a00 = x0.fma(v0, a00); a01 = x1.fma(v0, a01);
                FloatVector v1 = FloatVector.broadcast(F, w[w1 + k]);
                a10 = x0.fma(v1, a10); a11 = x1.fma(v1, a11);
                FloatVector v2 = FloatVector.broadcast(F, w[w2 + k]);
                a20 = x0.fma(v2, a20); a21 = x1.fma(v2, a21);
                FloatVector v3 = FloatVector.broadcast(F, w[w3 + k]);
                a30 = x0.fma(v3, a30); a31 = x1.fma(v3, a31);
                FloatVector v4 = FloatVector.broadcast(F, w[w4 + k]);
                a40 = x0.fma(v4, a40); a41 = x1.fma(v4, a41);
            }
            store(a00, g, n, out, ldo, r, lanes);
            store(a01, g + 1, n, out, ldo, r, lanes);
            if (rows > 1) {
                store(a10, g, n, out, ldo, r + 1, lanes);
                store(a11, g + 1, n, out, ldo, r + 1, lanes);
            }
            if (rows > 2) {
                store(a20, g, n, out, ldo, r + 2, lanes);
                store(a21, g + 1, n, out, ldo, r + 2, lanes);
            }
            if (rows > 3) {
                store(a30, g, n, out, ldo, r + 3, lanes);
                store(a31, g + 1, n, out, ldo, r + 3, lanes);
            }
            if (rows > 4) {
                store(a40, g, n, out, ldo, r + 4, lanes);
                store(a41, g + 1, n, out, ldo, r + 4, lanes);
            }
        }

        /**
         * {@link #tile4} for one group: even and odd columns in separate accumulators (10 chains of multiply-adds in
         * flight instead of 5, which would wait on the FMA latency), added at the end.
         */
        static void tile1(float[] w, int cols, float[] xt, int base, int g, int n, float[] out, int ldo, int r,
                int rows, float[] lanes) {
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a10 = a00;
            FloatVector a20 = a00;
            FloatVector a30 = a00;
            FloatVector a40 = a00;
            FloatVector b00 = a00;
            FloatVector b10 = a00;
            FloatVector b20 = a00;
            FloatVector b30 = a00;
            FloatVector b40 = a00;
            int w1 = cols, w2 = 2 * cols, w3 = 3 * cols, w4 = 4 * cols;
            int k = 0, xi = base;
            for (; k + 1 < cols; k += 2, xi += 2 * L) {
                FloatVector x0 = FloatVector.fromArray(F, xt, xi), y0 = FloatVector.fromArray(F, xt, xi + L);
                a00 = x0.fma(FloatVector.broadcast(F, w[k]), a00);
                b00 = y0.fma(FloatVector.broadcast(F, w[k + 1]), b00);
                a10 = x0.fma(FloatVector.broadcast(F, w[w1 + k]), a10);
                b10 = y0.fma(FloatVector.broadcast(F, w[w1 + k + 1]), b10);
                a20 = x0.fma(FloatVector.broadcast(F, w[w2 + k]), a20);
                b20 = y0.fma(FloatVector.broadcast(F, w[w2 + k + 1]), b20);
                a30 = x0.fma(FloatVector.broadcast(F, w[w3 + k]), a30);
                b30 = y0.fma(FloatVector.broadcast(F, w[w3 + k + 1]), b30);
                a40 = x0.fma(FloatVector.broadcast(F, w[w4 + k]), a40);
                b40 = y0.fma(FloatVector.broadcast(F, w[w4 + k + 1]), b40);
            }
            if (k < cols) {
                FloatVector x0 = FloatVector.fromArray(F, xt, xi);
                a00 = x0.fma(FloatVector.broadcast(F, w[k]), a00);
                a10 = x0.fma(FloatVector.broadcast(F, w[w1 + k]), a10);
                a20 = x0.fma(FloatVector.broadcast(F, w[w2 + k]), a20);
                a30 = x0.fma(FloatVector.broadcast(F, w[w3 + k]), a30);
                a40 = x0.fma(FloatVector.broadcast(F, w[w4 + k]), a40);
            }
            a00 = a00.add(b00); a10 = a10.add(b10); a20 = a20.add(b20); a30 = a30.add(b30); a40 = a40.add(b40);
            store(a00, g, n, out, ldo, r, lanes);
            if (rows > 1) store(a10, g, n, out, ldo, r + 1, lanes);
            if (rows > 2) store(a20, g, n, out, ldo, r + 2, lanes);
            if (rows > 3) store(a30, g, n, out, ldo, r + 3, lanes);
            if (rows > 4) store(a40, g, n, out, ldo, r + 4, lanes);
        }

        /** Lane {@code l} of {@code acc} is token {@code g*L + l}'s product with row {@code r}; stored below token {@code n}. */
        private static void store(FloatVector acc, int g, int n, float[] out, int ldo, int r, float[] lanes) {
            acc.intoArray(lanes, 0);
            int t0 = g * L, m = Math.min(L, n - t0);
            for (int l = 0; l < m; l++) out[(t0 + l) * ldo + r] = lanes[l];
        }


        /** The columns past the last whole vector (none when {@code cols} is a multiple of the vector length). */
        private static float tail(float[] w, int wOff, float[] x, int xOff, int cols, int vec) {
            float s = 0;
            for (int k = vec; k < cols; k++) s += w[wOff + k] * x[xOff + k];
            return s;
        }
    }
}
