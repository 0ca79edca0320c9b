package dev.alma.backend.cpu;

import dev.alma.tensor.Layouts;

import java.lang.foreign.MemorySegment;

/**
 * Decode-time attention of one token over its sequence's cached keys and values, for a range of query heads: the
 * softmax of the scaled scores {@code q·k}, times the values. The cache pages keep each KV head's positions
 * contiguous ({@link CpuKvCache}): a thread reads one contiguous run per page (its heads' keys, then their values)
 * instead of a short run per head and page, and walks {@link #STREAMS} pages' runs in step, so the reads stream
 * from memory as several concurrent streams rather than waiting on each run's first miss. An f16 cache's keys and
 * values are widened as they are read.
 */
final class Attention {
    /** Pages read at once: their runs are walked in step, as concurrent memory streams. */
    static final int STREAMS = 4;

    private Attention() {
    }

    /**
     * Query heads {@code [h0, h1)} of the token whose query row starts at {@code q[qRow]}, attending to positions
     * {@code 0 ..= last} of the sequence with page table {@code table}, into {@code out[oRow + h·headDim ..]}.
     * Query head {@code h} reads KV head {@code h / group}. {@code scores} holds at least
     * {@code (h1 - h0)·(last + 1)} floats.
     */
    static void heads(float[] q, int qRow, CpuKvCache cache, int[] table, int layer, int h0, int h1, int group,
                      int last, float scale, float[] scores, float[] out, int oRow) {
        int hd = cache.headDim, ps = CpuKvCache.PAGE_SIZE, len = last + 1;
        float[][] pages = cache.pages;
        MemorySegment[] halves = cache.halfSegments;
        int np = Math.ceilDiv(len, ps);
        for (int g = 0; g < np; g += STREAMS) {
            int gEnd = Math.min(np, g + STREAMS);
            for (int h = h0; h < h1; h++) {
                int k = cache.offset(layer, 0, h / group, 0), row = (h - h0) * len;
                for (int s = 0; s < ps; s++)
                    for (int pg = g; pg < gEnd && pg * ps + s < len; pg++)
                        scores[row + pg * ps + s] = (halves == null
                                ? Simd.dot(q, qRow + h * hd, pages[table[pg]], k + s * hd, hd)
                                : dotHalf(q, qRow + h * hd, halves[table[pg]], k + s * hd, hd)) * scale;
            }
        }
        for (int h = h0; h < h1; h++) {
            float inv = 1f / softmaxNumerators(scores, (h - h0) * len, len);
            for (int i = (h - h0) * len; i < (h - h0 + 1) * len; i++) scores[i] *= inv;
            java.util.Arrays.fill(out, oRow + h * hd, oRow + (h + 1) * hd, 0f);
        }
        for (int g = 0; g < np; g += STREAMS) {
            int gEnd = Math.min(np, g + STREAMS);
            for (int h = h0; h < h1; h++) {
                int v = cache.offset(layer, 1, h / group, 0), row = (h - h0) * len;
                for (int s = 0; s < ps; s++)
                    for (int pg = g; pg < gEnd && pg * ps + s < len; pg++)
                        if (halves == null) axpy(scores[row + pg * ps + s], pages[table[pg]], v + s * hd, out, oRow + h * hd, hd);
                        else axpyHalf(scores[row + pg * ps + s], halves[table[pg]], v + s * hd, out, oRow + h * hd, hd);
            }
        }
    }

    /** Replaces {@code x[off .. off+n)} by {@code exp(x - max)} and returns their sum. */
    static float softmaxNumerators(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        if (Simd.AVAILABLE) return Simd.V.expShifted(x, off, n, max);
        float sum = 0;
        for (int i = off; i < off + n; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        return sum;
    }

    /** {@code y[yOff ..] += a · x[xOff ..]} over {@code n} floats. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        if (Simd.AVAILABLE) {
            Simd.V.axpy(a, x, xOff, y, yOff, n);
            return;
        }
        for (int i = 0; i < n; i++) y[yOff + i] += a * x[xOff + i];
    }

    /** {@code q[qOff ..] · x} over {@code n} f16 values of {@code page} from value {@code off}. */
    static float dotHalf(float[] q, int qOff, MemorySegment page, int off, int n) {
        if (Simd.AVAILABLE) return Simd.V.dotF16(page, 2L * off, q, qOff, n);
        float s = 0;
        for (int i = 0; i < n; i++) s += Float.float16ToFloat(page.get(Layouts.I16, 2L * (off + i))) * q[qOff + i];
        return s;
    }

    /** {@code y[yOff ..] += a · x} over {@code n} f16 values of {@code page} from value {@code off}. */
    static void axpyHalf(float a, MemorySegment page, int off, float[] y, int yOff, int n) {
        if (Simd.AVAILABLE) {
            Simd.V.axpyF16(a, page, 2L * off, y, yOff, n);
            return;
        }
        for (int i = 0; i < n; i++) y[yOff + i] += a * Float.float16ToFloat(page.get(Layouts.I16, 2L * (off + i)));
    }
}
