package dev.alma.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile that the CPU's matrix products over many rows share: the prompt products of the inference
 * backend ({@link Gemm#matmulPacked}) and the trainer's forward and backward products ({@code dev.alma.train.Gemm}).
 * Not an API for applications; public only so that the trainer's package can call it. It needs the Vector API
 * ({@code jdk.incubator.vector}), which the trainer always uses and the backend checks for first.
 *
 * <p>A tile multiplies 5 rows of a matrix {@code b}, one broadcast element per row and step, by up to 4 vectors of a
 * matrix {@code a} per step, into 20 vector accumulators (of 32 registers with AVX-512): per step {@code k}, 4 vector
 * loads and 5 broadcasts feed 20 fused multiply-adds, and no accumulator needs summing across its lanes, since every
 * lane is its own output element. Each element is a sequential chain of multiply-adds over {@code k} in one lane, so
 * a result does not depend on the tiling, the thread count or whether the JIT has compiled the code (the trainer
 * relies on that for reproducible runs). Its strides make one kernel serve three layouts:
 * <ul>
 *   <li>{@code y = x·Wᵀ} (prompts, the trainer's forward pass): {@code a} = the activations transposed into
 *       column-major groups of {@code L} tokens, {@code b} = weight rows; {@code c} gets the lanes transposed back.</li>
 *   <li>{@code dx += dy·W}: {@code a} = weight rows at column {@code i}, {@code b} = rows of {@code dy}.</li>
 *   <li>{@code dW += dyᵀ·x}: {@code a} = activation rows at column {@code i}, {@code b} = columns of {@code dy}.</li>
 * </ul>
 * One core of this project's machine (Zen 5, 16-float vectors) ran the 4-vector tile at 245 GFLOP/s over 2048
 * in-cache steps against a 249 GFLOP/s FMA peak ({@code PeakBench}); 6 rows (24 accumulators) made C2 spill and ran
 * 176-184.
 */
public final class Tiles {
    /** Rows of {@code b} per tile. */
    public static final int ROWS = 5;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Floats per vector. */
    public static final int L = F.length();

    private Tiles() {
    }

    /** Floats {@link #pack} writes for {@code n} tokens of {@code cols} columns: whole groups of {@link #L}. */
    public static int packedLength(int n, int cols) {
        return Math.ceilDiv(n, L) * L * cols;
    }

    /**
     * Columns {@code [k0, k1)} of the {@code n} rows {@code x} ({@code cols} wide), transposed for the tiles' {@code a}:
     * groups of {@link #L} rows (tokens), in blocks of up to 4 groups; the block of {@code T} groups from group
     * {@code g} starts at {@code g*cols*L} and holds row {@code (g+t)*L + l}'s column {@code k} at
     * {@code (k*T + t)*L + l}. Lanes past row {@code n} are zero.
     */
    public static void pack(float[] x, int n, int cols, float[] xt, int k0, int k1) {
        int groups = Math.ceilDiv(n, L);
        for (int g = 0; g < groups; g += 4) {
            int tb = Math.min(4, groups - g), step = tb * L;
            for (int t = 0; t < tb; t++)
                for (int l = 0; l < L; l++) {
                    int row = (g + t) * L + l, o = g * cols * L + k0 * step + t * L + l;
                    if (row < n) {
                        for (int k = row * cols + k0, end = row * cols + k1; k < end; k++, o += step) xt[o] = x[k];
                    } else {
                        for (int k = k0; k < k1; k++, o += step) xt[o] = 0f;
                    }
                }
        }
    }

    /**
     * Rows {@code [k0, k1)} of the matrix {@code m} ({@code stride} floats per row), columns {@code [i0, i0 + width)},
     * copied to {@code panel} row after row: the tiles' {@code a} for products whose vectors run along the rows of
     * {@code m} ({@code width} = {@code T·L}).
     */
    public static void panel(float[] m, int stride, int i0, int width, int k0, int k1, float[] panel) {
        for (int k = k0, o = 0; k < k1; k++, o += width) System.arraycopy(m, k * stride + i0, panel, o, width);
    }

    /**
     * The tile of 5 rows of {@code b} by 4 vectors of {@code a}: for {@code k < kn},
     * {@code acc[j][t] += a[ai + (4k + t)*L ..] * b[bi + j*br + k]} (one vector per {@code t}, one broadcast per
     * {@code j}), 20 accumulators; then {@link #finish} for each of the first {@code rows} rows. Rows past {@code rows}
     * read row {@code rows - 1} again (their products are dropped), so {@code b} needs only {@code rows} valid rows.
     */
    public static void tile4(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        for (int k = 0; k < kn; k++) {
            int ak = ai + k * 4 * L;
            FloatVector x0 = FloatVector.fromArray(F, a, ak), x1 = FloatVector.fromArray(F, a, ak + L);
            FloatVector x2 = FloatVector.fromArray(F, a, ak + 2 * L), x3 = FloatVector.fromArray(F, a, ak + 3 * L);
            FloatVector v0 = FloatVector.broadcast(F, b[bi + k]);
            a00 = x0.fma(v0, a00); a01 = x1.fma(v0, a01); a02 = x2.fma(v0, a02); a03 = x3.fma(v0, a03);
            FloatVector v1 = FloatVector.broadcast(F, b[o1 + k]);
            a10 = x0.fma(v1, a10); a11 = x1.fma(v1, a11); a12 = x2.fma(v1, a12); a13 = x3.fma(v1, a13);
            FloatVector v2 = FloatVector.broadcast(F, b[o2 + k]);
            a20 = x0.fma(v2, a20); a21 = x1.fma(v2, a21); a22 = x2.fma(v2, a22); a23 = x3.fma(v2, a23);
            FloatVector v3 = FloatVector.broadcast(F, b[o3 + k]);
            a30 = x0.fma(v3, a30); a31 = x1.fma(v3, a31); a32 = x2.fma(v3, a32); a33 = x3.fma(v3, a33);
            FloatVector v4 = FloatVector.broadcast(F, b[o4 + k]);
            a40 = x0.fma(v4, a40); a41 = x1.fma(v4, a41); a42 = x2.fma(v4, a42); a43 = x3.fma(v4, a43);
        }
        float[] acc = new float[ROWS * 4 * L];
        a00.intoArray(acc, 0); a01.intoArray(acc, L); a02.intoArray(acc, 2 * L); a03.intoArray(acc, 3 * L);
        a10.intoArray(acc, 4 * L); a11.intoArray(acc, 5 * L); a12.intoArray(acc, 6 * L); a13.intoArray(acc, 7 * L);
        a20.intoArray(acc, 8 * L); a21.intoArray(acc, 9 * L); a22.intoArray(acc, 10 * L); a23.intoArray(acc, 11 * L);
        a30.intoArray(acc, 12 * L); a31.intoArray(acc, 13 * L); a32.intoArray(acc, 14 * L); a33.intoArray(acc, 15 * L);
        a40.intoArray(acc, 16 * L); a41.intoArray(acc, 17 * L); a42.intoArray(acc, 18 * L); a43.intoArray(acc, 19 * L);
        flush(acc, 4, rows, c, ci, cj, cl, limit, add);
    }

    /** {@link #tile4} for 3 vectors. */
    public static void tile3(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        for (int k = 0; k < kn; k++) {
            int ak = ai + k * 3 * L;
            FloatVector x0 = FloatVector.fromArray(F, a, ak), x1 = FloatVector.fromArray(F, a, ak + L);
            FloatVector x2 = FloatVector.fromArray(F, a, ak + 2 * L);
            FloatVector v0 = FloatVector.broadcast(F, b[bi + k]);
            a00 = x0.fma(v0, a00); a01 = x1.fma(v0, a01); a02 = x2.fma(v0, a02);
            FloatVector v1 = FloatVector.broadcast(F, b[o1 + k]);
            a10 = x0.fma(v1, a10); a11 = x1.fma(v1, a11); a12 = x2.fma(v1, a12);
            FloatVector v2 = FloatVector.broadcast(F, b[o2 + k]);
            a20 = x0.fma(v2, a20); a21 = x1.fma(v2, a21); a22 = x2.fma(v2, a22);
            FloatVector v3 = FloatVector.broadcast(F, b[o3 + k]);
            a30 = x0.fma(v3, a30); a31 = x1.fma(v3, a31); a32 = x2.fma(v3, a32);
            FloatVector v4 = FloatVector.broadcast(F, b[o4 + k]);
            a40 = x0.fma(v4, a40); a41 = x1.fma(v4, a41); a42 = x2.fma(v4, a42);
        }
        float[] acc = new float[ROWS * 3 * L];
        a00.intoArray(acc, 0); a01.intoArray(acc, L); a02.intoArray(acc, 2 * L); a10.intoArray(acc, 3 * L);
        a11.intoArray(acc, 4 * L); a12.intoArray(acc, 5 * L); a20.intoArray(acc, 6 * L); a21.intoArray(acc, 7 * L);
        a22.intoArray(acc, 8 * L); a30.intoArray(acc, 9 * L); a31.intoArray(acc, 10 * L); a32.intoArray(acc, 11 * L);
        a40.intoArray(acc, 12 * L); a41.intoArray(acc, 13 * L); a42.intoArray(acc, 14 * L);
        flush(acc, 3, rows, c, ci, cj, cl, limit, add);
    }

    /** {@link #tile4} for 2 vectors. */
    public static void tile2(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00;
        FloatVector a40 = a00, a41 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        for (int k = 0; k < kn; k++) {
            int ak = ai + k * 2 * L;
            FloatVector x0 = FloatVector.fromArray(F, a, ak), x1 = FloatVector.fromArray(F, a, ak + L);
            FloatVector v0 = FloatVector.broadcast(F, b[bi + k]);
            a00 = x0.fma(v0, a00); a01 = x1.fma(v0, a01);
            FloatVector v1 = FloatVector.broadcast(F, b[o1 + k]);
            a10 = x0.fma(v1, a10); a11 = x1.fma(v1, a11);
            FloatVector v2 = FloatVector.broadcast(F, b[o2 + k]);
            a20 = x0.fma(v2, a20); a21 = x1.fma(v2, a21);
            FloatVector v3 = FloatVector.broadcast(F, b[o3 + k]);
            a30 = x0.fma(v3, a30); a31 = x1.fma(v3, a31);
            FloatVector v4 = FloatVector.broadcast(F, b[o4 + k]);
            a40 = x0.fma(v4, a40); a41 = x1.fma(v4, a41);
        }
        float[] acc = new float[ROWS * 2 * L];
        a00.intoArray(acc, 0); a01.intoArray(acc, L); a10.intoArray(acc, 2 * L); a11.intoArray(acc, 3 * L);
        a20.intoArray(acc, 4 * L); a21.intoArray(acc, 5 * L); a30.intoArray(acc, 6 * L); a31.intoArray(acc, 7 * L);
        a40.intoArray(acc, 8 * L); a41.intoArray(acc, 9 * L);
        flush(acc, 2, rows, c, ci, cj, cl, limit, add);
    }

    /** {@link #tile4} for one vector: even and odd {@code k} in separate accumulators (10 chains in flight, not 5). */
    public static void tile1(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a10 = a00, a20 = a00, a30 = a00, a40 = a00;
        FloatVector b00 = a00, b10 = a00, b20 = a00, b30 = a00, b40 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        int k = 0;
        for (; k + 1 < kn; k += 2) {
            int ak = ai + k * L;
            FloatVector x = FloatVector.fromArray(F, a, ak), y = FloatVector.fromArray(F, a, ak + L);
            a00 = x.fma(FloatVector.broadcast(F, b[bi + k]), a00);
            b00 = y.fma(FloatVector.broadcast(F, b[bi + k + 1]), b00);
            a10 = x.fma(FloatVector.broadcast(F, b[o1 + k]), a10);
            b10 = y.fma(FloatVector.broadcast(F, b[o1 + k + 1]), b10);
            a20 = x.fma(FloatVector.broadcast(F, b[o2 + k]), a20);
            b20 = y.fma(FloatVector.broadcast(F, b[o2 + k + 1]), b20);
            a30 = x.fma(FloatVector.broadcast(F, b[o3 + k]), a30);
            b30 = y.fma(FloatVector.broadcast(F, b[o3 + k + 1]), b30);
            a40 = x.fma(FloatVector.broadcast(F, b[o4 + k]), a40);
            b40 = y.fma(FloatVector.broadcast(F, b[o4 + k + 1]), b40);
        }
        if (k < kn) {
            int ak = ai + k * L;
            FloatVector x = FloatVector.fromArray(F, a, ak);
            a00 = x.fma(FloatVector.broadcast(F, b[bi + k]), a00);
            a10 = x.fma(FloatVector.broadcast(F, b[o1 + k]), a10);
            a20 = x.fma(FloatVector.broadcast(F, b[o2 + k]), a20);
            a30 = x.fma(FloatVector.broadcast(F, b[o3 + k]), a30);
            a40 = x.fma(FloatVector.broadcast(F, b[o4 + k]), a40);
        }
        a00 = a00.add(b00); a10 = a10.add(b10); a20 = a20.add(b20); a30 = a30.add(b30); a40 = a40.add(b40);
        float[] acc = new float[ROWS * 1 * L];
        a00.intoArray(acc, 0); a10.intoArray(acc, L); a20.intoArray(acc, 2 * L); a30.intoArray(acc, 3 * L);
        a40.intoArray(acc, 4 * L);
        flush(acc, 1, rows, c, ci, cj, cl, limit, add);
    }


    /**
     * Hands a tile's accumulators to {@code c}: {@code acc} holds vector {@code t} of row {@code j} at
     * {@code (j*tb + t)*L}. With {@code add}, {@code c[ci + j*cj + t*L ..+L] += } that vector (the vectors lie along
     * {@code c}'s rows); otherwise its lane {@code l} goes to {@code c[ci + j*cj + (t*L + l)*cl]} for the first
     * {@code limit} lanes of the tile (a transposed store). The tiles store their accumulators to {@code acc} rather
     * than pass them here: a vector passed to a method that C2 does not inline is boxed, and C2 stops inlining into
     * the large tile methods.
     */
    private static void flush(float[] acc, int tb, int rows, float[] c, int ci, int cj, int cl, int limit, boolean add) {
        for (int j = 0; j < rows; j++)
            for (int t = 0; t < tb; t++) {
                int a = (j * tb + t) * L, o = ci + j * cj + t * L * cl;
                if (add) {
                    FloatVector.fromArray(F, acc, a).add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
                } else {
                    for (int l = 0, m = Math.min(L, limit - t * L); l < m; l++) c[o + l * cl] = acc[a + l];
                }
            }
    }
}
