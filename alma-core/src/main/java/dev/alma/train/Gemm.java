package dev.alma.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.stream.IntStream;

/**
 * Row-major float matrix products for training, multi-threaded over output tiles. Every output element is
 * computed by one thread in a fixed order, so results are bit-for-bit reproducible whatever the thread count and
 * whether or not the JIT has compiled the code yet.
 */
final class Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Rows per task and per cache tile. */
    private static final int TILE = 32;

    private Gemm() {
    }

    /** {@code y[n,out] = x[n,in] · w[out,in]ᵀ}, overwriting {@code y}. */
    static void xwt(float[] x, int n, int in, float[] w, int out, float[] y) {
        int rowTiles = (n + TILE - 1) / TILE, colTiles = (out + TILE - 1) / TILE;
        parallel(rowTiles * colTiles, t -> {
            int r0 = (t / colTiles) * TILE, c0 = (t % colTiles) * TILE;
            int r1 = Math.min(n, r0 + TILE), c1 = Math.min(out, c0 + TILE);
            int r = r0;
            for (; r + 4 <= r1; r += 4)
                for (int c = c0; c < c1; c++) dot4(w, c * in, x, r * in, in, y, r * out + c, out);
            for (; r < r1; r++)
                for (int c = c0; c < c1; c++) y[r * out + c] = dot(x, r * in, w, c * in, in);
        });
    }

    /** {@code dx[n,in] += dy[n,out] · w[out,in]}. */
    static void dyw(float[] dy, int n, int out, float[] w, int in, float[] dx) {
        parallel((n + TILE - 1) / TILE, t -> {
            int r0 = t * TILE, r1 = Math.min(n, r0 + TILE);
            for (int c0 = 0; c0 < out; c0 += TILE) {
                int c1 = Math.min(out, c0 + TILE);
                for (int r = r0; r < r1; r++) {
                    int c = c0, o = r * out;
                    for (; c + 4 <= c1; c += 4)
                        axpy4(dy[o + c], dy[o + c + 1], dy[o + c + 2], dy[o + c + 3], w, c * in, in, dx, r * in, in);
                    for (; c < c1; c++) axpy(dy[o + c], w, c * in, dx, r * in, in);
                }
            }
        });
    }

    /** {@code dw[out,in] += dy[n,out]ᵀ · x[n,in]}. */
    static void dytx(float[] dy, int n, int out, float[] x, int in, float[] dw) {
        parallel((out + TILE - 1) / TILE, t -> {
            int c0 = t * TILE, c1 = Math.min(out, c0 + TILE);
            for (int r0 = 0; r0 < n; r0 += TILE) {
                int r1 = Math.min(n, r0 + TILE);
                for (int c = c0; c < c1; c++) {
                    int r = r0;
                    for (; r + 4 <= r1; r += 4)
                        axpy4(dy[r * out + c], dy[(r + 1) * out + c], dy[(r + 2) * out + c], dy[(r + 3) * out + c],
                                x, r * in, in, dw, c * in, in);
                    for (; r < r1; r++) axpy(dy[r * out + c], x, r * in, dw, c * in, in);
                }
            }
        });
    }

    /** Runs {@code body} for tasks {@code 0..tasks-1}, in parallel when there is more than one. */
    static void parallel(int tasks, java.util.function.IntConsumer body) {
        if (tasks == 1) body.accept(0);
        else IntStream.range(0, tasks).parallel().forEach(body);
    }

    /** {@code Σ a[aOff+i]·b[bOff+i]} for {@code i < len}. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= len; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
        }
        for (; i + L <= len; i += L)
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
        // lanes summed in a fixed order: reduceLanes may reorder differently once the JIT compiles it, which
        // would make a resumed run differ in the last bit from an uninterrupted one
        float[] lanes = new float[L];
        acc0.add(acc1).intoArray(lanes, 0);
        float s = 0;
        for (int l = 0; l < L; l++) s += lanes[l];
        for (; i < len; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** {@code y[yOff+i] += a·x[xOff+i]} for {@code i < len}. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
        if (a == 0) return;
        FloatVector va = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i + L <= len; i += L)
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < len; i++) y[yOff + i] += a * x[xOff + i];
    }

    /**
     * {@code y += a0·x[xOff] + a1·x[xOff+stride] + a2·x[xOff+2·stride] + a3·x[xOff+3·stride]} (rows of length
     * {@code len}), loading and storing {@code y} once.
     */
    static void axpy4(float a0, float a1, float a2, float a3, float[] x, int xOff, int stride, float[] y, int yOff, int len) {
        FloatVector v0 = FloatVector.broadcast(F, a0), v1 = FloatVector.broadcast(F, a1);
        FloatVector v2 = FloatVector.broadcast(F, a2), v3 = FloatVector.broadcast(F, a3);
        int x1 = xOff + stride, x2 = x1 + stride, x3 = x2 + stride;
        int i = 0;
        for (; i + L <= len; i += L) {
            FloatVector acc = FloatVector.fromArray(F, y, yOff + i);
            acc = FloatVector.fromArray(F, x, xOff + i).fma(v0, acc);
            acc = FloatVector.fromArray(F, x, x1 + i).fma(v1, acc);
            acc = FloatVector.fromArray(F, x, x2 + i).fma(v2, acc);
            acc = FloatVector.fromArray(F, x, x3 + i).fma(v3, acc);
            acc.intoArray(y, yOff + i);
        }
        for (; i < len; i++)
            y[yOff + i] = y[yOff + i] + a0 * x[xOff + i] + a1 * x[x1 + i] + a2 * x[x2 + i] + a3 * x[x3 + i];
    }

    /**
     * Four dot products of the row {@code w[wOff..]} with the rows {@code x[xOff + k·len..]}, {@code k < 4}, written
     * to {@code y[yOff + k·yStride]}; {@code w} is loaded once for all four.
     */
    static void dot4(float[] w, int wOff, float[] x, int xOff, int len, float[] y, int yOff, int yStride) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        int x1 = xOff + len, x2 = x1 + len, x3 = x2 + len;
        int i = 0;
        for (; i + L <= len; i += L) {
            FloatVector wv = FloatVector.fromArray(F, w, wOff + i);
            s0 = FloatVector.fromArray(F, x, xOff + i).fma(wv, s0);
            s1 = FloatVector.fromArray(F, x, x1 + i).fma(wv, s1);
            s2 = FloatVector.fromArray(F, x, x2 + i).fma(wv, s2);
            s3 = FloatVector.fromArray(F, x, x3 + i).fma(wv, s3);
        }
        float[] lanes = new float[4 * L];
        s0.intoArray(lanes, 0);
        s1.intoArray(lanes, L);
        s2.intoArray(lanes, 2 * L);
        s3.intoArray(lanes, 3 * L);
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (int l = 0; l < L; l++) {
            t0 += lanes[l];
            t1 += lanes[L + l];
            t2 += lanes[2 * L + l];
            t3 += lanes[3 * L + l];
        }
        for (; i < len; i++) {
            float wv = w[wOff + i];
            t0 += x[xOff + i] * wv;
            t1 += x[x1 + i] * wv;
            t2 += x[x2 + i] * wv;
            t3 += x[x3 + i] * wv;
        }
        y[yOff] = t0;
        y[yOff + yStride] = t1;
        y[yOff + 2 * yStride] = t2;
        y[yOff + 3 * yStride] = t3;
    }
}
