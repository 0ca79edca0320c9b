package dev.alma.train;

import dev.alma.backend.cpu.Tiles;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.stream.IntStream;

/**
 * Row-major float matrix products for training, multi-threaded over output tiles, on the CPU backend's register
 * tiles ({@link Tiles}). Every output element is one chain of multiply-adds in a fixed order, computed by one task
 * whose extent does not depend on the thread count, so results are bit-for-bit reproducible whatever the thread
 * count and whether or not the JIT has compiled the code yet.
 */
final class Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Tile rows per task of {@link #xwt}. */
    private static final int ROW_TILES = 8;
    /** Tasks {@link #dyw} and {@link #dytx} aim for (several per core, for balance). */
    private static final int TASKS = 32;
    /** Rows of {@code w} per panel of {@link #dyw} (a panel of 4 vectors' width stays in the L2 cache). */
    private static final int K_CHUNK = 1024;
    /** Columns per task of the parallel transpositions. */
    private static final int PACK_COLUMNS = 64;

    private Gemm() {
    }

    /** {@code y[n,out] = x[n,in] · w[out,in]ᵀ}, overwriting {@code y}. */
    static void xwt(float[] x, int n, int in, float[] w, int out, float[] y) {
        float[] xt = new float[Tiles.packedLength(n, in)];
        parallel(Math.ceilDiv(in, PACK_COLUMNS), t -> Tiles.pack(x, n, in, xt, t * PACK_COLUMNS, Math.min(in, (t + 1) * PACK_COLUMNS)));
        int blocks = Math.ceilDiv(Tiles.groups(n), 4), rowsPerTask = ROW_TILES * Tiles.ROWS;
        int chunks = Math.ceilDiv(out, rowsPerTask);
        int groups = Tiles.groups(n);
        parallel(blocks * chunks, task -> {
            int g = (task / chunks) * 4, tb = Math.min(4, groups - g);
            int xi = g * in * L, limit = n - g * L;
            float[] acc = new float[Tiles.ACC];
            for (int r = (task % chunks) * rowsPerTask, end = Math.min(out, r + rowsPerTask); r < end; r += Tiles.ROWS) {
                // lane l of vector t: row (g + t)·L + l of y, column r + j
                int rows = Math.min(Tiles.ROWS, end - r), ci = g * L * out + r;
                Tiles.tile(tb, xt, xi, w, r * in, in, in, rows, y, ci, 1, out, limit, false, acc);
            }
        });
    }

    /** {@code dx[n,in] += dy[n,out] · w[out,in]}. */
    static void dyw(float[] dy, int n, int out, float[] w, int in, float[] dx) {
        // vectors along dx's rows: tile rows are rows of dy, a = a panel of w's columns, k = w's row
        int blocks = Math.ceilDiv(in / L, 4), span = span(n, blocks), tokenTasks = Math.ceilDiv(n, span);
        parallel(blocks * tokenTasks + (in % L == 0 ? 0 : 1), task -> {
            if (task == blocks * tokenTasks) {
                // the columns past the last whole vector
                for (int r = 0; r < n; r++)
                    for (int i = in - in % L; i < in; i++) {
                        float s = dx[r * in + i];
                        for (int c = 0; c < out; c++) s += dy[r * out + c] * w[c * in + i];
                        dx[r * in + i] = s;
                    }
                return;
            }
            int b = task / tokenTasks, i0 = b * 4 * L, tb = Math.min(4, in / L - b * 4);
            int r0 = (task % tokenTasks) * span, r1 = Math.min(n, r0 + span);
            float[] panel = new float[Math.min(out, K_CHUNK) * tb * L], acc = new float[Tiles.ACC];
            for (int k0 = 0; k0 < out; k0 += K_CHUNK) {
                int k1 = Math.min(out, k0 + K_CHUNK);
                Tiles.panel(w, in, i0, tb * L, k0, k1, panel);
                for (int r = r0; r < r1; r += Tiles.ROWS)
                    Tiles.tile(tb, panel, 0, dy, r * out + k0, out, k1 - k0, Math.min(Tiles.ROWS, r1 - r), dx, r * in + i0,
                            in, 1, tb * L, true, acc);
            }
        });
    }

    /** {@code dw[out,in] += dy[n,out]ᵀ · x[n,in]}. */
    static void dytx(float[] dy, int n, int out, float[] x, int in, float[] dw) {
        // vectors along dw's rows: tile rows are columns of dy (rows of dyᵀ), a = a panel of x's columns, k = token
        float[] dyt = new float[out * n];
        parallel(Math.ceilDiv(out, PACK_COLUMNS), t -> {
            // a block of dy's columns: reads along dy's rows, writes stay within the block's rows of dyᵀ
            for (int r = 0, c0 = t * PACK_COLUMNS, c1 = Math.min(out, c0 + PACK_COLUMNS); r < n; r++)
                for (int c = c0; c < c1; c++) dyt[c * n + r] = dy[r * out + c];
        });
        int blocks = Math.ceilDiv(in / L, 4), span = span(out, blocks), rowTasks = Math.ceilDiv(out, span);
        parallel(blocks * rowTasks + (in % L == 0 ? 0 : 1), task -> {
            if (task == blocks * rowTasks) {
                for (int c = 0; c < out; c++)
                    for (int i = in - in % L; i < in; i++) {
                        float s = dw[c * in + i];
                        for (int r = 0; r < n; r++) s += dyt[c * n + r] * x[r * in + i];
                        dw[c * in + i] = s;
                    }
                return;
            }
            int b = task / rowTasks, i0 = b * 4 * L, tb = Math.min(4, in / L - b * 4);
            int c0 = (task % rowTasks) * span, c1 = Math.min(out, c0 + span);
            float[] panel = new float[n * tb * L], acc = new float[Tiles.ACC];
            Tiles.panel(x, in, i0, tb * L, 0, n, panel);
            for (int c = c0; c < c1; c += Tiles.ROWS)
                Tiles.tile(tb, panel, 0, dyt, c * n, n, n, Math.min(Tiles.ROWS, c1 - c), dw, c * in + i0, in, 1, tb * L, true,
                        acc);
        });
    }

    /**
     * Tile rows per task along the dimension of {@code rows} when {@code blocks} column blocks already make tasks:
     * as many as keep {@link #TASKS} tasks in all, in whole tiles. Each task copies its own panel of the shared operand,
     * so splitting the rows more than needed copies the same panel again.
     */
    private static int span(int rows, int blocks) {
        int parts = Math.max(1, Math.ceilDiv(TASKS, Math.max(1, blocks)));
        return Math.max(Tiles.ROWS, Math.ceilDiv(Math.ceilDiv(rows, parts), Tiles.ROWS) * Tiles.ROWS);
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
}
