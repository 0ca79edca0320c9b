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
            for (int r = r0; r < r1; r++)
                for (int c = c0; c < c1; c++) y[r * out + c] = dot(x, r * in, w, c * in, in);
        });
    }

    /** {@code dx[n,in] += dy[n,out] · w[out,in]}. */
    static void dyw(float[] dy, int n, int out, float[] w, int in, float[] dx) {
        parallel((n + TILE - 1) / TILE, t -> {
            int r0 = t * TILE, r1 = Math.min(n, r0 + TILE);
            for (int c0 = 0; c0 < out; c0 += TILE) {
                int c1 = Math.min(out, c0 + TILE);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) {
                        float a = dy[r * out + c];
                        if (a != 0) axpy(a, w, c * in, dx, r * in, in);
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
                for (int c = c0; c < c1; c++)
                    for (int r = r0; r < r1; r++) {
                        float a = dy[r * out + c];
                        if (a != 0) axpy(a, x, r * in, dw, c * in, in);
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
        FloatVector acc = acc0.add(acc1);
        float s = 0;
        for (int l = 0; l < L; l++) s += acc.lane(l);
        for (; i < len; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** {@code y[yOff+i] += a·x[xOff+i]} for {@code i < len}. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
        FloatVector va = FloatVector.broadcast(F, a);
        int i = 0;
        for (; i + L <= len; i += L)
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        for (; i < len; i++) y[yOff + i] += a * x[xOff + i];
    }
}
