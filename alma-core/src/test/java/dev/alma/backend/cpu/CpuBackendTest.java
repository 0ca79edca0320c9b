package dev.alma.backend.cpu;

import dev.alma.backend.Activations;
import dev.alma.backend.KvCache;
import dev.alma.backend.PagedKvCache;
import dev.alma.backend.Weight;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CPU kernels against straightforward float64 references, on shapes that are not multiples of vector widths. */
class CpuBackendTest {
    private static final CpuBackend BE = new CpuBackend(2);
    private final SplittableRandom rnd = new SplittableRandom(42);

    @AfterAll
    static void close() {
        BE.close();
    }

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (2 * rnd.nextDouble() - 1);
        return v;
    }

    static Tensor tensor(String name, DType type, float[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate(type.byteSize(values.length));
        for (int i = 0; i < values.length; i++) {
            switch (type) {
                case F32 -> seg.setAtIndex(dev.alma.tensor.Layouts.F32, i, values[i]);
                case F16 -> seg.setAtIndex(dev.alma.tensor.Layouts.I16, i, Float.floatToFloat16(values[i]));
                case BF16 -> seg.setAtIndex(dev.alma.tensor.Layouts.I16, i, dev.alma.io.SafeTensorsWriter.toBf16(values[i]));
                default -> throw new IllegalArgumentException();
            }
        }
        return new Tensor(name, type, shape, seg);
    }

    private CpuActivations act(float[] v, int rows, int cols) {
        CpuActivations a = (CpuActivations) BE.allocate(rows, cols);
        System.arraycopy(v, 0, a.data, 0, v.length);
        return a;
    }

    @Test
    void matmulMatchesFloat64ForEveryPlainType() {
        // n = 1 rows: four streams per chunk plus remainder rows (37, 1031), several chunks of a large matrix (1031)
        // 2-16 rows (FewTokens for F16/BF16): one pass of five, several (7, 8, 9, 16), rows and columns past the
        // vectors; 17 and more rows: Gemm (from 22 with 16-float vectors, the packed kernel)
        int[][] shapes = {{1, 1, 1}, {1, 37, 45}, {1, 1031, 515}, {3, 67, 129}, {5, 130, 17}, {2, 8, 256},
                {5, 1031, 515}, {7, 45, 100}, {8, 33, 48}, {4, 6, 5}, {9, 20, 40}, {16, 13, 70}, {17, 21, 64},
                {33, 13, 70}, {40, 13, 70}, {64, 12, 33}, {71, 7, 129}};
        for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            for (int[] s : shapes) {
                int n = s[0], rows = s[1], cols = s[2];
                float[] w = random(rows * cols);
                Tensor t = tensor("w", type, w, rows, cols);
                float[] stored = t.toFloatArray();
                float[] x = random(n * cols);
                CpuActivations out = (CpuActivations) BE.allocate(n, rows);
                BE.matmul(act(x, n, cols), BE.weight(t), n, out);
                for (int i = 0; i < n; i++) {
                    for (int r = 0; r < rows; r++) {
                        double ref = 0, mag = 0;
                        for (int c = 0; c < cols; c++) {
                            ref += (double) stored[r * cols + c] * x[i * cols + c];
                            mag += Math.abs((double) stored[r * cols + c] * x[i * cols + c]);
                        }
                        assertEquals(ref, out.data[i * rows + r], 1e-6 * Math.max(1, mag),
                                type + " " + n + "x" + rows + "x" + cols + " at " + i + "," + r);
                    }
                }
            }
        }
    }

    @Test
    void randomWeightsLiveOutsideTheDirectMemoryLimit() {
        // `alma bench --model random:7b:f16` needs 13.5 GB, more than the default limit (the maximum heap size)
        assumeTrue(WeightMemory.enabled(), "needs --enable-native-access");
        var direct = java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)
                .stream().filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long before = direct.getMemoryUsed();
        Weight w = BE.randomWeight("w", DType.F16, 4096, 1024, 5, 0.1f); // 8 MB
        long grew = direct.getMemoryUsed() - before;
        assertTrue(grew < 1 << 20, "direct memory grew by " + grew + " bytes");
        CpuActivations x = act(random(1024), 1, 1024), out = (CpuActivations) BE.allocate(1, 4096);
        BE.matmul(x, w, 1, out);
        for (float v : out.data) assertTrue(Float.isFinite(v) && Math.abs(v) < 0.1 * 1024);
    }

    @Test
    void fewTokenHalfProductsStayExactOnSubnormalWeights() {
        // f16 weights of 1e-7..1e-5 are subnormal halves; the few-token kernel widens them without the 2^112 multiply
        int n = 5, rows = 12, cols = 96;
        float[] w = random(rows * cols);
        for (int i = 0; i < w.length; i++) w[i] *= 1e-5f;
        Tensor t = tensor("w", DType.F16, w, rows, cols);
        float[] stored = t.toFloatArray();
        float[] x = random(n * cols);
        CpuActivations out = (CpuActivations) BE.allocate(n, rows);
        BE.matmul(act(x, n, cols), BE.weight(t), n, out);
        for (int i = 0; i < n; i++)
            for (int r = 0; r < rows; r++) {
                double ref = 0, mag = 0;
                for (int c = 0; c < cols; c++) {
                    ref += (double) stored[r * cols + c] * x[i * cols + c];
                    mag += Math.abs((double) stored[r * cols + c] * x[i * cols + c]);
                }
                assertTrue(mag > 0);
                assertEquals(ref, out.data[i * rows + r], 1e-6 * mag, "token " + i + ", row " + r);
            }
    }

    @Test
    void matrixVectorChunksAreWholeFourRowGroupsAndFeedEveryThread() {
        assertEquals(256, CpuBackend.matvecChunkRows(2048, 2048, 2), "four chunks per thread");
        assertEquals(512, CpuBackend.matvecChunkRows(32000, 2048, 2), "at most 1 MB per chunk");
        assertEquals(4, CpuBackend.matvecChunkRows(100, 8 << 20, 2), "rows larger than a chunk");
        assertEquals(3, CpuBackend.matvecChunkRows(3, 16, 8), "never more than the rows");
        assertEquals(1, CpuBackend.matvecChunkRows(0, 16, 2));
        for (int rows : new int[]{1, 5, 4097, 32000})
            for (int threads : new int[]{1, 2, 16}) {
                int c = CpuBackend.matvecChunkRows(rows, 4096, threads);
                assertTrue(c >= 1 && c <= rows && (c % 4 == 0 || c == rows), rows + " rows, " + threads + " threads: " + c);
            }
    }

    @Test
    void storedHalfAndBfloatDecodeExactly() {
        float[] v = {0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-5f, 5.9604645e-8f, -3.0517578e-5f, 0.1f};
        Tensor f16 = tensor("h", DType.F16, v, v.length);
        for (int i = 0; i < v.length; i++)
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(v[i])), f16.getFloat(i));
        // the vector path decodes the same values, subnormals included
        float[] ones = new float[v.length];
        java.util.Arrays.fill(ones, 1f);
        for (int i = 0; i < v.length; i++) {
            float[] unit = new float[v.length];
            unit[i] = 1f;
            Tensor row = tensor("r", DType.F16, v, 1, v.length);
            assertEquals(f16.getFloat(i), new F16Matrix(row).dot(0, unit, 0), 0f);
        }
    }

    @Test
    void rmsNormMatchesFloat64() {
        int n = 3, d = 77;
        float[] x = random(n * d), g = random(d);
        CpuActivations out = (CpuActivations) BE.allocate(n, d);
        BE.rmsNorm(act(x, n, d), BE.weight(tensor("g", DType.F32, g, d)), 1e-5f, n, out);
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) x[i * d + j] * x[i * d + j];
            double inv = 1 / Math.sqrt(ss / d + 1e-5);
            for (int j = 0; j < d; j++) assertEquals(g[j] * x[i * d + j] * inv, out.data[i * d + j], 1e-6);
        }
    }

    @Test
    void ropeRotatesHalvesLikeHuggingFace() {
        int heads = 3, hd = 10;
        int[] pos = {0, 1, 7, 300};
        float[] x = random(pos.length * heads * hd);
        CpuActivations a = act(x, pos.length, heads * hd);
        BE.rope(a, heads, hd, pos, 10000.0, false);
        for (int i = 0; i < pos.length; i++)
            for (int h = 0; h < heads; h++)
                for (int j = 0; j < hd / 2; j++) {
                    double ang = pos[i] * Math.pow(10000.0, -2.0 * j / hd);
                    int o = i * heads * hd + h * hd;
                    double x0 = x[o + j], x1 = x[o + j + hd / 2];
                    assertEquals(x0 * Math.cos(ang) - x1 * Math.sin(ang), a.data[o + j], 2e-5 * Math.max(1, pos[i] / 50.0));
                    assertEquals(x1 * Math.cos(ang) + x0 * Math.sin(ang), a.data[o + j + hd / 2], 2e-5 * Math.max(1, pos[i] / 50.0));
                }
    }

    @Test
    void interleavedRopeEqualsHalvesRopeUnderLlamaCppPermutation() {
        int heads = 2, hd = 8;
        int[] pos = {3, 11};
        float[] x = random(pos.length * heads * hd);
        // llama.cpp stores element (pair j, half k) of a head at 2j + k; Hugging Face at k*hd/2 + j
        float[] perm = new float[x.length];
        for (int i = 0; i < pos.length * heads; i++)
            for (int j = 0; j < hd / 2; j++)
                for (int k = 0; k < 2; k++) perm[i * hd + 2 * j + k] = x[i * hd + k * hd / 2 + j];
        CpuActivations a = act(x, pos.length, heads * hd), b = act(perm, pos.length, heads * hd);
        BE.rope(a, heads, hd, pos, 10000.0, false);
        BE.rope(b, heads, hd, pos, 10000.0, true);
        for (int i = 0; i < pos.length * heads; i++)
            for (int j = 0; j < hd / 2; j++)
                for (int k = 0; k < 2; k++)
                    assertEquals(a.data[i * hd + k * hd / 2 + j], b.data[i * hd + 2 * j + k], 0f);
    }

    @Test
    void groupedQueryAttentionMatchesFloat64() {
        // 21 positions: two cache pages; 90 positions of layer 1 with a 20-wide head: six pages, more than the pages
        // attention walks in step, and head slices that are not whole vectors
        groupedQueryAttention(6, 2, 6, 21, 0, false);
        groupedQueryAttention(4, 2, 20, 90, 1, false);
    }

    @Test
    void attentionOverAnF16CacheMatchesFloat64OfTheRoundedKeysAndValues() {
        // the same walks over f16 pages: keys and values rounded to f16 as they are stored, widened as they are read
        groupedQueryAttention(6, 2, 6, 21, 0, true);
        groupedQueryAttention(4, 2, 20, 90, 1, true);
        groupedQueryAttention(8, 8, 64, 40, 1, true);
    }

    private void groupedQueryAttention(int heads, int kvHeads, int hd, int len, int layer, boolean f16) {
        LlamaConfig c = new LlamaConfig(10, heads * hd, 8, 2, heads, kvHeads, hd, 1e-5f, 1e4, 128, false, 1, 2, "float32", false);
        KvCache cache = BE.kvCache(c, 128, f16 ? DType.F16 : DType.F32);
        int seq = cache.create();
        float[] q = random(len * heads * hd), k = random(len * kvHeads * hd), v = random(len * kvHeads * hd);
        int[] seqs = new int[len], pos = new int[len];
        for (int i = 0; i < len; i++) {
            seqs[i] = seq;
            pos[i] = i;
        }
        CpuActivations out = (CpuActivations) BE.allocate(len, heads * hd);
        // prefill the first 13 positions in one call, then one token at a time (the cache serves both)
        int split = 13;
        BE.attention(act(java.util.Arrays.copyOf(q, split * heads * hd), split, heads * hd),
                act(java.util.Arrays.copyOf(k, split * kvHeads * hd), split, kvHeads * hd),
                act(java.util.Arrays.copyOf(v, split * kvHeads * hd), split, kvHeads * hd),
                cache, layer, java.util.Arrays.copyOf(seqs, split), java.util.Arrays.copyOf(pos, split), split, out);
        float[] got = java.util.Arrays.copyOf(out.data, len * heads * hd);
        for (int t = split; t < len; t++) {
            CpuActivations o1 = (CpuActivations) BE.allocate(1, heads * hd);
            BE.attention(act(java.util.Arrays.copyOfRange(q, t * heads * hd, (t + 1) * heads * hd), 1, heads * hd),
                    act(java.util.Arrays.copyOfRange(k, t * kvHeads * hd, (t + 1) * kvHeads * hd), 1, kvHeads * hd),
                    act(java.util.Arrays.copyOfRange(v, t * kvHeads * hd, (t + 1) * kvHeads * hd), 1, kvHeads * hd),
                    cache, layer, new int[]{seq}, new int[]{t}, 1, o1);
            System.arraycopy(o1.data, 0, got, t * heads * hd, heads * hd);
        }
        if (f16)  // the reference sees what the cache holds
            for (float[] a : new float[][]{k, v})
                for (int i = 0; i < a.length; i++) a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
        for (int t = 0; t < len; t++)
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int p = 0; p <= t; p++) {
                    for (int d = 0; d < hd; d++) s[p] += (double) q[(t * heads + h) * hd + d] * k[(p * kvHeads + g) * hd + d];
                    s[p] /= Math.sqrt(hd);
                    max = Math.max(max, s[p]);
                }
                for (int p = 0; p <= t; p++) sum += s[p] = Math.exp(s[p] - max);
                for (int d = 0; d < hd; d++) {
                    double ref = 0;
                    for (int p = 0; p <= t; p++) ref += s[p] / sum * v[(p * kvHeads + g) * hd + d];
                    assertEquals(ref, got[(t * heads + h) * hd + d], 1e-5, "len " + len + ": t=" + t + " h=" + h + " d=" + d);
                }
            }
    }

    @Test
    void forkedSequencesShareUntilWrittenThenCopy() {
        LlamaConfig c = new LlamaConfig(10, 4, 8, 2, 1, 1, 4, 1e-5f, 1e4, 256, false, 1, 2, "float32", false);
        PagedKvCache cache = (PagedKvCache) BE.kvCache(c, 256);
        int a = cache.create();
        for (int p = 0; p < 20; p++) cache.pageForWrite(a, p);
        assertEquals(2, cache.pagesInUse());
        int b = cache.fork(a);
        assertEquals(2, cache.pagesInUse(), "fork copies nothing");
        assertEquals(cache.pageForRead(a, 5), cache.pageForRead(b, 5));
        int pb = cache.pageForWrite(b, 20);
        assertEquals(3, cache.pagesInUse(), "the shared, partly filled page is copied on write");
        assertNotEquals(cache.pageForRead(a, 17), pb);
        assertEquals(cache.pageForRead(a, 3), cache.pageForRead(b, 3), "full pages stay shared");
        cache.free(a);
        assertEquals(2, cache.pagesInUse());
        assertThrows(IllegalArgumentException.class, () -> cache.length(a));
        assertThrows(IllegalArgumentException.class, () -> cache.pageForWrite(b, 30), "positions are written in order");
        cache.truncate(b, 10);
        assertEquals(10, cache.length(b));
        assertEquals(1, cache.pagesInUse());
    }

    @Test
    void aKvCacheBeyondTheHeapIsANamedError() {
        // one page of 48 layers × 524288 key/value columns: 805M floats (3.2 GB), beyond the tests' 1-2 GB heap
        CpuKvCache big = new CpuKvCache(48, 4096, 128, 64, false);
        var e = assertThrows(dev.alma.AlmaException.class, () -> big.ensurePage(0));
        assertTrue(e.getMessage().startsWith("KV cache: the Java heap has no room") && e.getMessage().contains("-Xmx"), e.getMessage());
        var tooLong = assertThrows(dev.alma.AlmaException.class, () -> new CpuKvCache(1024, 1024, 128, 64, false));
        assertTrue(tooLong.getMessage().contains("more than a Java array holds"), tooLong.getMessage());
    }
}
