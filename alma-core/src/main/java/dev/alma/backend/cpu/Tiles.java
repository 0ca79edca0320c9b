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
 * relies on that for reproducible runs). {@code a} is always a contiguous block (4 vectors per step), {@code b} rows
 * of stride {@code br}, so that one kernel serves three layouts:
 * <ul>
 *   <li>{@code y = x·Wᵀ} (prompts, the trainer's forward pass): {@code a} = the activations transposed by
 *       {@link #pack} into column-major groups of {@code L} tokens, {@code b} = weight rows; {@code c} gets the lanes
 *       transposed back.</li>
 *   <li>{@code dx += dy·W}: {@code a} = a {@link #panel} of W's columns, {@code b} = rows of {@code dy}.</li>
 *   <li>{@code dW += dyᵀ·x}: {@code a} = a {@link #panel} of x's columns, {@code b} = rows of {@code dy}
 *       transposed.</li>
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

    /** Floats of the scratch array {@code acc} the tiles take (one vector's lanes on their way out). */
    public static final int ACC = L;

    private Tiles() {
    }

    /** Groups of {@link #L} rows (tokens) that {@link #pack} makes of {@code n} rows. */
    public static int groups(int n) {
        return Math.ceilDiv(n, L);
    }

    /** Floats {@link #pack} writes for {@code n} tokens of {@code cols} columns: whole groups of {@link #L}. */
    public static int packedLength(int n, int cols) {
        return groups(n) * L * cols;
    }

    /**
     * Columns {@code [k0, k1)} of the {@code n} rows {@code x} ({@code cols} wide), transposed for the tiles' {@code a}:
     * groups of {@link #L} rows (tokens), in blocks of up to 4 groups; the block of {@code T} groups from group
     * {@code g} starts at {@code g*cols*L} and holds row {@code (g+t)*L + l}'s column {@code k} at
     * {@code (k*T + t)*L + l}. Lanes past row {@code n} are zero.
     */
    public static void pack(float[] x, int n, int cols, float[] xt, int k0, int k1) {
        int groups = groups(n);
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

    /** {@link #tile4}, {@link #tile3}, {@link #tile2} or {@link #tile1}: the tile for {@code tb} vectors of {@code a}. */
    public static void tile(int tb, float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add, float[] acc) {
        switch (tb) {
            case 4 -> tile4(a, ai, b, bi, br, kn, rows, c, ci, cj, cl, limit, add, acc);
            case 3 -> tile3(a, ai, b, bi, br, kn, rows, c, ci, cj, cl, limit, add, acc);
            case 2 -> tile2(a, ai, b, bi, br, kn, rows, c, ci, cj, cl, limit, add, acc);
            default -> tile1(a, ai, b, bi, br, kn, rows, c, ci, cj, cl, limit, add, acc);
        }
    }

    /**
     * The tile of 5 rows of {@code b} by 4 vectors of {@code a}: for {@code k < kn},
     * {@code s[j][t] += a[ai + (4k + t)*L ..] * b[bi + j*br + k]} (one vector per {@code t}, one broadcast per
     * {@code j}), 20 accumulators. Then, for the first {@code rows} rows: with {@code add},
     * {@code c[ci + j*cj + t*L*cl ..+L] += s[j][t]} (vectors along {@code c}'s rows, {@code cl = 1}); otherwise lane
     * {@code l} of {@code s[j][t]} goes to {@code c[ci + j*cj + (t*L + l)*cl]} for the first {@code limit} lanes of
     * the tile ({@link #scatter}, through the scratch {@code acc} of {@link #ACC} floats). Rows past {@code rows} read
     * row {@code rows - 1} again (their products are dropped), so {@code b} needs only {@code rows} valid rows.
     */
    public static void tile4(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add, float[] acc) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        for (int k = 0, ak = ai; k < kn; k++, ak += 4 * L) {
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
        int o00 = ci;
        if (add) a00.add(FloatVector.fromArray(F, c, o00)).intoArray(c, o00);
        else {
            a00.intoArray(acc, 0);
            scatter(acc, c, o00, cl, limit);
        }
        int o01 = ci + L * cl;
        if (add) a01.add(FloatVector.fromArray(F, c, o01)).intoArray(c, o01);
        else {
            a01.intoArray(acc, 0);
            scatter(acc, c, o01, cl, limit - L);
        }
        int o02 = ci + 2 * L * cl;
        if (add) a02.add(FloatVector.fromArray(F, c, o02)).intoArray(c, o02);
        else {
            a02.intoArray(acc, 0);
            scatter(acc, c, o02, cl, limit - 2 * L);
        }
        int o03 = ci + 3 * L * cl;
        if (add) a03.add(FloatVector.fromArray(F, c, o03)).intoArray(c, o03);
        else {
            a03.intoArray(acc, 0);
            scatter(acc, c, o03, cl, limit - 3 * L);
        }
        if (rows > 1) {
            int o10 = ci + cj;
            if (add) a10.add(FloatVector.fromArray(F, c, o10)).intoArray(c, o10);
            else {
                a10.intoArray(acc, 0);
                scatter(acc, c, o10, cl, limit);
            }
            int o11 = ci + cj + L * cl;
            if (add) a11.add(FloatVector.fromArray(F, c, o11)).intoArray(c, o11);
            else {
                a11.intoArray(acc, 0);
                scatter(acc, c, o11, cl, limit - L);
            }
            int o12 = ci + cj + 2 * L * cl;
            if (add) a12.add(FloatVector.fromArray(F, c, o12)).intoArray(c, o12);
            else {
                a12.intoArray(acc, 0);
                scatter(acc, c, o12, cl, limit - 2 * L);
            }
            int o13 = ci + cj + 3 * L * cl;
            if (add) a13.add(FloatVector.fromArray(F, c, o13)).intoArray(c, o13);
            else {
                a13.intoArray(acc, 0);
                scatter(acc, c, o13, cl, limit - 3 * L);
            }
        }
        if (rows > 2) {
            int o20 = ci + 2 * cj;
            if (add) a20.add(FloatVector.fromArray(F, c, o20)).intoArray(c, o20);
            else {
                a20.intoArray(acc, 0);
                scatter(acc, c, o20, cl, limit);
            }
            int o21 = ci + 2 * cj + L * cl;
            if (add) a21.add(FloatVector.fromArray(F, c, o21)).intoArray(c, o21);
            else {
                a21.intoArray(acc, 0);
                scatter(acc, c, o21, cl, limit - L);
            }
            int o22 = ci + 2 * cj + 2 * L * cl;
            if (add) a22.add(FloatVector.fromArray(F, c, o22)).intoArray(c, o22);
            else {
                a22.intoArray(acc, 0);
                scatter(acc, c, o22, cl, limit - 2 * L);
            }
            int o23 = ci + 2 * cj + 3 * L * cl;
            if (add) a23.add(FloatVector.fromArray(F, c, o23)).intoArray(c, o23);
            else {
                a23.intoArray(acc, 0);
                scatter(acc, c, o23, cl, limit - 3 * L);
            }
        }
        if (rows > 3) {
            int o30 = ci + 3 * cj;
            if (add) a30.add(FloatVector.fromArray(F, c, o30)).intoArray(c, o30);
            else {
                a30.intoArray(acc, 0);
                scatter(acc, c, o30, cl, limit);
            }
            int o31 = ci + 3 * cj + L * cl;
            if (add) a31.add(FloatVector.fromArray(F, c, o31)).intoArray(c, o31);
            else {
                a31.intoArray(acc, 0);
                scatter(acc, c, o31, cl, limit - L);
            }
            int o32 = ci + 3 * cj + 2 * L * cl;
            if (add) a32.add(FloatVector.fromArray(F, c, o32)).intoArray(c, o32);
            else {
                a32.intoArray(acc, 0);
                scatter(acc, c, o32, cl, limit - 2 * L);
            }
            int o33 = ci + 3 * cj + 3 * L * cl;
            if (add) a33.add(FloatVector.fromArray(F, c, o33)).intoArray(c, o33);
            else {
                a33.intoArray(acc, 0);
                scatter(acc, c, o33, cl, limit - 3 * L);
            }
        }
        if (rows > 4) {
            int o40 = ci + 4 * cj;
            if (add) a40.add(FloatVector.fromArray(F, c, o40)).intoArray(c, o40);
            else {
                a40.intoArray(acc, 0);
                scatter(acc, c, o40, cl, limit);
            }
            int o41 = ci + 4 * cj + L * cl;
            if (add) a41.add(FloatVector.fromArray(F, c, o41)).intoArray(c, o41);
            else {
                a41.intoArray(acc, 0);
                scatter(acc, c, o41, cl, limit - L);
            }
            int o42 = ci + 4 * cj + 2 * L * cl;
            if (add) a42.add(FloatVector.fromArray(F, c, o42)).intoArray(c, o42);
            else {
                a42.intoArray(acc, 0);
                scatter(acc, c, o42, cl, limit - 2 * L);
            }
            int o43 = ci + 4 * cj + 3 * L * cl;
            if (add) a43.add(FloatVector.fromArray(F, c, o43)).intoArray(c, o43);
            else {
                a43.intoArray(acc, 0);
                scatter(acc, c, o43, cl, limit - 3 * L);
            }
        }
    }

    /** {@link #tile4} for 3 vectors. */
    public static void tile3(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add, float[] acc) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        for (int k = 0, ak = ai; k < kn; k++, ak += 3 * L) {
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
        int o00 = ci;
        if (add) a00.add(FloatVector.fromArray(F, c, o00)).intoArray(c, o00);
        else {
            a00.intoArray(acc, 0);
            scatter(acc, c, o00, cl, limit);
        }
        int o01 = ci + L * cl;
        if (add) a01.add(FloatVector.fromArray(F, c, o01)).intoArray(c, o01);
        else {
            a01.intoArray(acc, 0);
            scatter(acc, c, o01, cl, limit - L);
        }
        int o02 = ci + 2 * L * cl;
        if (add) a02.add(FloatVector.fromArray(F, c, o02)).intoArray(c, o02);
        else {
            a02.intoArray(acc, 0);
            scatter(acc, c, o02, cl, limit - 2 * L);
        }
        if (rows > 1) {
            int o10 = ci + cj;
            if (add) a10.add(FloatVector.fromArray(F, c, o10)).intoArray(c, o10);
            else {
                a10.intoArray(acc, 0);
                scatter(acc, c, o10, cl, limit);
            }
            int o11 = ci + cj + L * cl;
            if (add) a11.add(FloatVector.fromArray(F, c, o11)).intoArray(c, o11);
            else {
                a11.intoArray(acc, 0);
                scatter(acc, c, o11, cl, limit - L);
            }
            int o12 = ci + cj + 2 * L * cl;
            if (add) a12.add(FloatVector.fromArray(F, c, o12)).intoArray(c, o12);
            else {
                a12.intoArray(acc, 0);
                scatter(acc, c, o12, cl, limit - 2 * L);
            }
        }
        if (rows > 2) {
            int o20 = ci + 2 * cj;
            if (add) a20.add(FloatVector.fromArray(F, c, o20)).intoArray(c, o20);
            else {
                a20.intoArray(acc, 0);
                scatter(acc, c, o20, cl, limit);
            }
            int o21 = ci + 2 * cj + L * cl;
            if (add) a21.add(FloatVector.fromArray(F, c, o21)).intoArray(c, o21);
            else {
                a21.intoArray(acc, 0);
                scatter(acc, c, o21, cl, limit - L);
            }
            int o22 = ci + 2 * cj + 2 * L * cl;
            if (add) a22.add(FloatVector.fromArray(F, c, o22)).intoArray(c, o22);
            else {
                a22.intoArray(acc, 0);
                scatter(acc, c, o22, cl, limit - 2 * L);
            }
        }
        if (rows > 3) {
            int o30 = ci + 3 * cj;
            if (add) a30.add(FloatVector.fromArray(F, c, o30)).intoArray(c, o30);
            else {
                a30.intoArray(acc, 0);
                scatter(acc, c, o30, cl, limit);
            }
            int o31 = ci + 3 * cj + L * cl;
            if (add) a31.add(FloatVector.fromArray(F, c, o31)).intoArray(c, o31);
            else {
                a31.intoArray(acc, 0);
                scatter(acc, c, o31, cl, limit - L);
            }
            int o32 = ci + 3 * cj + 2 * L * cl;
            if (add) a32.add(FloatVector.fromArray(F, c, o32)).intoArray(c, o32);
            else {
                a32.intoArray(acc, 0);
                scatter(acc, c, o32, cl, limit - 2 * L);
            }
        }
        if (rows > 4) {
            int o40 = ci + 4 * cj;
            if (add) a40.add(FloatVector.fromArray(F, c, o40)).intoArray(c, o40);
            else {
                a40.intoArray(acc, 0);
                scatter(acc, c, o40, cl, limit);
            }
            int o41 = ci + 4 * cj + L * cl;
            if (add) a41.add(FloatVector.fromArray(F, c, o41)).intoArray(c, o41);
            else {
                a41.intoArray(acc, 0);
                scatter(acc, c, o41, cl, limit - L);
            }
            int o42 = ci + 4 * cj + 2 * L * cl;
            if (add) a42.add(FloatVector.fromArray(F, c, o42)).intoArray(c, o42);
            else {
                a42.intoArray(acc, 0);
                scatter(acc, c, o42, cl, limit - 2 * L);
            }
        }
    }

    /** {@link #tile4} for 2 vectors. */
    public static void tile2(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add, float[] acc) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00;
        FloatVector a40 = a00, a41 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        for (int k = 0, ak = ai; k < kn; k++, ak += 2 * L) {
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
        int o00 = ci;
        if (add) a00.add(FloatVector.fromArray(F, c, o00)).intoArray(c, o00);
        else {
            a00.intoArray(acc, 0);
            scatter(acc, c, o00, cl, limit);
        }
        int o01 = ci + L * cl;
        if (add) a01.add(FloatVector.fromArray(F, c, o01)).intoArray(c, o01);
        else {
            a01.intoArray(acc, 0);
            scatter(acc, c, o01, cl, limit - L);
        }
        if (rows > 1) {
            int o10 = ci + cj;
            if (add) a10.add(FloatVector.fromArray(F, c, o10)).intoArray(c, o10);
            else {
                a10.intoArray(acc, 0);
                scatter(acc, c, o10, cl, limit);
            }
            int o11 = ci + cj + L * cl;
            if (add) a11.add(FloatVector.fromArray(F, c, o11)).intoArray(c, o11);
            else {
                a11.intoArray(acc, 0);
                scatter(acc, c, o11, cl, limit - L);
            }
        }
        if (rows > 2) {
            int o20 = ci + 2 * cj;
            if (add) a20.add(FloatVector.fromArray(F, c, o20)).intoArray(c, o20);
            else {
                a20.intoArray(acc, 0);
                scatter(acc, c, o20, cl, limit);
            }
            int o21 = ci + 2 * cj + L * cl;
            if (add) a21.add(FloatVector.fromArray(F, c, o21)).intoArray(c, o21);
            else {
                a21.intoArray(acc, 0);
                scatter(acc, c, o21, cl, limit - L);
            }
        }
        if (rows > 3) {
            int o30 = ci + 3 * cj;
            if (add) a30.add(FloatVector.fromArray(F, c, o30)).intoArray(c, o30);
            else {
                a30.intoArray(acc, 0);
                scatter(acc, c, o30, cl, limit);
            }
            int o31 = ci + 3 * cj + L * cl;
            if (add) a31.add(FloatVector.fromArray(F, c, o31)).intoArray(c, o31);
            else {
                a31.intoArray(acc, 0);
                scatter(acc, c, o31, cl, limit - L);
            }
        }
        if (rows > 4) {
            int o40 = ci + 4 * cj;
            if (add) a40.add(FloatVector.fromArray(F, c, o40)).intoArray(c, o40);
            else {
                a40.intoArray(acc, 0);
                scatter(acc, c, o40, cl, limit);
            }
            int o41 = ci + 4 * cj + L * cl;
            if (add) a41.add(FloatVector.fromArray(F, c, o41)).intoArray(c, o41);
            else {
                a41.intoArray(acc, 0);
                scatter(acc, c, o41, cl, limit - L);
            }
        }
    }

    /** {@link #tile4} for one vector: even and odd {@code k} in separate accumulators (10 chains in flight, not 5). */
    public static void tile1(float[] a, int ai, float[] b, int bi, int br, int kn, int rows,
            float[] c, int ci, int cj, int cl, int limit, boolean add, float[] acc) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a10 = a00, a20 = a00, a30 = a00, a40 = a00;
        FloatVector b00 = a00, b10 = a00, b20 = a00, b30 = a00, b40 = a00;
        int o1 = bi + Math.min(1, rows - 1) * br, o2 = bi + Math.min(2, rows - 1) * br;
        int o3 = bi + Math.min(3, rows - 1) * br, o4 = bi + Math.min(4, rows - 1) * br;
        int k = 0;
        for (int ak = ai; k + 1 < kn; k += 2, ak += 2 * L) {
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
        int o00 = ci;
        if (add) a00.add(FloatVector.fromArray(F, c, o00)).intoArray(c, o00);
        else {
            a00.intoArray(acc, 0);
            scatter(acc, c, o00, cl, limit);
        }
        if (rows > 1) {
            int o10 = ci + cj;
            if (add) a10.add(FloatVector.fromArray(F, c, o10)).intoArray(c, o10);
            else {
                a10.intoArray(acc, 0);
                scatter(acc, c, o10, cl, limit);
            }
        }
        if (rows > 2) {
            int o20 = ci + 2 * cj;
            if (add) a20.add(FloatVector.fromArray(F, c, o20)).intoArray(c, o20);
            else {
                a20.intoArray(acc, 0);
                scatter(acc, c, o20, cl, limit);
            }
        }
        if (rows > 3) {
            int o30 = ci + 3 * cj;
            if (add) a30.add(FloatVector.fromArray(F, c, o30)).intoArray(c, o30);
            else {
                a30.intoArray(acc, 0);
                scatter(acc, c, o30, cl, limit);
            }
        }
        if (rows > 4) {
            int o40 = ci + 4 * cj;
            if (add) a40.add(FloatVector.fromArray(F, c, o40)).intoArray(c, o40);
            else {
                a40.intoArray(acc, 0);
                scatter(acc, c, o40, cl, limit);
            }
        }
    }


    /**
     * Lane {@code l} of a tile's accumulator (stored to {@code lanes}) to {@code c[o + l*cl]}, for the first
     * {@code limit} lanes: the transposed store of {@code y = x·Wᵀ}. The tiles write each result inline (a vector
     * added along {@code c}'s rows, or stored to {@code lanes} for this): a vector passed to a method that C2 does not
     * inline is boxed, and C2 stops inlining into the large tile methods; a tile that stored all its accumulators
     * first and scattered them in one pass ran a 2048-column product with 16384-float output rows 20-35% slower.
     */
    private static void scatter(float[] lanes, float[] c, int o, int cl, int limit) {
        for (int l = 0, m = Math.min(L, limit); l < m; l++) c[o + l * cl] = lanes[l];
    }
}
