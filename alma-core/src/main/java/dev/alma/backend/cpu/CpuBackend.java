package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.backend.KvCache;
import dev.alma.backend.Weight;
import dev.alma.model.LlamaConfig;
import dev.alma.model.RandomModel;
import dev.alma.model.WeightConversion;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.tensor.DType;
import dev.alma.tensor.Segments;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * The pure-Java backend: weights are read in place from their mapped files by {@link CpuMatrix} kernels (Vector
 * API when available), activations live on the heap, and every operation that pays is split over a fixed pool of
 * threads.
 */
public final class CpuBackend implements Backend {
    /** Per-thread attention score buffer, grown to the longest sequence seen (no allocation per step). */
    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[256]);

    /** Columns per task of the parallel {@link Tiles#pack}. */
    private static final int PACK_COLUMNS = 256;

    private final Parallel parallel;
    /** Owns the weight copies ({@link PanelMatrix}): released when the backend closes. */
    private final Arena weights = Arena.ofShared();
    private boolean closed;

    /** A CPU backend using {@code threads} threads (0: one per core). */
    public CpuBackend(int threads) {
        this.parallel = new Parallel(threads);
    }

    /** Threads in use. */
    public int threads() {
        return parallel.threads();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Weight weight(Tensor stored) {
        return new CpuWeight(CpuMatrix.of(stored, weights));
    }

    /**
     * Random weights drawn into native memory outside the JVM's direct-memory limit ({@link WeightMemory}, freed once
     * unreachable): a 7B model in f16 (13.5 GB) is more than the default limit (the maximum heap size), which the
     * default's automatic arena counts against.
     */
    @Override
    public Weight randomWeight(String name, DType type, int rows, int cols, long seed, float scale) {
        if (!WeightMemory.enabled()) return Backend.super.randomWeight(name, type, rows, cols, seed, scale);
        return weight(RandomModel.uniform(name, type, rows, cols, seed, scale,
                bytes -> WeightMemory.allocate(bytes, name, Arena.ofAuto())));
    }

    /** Converted weights go to native memory outside the direct-memory limit, as {@link #randomWeight}'s. */
    @Override
    public Weight weight(Tensor stored, DType as) {
        if (!WeightMemory.enabled() || !WeightConversion.converts(stored, as)) return Backend.super.weight(stored, as);
        return weight(WeightConversion.convert(stored, as, bytes -> WeightMemory.allocate(bytes, stored.name(), Arena.ofAuto())));
    }

    /**
     * Rows {@code [r0, r1)} of a stored matrix of any type this backend reads (F32, F16, BF16 and the GGUF block
     * types), decoded to floats into {@code out[0 .. (r1-r0)·cols)}: the CPU's row decoders, for backends that keep
     * a quantized type in a wider one (the CUDA backend uploads Q4_0 and the K-quants as bf16).
     */
    public static void decodeRows(Tensor stored, int r0, int r1, float[] out) {
        decodeRows(stored, r0, r1, MemorySegment.ofArray(out), false);
    }

    /**
     * As {@link #decodeRows(Tensor, int, int, float[])}, written to {@code dst} as little-endian floats or, with
     * {@code bf16}, rounded to bfloat16 ({@code (r1-r0)·cols} values from byte 0), the rows split over the common
     * fork-join pool: the CUDA backend's upload of a 7B Q4_K model decodes ~6.5 billion values. {@code dst} must be
     * accessible from any thread (a global, automatic or shared arena's segment, or an array's).
     */
    public static void decodeRows(Tensor stored, int r0, int r1, MemorySegment dst, boolean bf16) {
        CpuMatrix m = CpuMatrix.plain(stored);
        int cols = m.cols, size = bf16 ? 2 : 4;
        if (r0 < 0 || r1 > m.rows || r0 > r1 || dst.byteSize() < (long) (r1 - r0) * cols * size)
            throw new IllegalArgumentException("rows " + r0 + ".." + r1 + " of " + stored.name() + " (" + m.rows + " x "
                    + cols + ") into " + dst.byteSize() + " bytes");
        int per = Math.max(1, DECODE_PART_VALUES / Math.max(1, cols)), parts = (r1 - r0 + per - 1) / per;
        IntStream.range(0, parts).parallel().forEach(part -> {
            int a = r0 + part * per, b = Math.min(r1, a + per);
            float[] f = new float[cols];
            short[] h = bf16 ? new short[cols] : null;
            for (int r = a; r < b; r++) {
                m.row(r, f, 0);
                long at = (long) (r - r0) * cols * size;
                if (bf16) {
                    for (int i = 0; i < cols; i++) h[i] = SafeTensorsWriter.toBf16(f[i]);
                    Segments.copy(MemorySegment.ofArray(h), 0, dst, at, 2L * cols);
                } else {
                    Segments.copy(MemorySegment.ofArray(f), 0, dst, at, 4L * cols);
                }
            }
        });
    }

    /** Values per task of the parallel {@link #decodeRows(Tensor, int, int, MemorySegment, boolean)}. */
    private static final int DECODE_PART_VALUES = 1 << 16;

    @Override
    public Activations allocate(int rows, int cols) {
        return new CpuActivations(rows, cols);
    }

    @Override
    public KvCache kvCache(LlamaConfig c, int maxTokens) {
        return new CpuKvCache(c.numLayers(), c.numKvHeads(), c.headDim(), maxTokens, false);
    }

    /** F32 or F16 keys and values. */
    @Override
    public KvCache kvCache(LlamaConfig c, int maxTokens, DType type) {
        if (type != DType.F32 && type != DType.F16)
            throw new AlmaException("the CPU's KV cache holds f32 or f16, not " + type);
        return new CpuKvCache(c.numLayers(), c.numKvHeads(), c.headDim(), maxTokens, type == DType.F16);
    }

    /** Three quarters of the heap not in use (the cache's pages are arrays on the heap). */
    @Override
    public long kvPositionsAvailable(LlamaConfig c, DType type) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return free / 4 * 3 / CpuKvCache.bytesPerPosition(c.numLayers(), c.kvDim(), type == DType.F16);
    }

    private static CpuActivations a(Activations x) {
        return (CpuActivations) x;
    }

    private static CpuWeight w(Weight x) {
        return (CpuWeight) x;
    }

    @Override
    public void embed(Weight table, int[] tokens, Activations out) {
        CpuMatrix m = w(table).matrix;
        CpuActivations o = a(out);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= m.rows)
                throw new AlmaException("token id " + tokens[i] + " is outside the vocabulary of " + m.rows);
            m.row(tokens[i], o.data, i * o.cols);
        }
    }

    @Override
    public void rmsNorm(Activations x, Weight gamma, float eps, int n, Activations out) {
        CpuActivations xi = a(x), o = a(out);
        float[] g = w(gamma).vector;
        int d = xi.cols;
        for (int i = 0; i < n; i++) {
            int off = i * d;
            float ss = Simd.dot(xi.data, off, xi.data, off, d);
            float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int j = 0; j < d; j++) o.data[off + j] = g[j] * (xi.data[off + j] * inv);
        }
    }

    @Override
    public void matmul(Activations x, Weight weight, int n, Activations out) {
        CpuMatrix m = w(weight).matrix;
        CpuActivations xi = a(x), o = a(out);
        checkShapes(xi, m, o);
        if (n == 1) {
            matvecs(xi, new CpuWeight[]{w(weight)}, new Activations[]{out});
        } else if (m.packedGemm(n)) {
            matmulPacked(m, pack(xi, m.cols, n), n, o);
        } else {
            int groups = Math.ceilDiv(m.rows, Gemm.ROWS);
            parallel.forRange(groups, 4, (g0, g1) ->
                    m.matmul(xi.data, n, o.data, g0 * Gemm.ROWS, Math.min(m.rows, g1 * Gemm.ROWS)));
        }
    }

    /** The first {@code n} rows of {@code x} transposed for {@link Gemm#matmulPacked}, in parallel over columns. */
    private float[] pack(CpuActivations x, int cols, int n) {
        float[] xt = new float[Tiles.packedLength(n, cols)];
        int parts = Math.ceilDiv(cols, PACK_COLUMNS);
        parallel.forRange(parts, 1, (p0, p1) ->
                Tiles.pack(x.data, n, cols, xt, p0 * PACK_COLUMNS, Math.min(cols, p1 * PACK_COLUMNS)));
        return xt;
    }

    private void matmulPacked(CpuMatrix m, float[] xt, int n, CpuActivations out) {
        int groups = Math.ceilDiv(m.rows, Gemm.PACKED_ROWS);
        parallel.forRange(groups, 4, (g0, g1) ->
                Gemm.matmulPacked(m, xt, n, out.data, g0 * Gemm.PACKED_ROWS, Math.min(m.rows, g1 * Gemm.PACKED_ROWS)));
    }

    /**
     * The products of one input with several weights: for one token, a single parallel loop over all their chunks
     * (one loop instead of several, and the threads' last chunks of one matrix overlap the next matrix's).
     */
    @Override
    public void matmul(Activations x, Weight[] ws, int n, Activations[] outs) {
        if (ws.length != outs.length) throw new IllegalArgumentException(ws.length + " weights, " + outs.length + " outputs");
        if (n != 1) {
            CpuActivations xi = a(x);
            float[] xt = null;
            for (int j = 0; j < ws.length; j++) {
                CpuMatrix m = w(ws[j]).matrix;
                if (!m.packedGemm(n)) {
                    matmul(x, ws[j], n, outs[j]);
                    continue;
                }
                checkShapes(xi, m, a(outs[j]));
                if (xt == null) xt = pack(xi, m.cols, n); // every weight here has x's columns (checkShapes)
                matmulPacked(m, xt, n, a(outs[j]));
            }
            return;
        }
        CpuWeight[] cw = new CpuWeight[ws.length];
        for (int j = 0; j < ws.length; j++) {
            cw[j] = w(ws[j]);
            checkShapes(a(x), cw[j].matrix, a(outs[j]));
        }
        matvecs(a(x), cw, outs);
    }

    private static void checkShapes(CpuActivations x, CpuMatrix m, CpuActivations out) {
        if (x.cols != m.cols || out.cols != m.rows)
            throw new IllegalArgumentException("matmul " + m.tensor.name() + " " + m.rows + "x" + m.cols
                    + " with activations of " + x.cols + " columns into " + out.cols);
    }

    /** One token times each weight, as one parallel loop over the chunks of all of them. */
    private void matvecs(CpuActivations x, CpuWeight[] ws, Activations[] outs) {
        int k = ws.length;
        int[] chunk = new int[k], first = new int[k + 1];
        for (int j = 0; j < k; j++) {
            CpuMatrix m = ws[j].matrix;
            chunk[j] = matvecChunkRows(m.rows, m.rowBytes(), parallel.threads());
            first[j + 1] = first[j] + Math.ceilDiv(m.rows, chunk[j]);
        }
        parallel.forRange(first[k], 1, (c0, c1) -> {
            int j = 0;
            for (int c = c0; c < c1; c++) {
                while (c >= first[j + 1]) j++;
                CpuMatrix m = ws[j].matrix;
                int r0 = (c - first[j]) * chunk[j];
                m.matvec(x.data, a(outs[j]).data, r0, Math.min(m.rows, r0 + chunk[j]));
            }
        });
    }

    /** Most bytes of weights per matrix-vector chunk (its four streams, {@link CpuMatrix#matvec}, are up to 256 KB apart). */
    static final long MATVEC_CHUNK_BYTES = 1L << 20;

    /**
     * Rows per chunk of a matrix-vector product: a quarter of a thread's share of the rows, at most
     * {@link #MATVEC_CHUNK_BYTES} of weights, a multiple of 4. Threads take chunks in turn, so one that runs slower
     * (or starts late) leaves its last chunks to the others: with one chunk per thread a Q8_0 decode step of the 940M
     * model took 34-36 ms where two or four per thread took 28-31 (same JVM, alternating).
     */
    static int matvecChunkRows(int rows, long rowBytes, int threads) {
        long byBytes = Math.max(4, MATVEC_CHUNK_BYTES / Math.max(1, rowBytes));
        long byThreads = Math.ceilDiv(rows, 4L * threads);
        long chunk = Math.max(4, Math.min(byBytes, byThreads));
        return (int) Math.max(1, Math.min(rows, Math.ceilDiv(chunk, 4) * 4));
    }

    /** Inverse frequencies of the last (head size, theta) seen: the same for every layer and step of a model. */
    private record RopeTable(int headDim, double theta, float[] invFreq) {
    }

    private volatile RopeTable ropeTable;

    /**
     * A thread's cosines and sines of the last position it rotated: a decode step rotates the queries and keys of
     * every layer at the same position, so they are computed once per step instead of twice per layer.
     */
    private static final class RopeAngles {
        final float[] invFreq, cos, sin;
        int position = -1;

        RopeAngles(float[] invFreq) {
            this.invFreq = invFreq;
            this.cos = new float[invFreq.length];
            this.sin = new float[invFreq.length];
        }
    }

    private static final ThreadLocal<RopeAngles> ROPE_ANGLES = ThreadLocal.withInitial(() -> new RopeAngles(new float[0]));

    @Override
    public void rope(Activations x, int heads, int headDim, int[] positions, double theta, boolean interleaved) {
        CpuActivations xi = a(x);
        int half = headDim / 2;
        RopeTable table = ropeTable;
        if (table == null || table.headDim != headDim || table.theta != theta)
            ropeTable = table = new RopeTable(headDim, theta, Rope.inverseFrequencies(headDim, theta));
        float[] invFreq = table.invFreq;
        RopeAngles angles = ROPE_ANGLES.get();
        if (angles.cos.length != half || angles.invFreq != invFreq) ROPE_ANGLES.set(angles = new RopeAngles(invFreq));
        for (int i = 0; i < positions.length; i++) {
            float[] cos = angles.cos, sin = angles.sin;
            if (angles.position != positions[i]) {
                Rope.angles(invFreq, positions[i], cos, sin);
                angles.position = positions[i];
            }
            for (int h = 0; h < heads; h++) {
                int off = i * xi.cols + h * headDim;
                for (int j = 0; j < half; j++) {
                    int p0 = interleaved ? off + 2 * j : off + j;
                    int p1 = interleaved ? p0 + 1 : p0 + half;
                    float a0 = xi.data[p0], a1 = xi.data[p1];
                    xi.data[p0] = a0 * cos[j] - a1 * sin[j];
                    xi.data[p1] = a1 * cos[j] + a0 * sin[j];
                }
            }
        }
    }

    @Override
    public void attention(Activations q, Activations k, Activations v, KvCache kvCache, int layer,
                          int[] seqs, int[] positions, int n, Activations out) {
        CpuKvCache cache = (CpuKvCache) kvCache;
        CpuActivations qa = a(q), ka = a(k), va = a(v), o = a(out);
        int kvDim = cache.kvDim, ps = CpuKvCache.PAGE_SIZE;
        int hd = cache.headDim, heads = qa.cols / hd, kvHeads = kvDim / hd;
        int group = heads / kvHeads;
        for (int i = 0; i < n; i++) {
            int page = cache.pageForWrite(seqs[i], positions[i]);
            int slot = positions[i] % ps;
            for (int h = 0; h < kvHeads; h++) {
                cache.store(ka.data, i * kvDim + h * hd, page, cache.offset(layer, 0, h, slot), hd);
                cache.store(va.data, i * kvDim + h * hd, page, cache.offset(layer, 1, h, slot), hd);
            }
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        int[][] tables = new int[n][];
        int maxLen = 0;
        for (int i = 0; i < n; i++) {
            tables[i] = cache.pages(seqs[i]);
            maxLen = Math.max(maxLen, positions[i] + 1);
        }
        // each task: one token's query heads [h0, h1), a share of the heads per thread
        int splits = Math.min(heads, parallel.threads()), len = maxLen;
        parallel.forRange(n * splits, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int i = t / splits, part = t % splits;
                int h0 = heads * part / splits, h1 = heads * (part + 1) / splits;
                float[] scores = SCORES.get();
                if (scores.length < (h1 - h0) * len) SCORES.set(scores = new float[Math.max((h1 - h0) * len, 2 * scores.length)]);
                Attention.heads(qa.data, i * qa.cols, cache, tables[i], layer, h0, h1, group, positions[i], scale,
                        scores, o.data, i * o.cols);
            }
        });
    }

    @Override
    public void swiglu(Activations gate, Activations up, int n) {
        CpuActivations g = a(gate), u = a(up);
        int cols = g.cols;
        parallel.forRange(n * cols, 4096, (from, to) -> {
            if (Simd.AVAILABLE) Simd.V.swiglu(g.data, u.data, from, to);
            else for (int i = from; i < to; i++) g.data[i] = Simd.silu(g.data[i]) * u.data[i];
        });
    }

    @Override
    public void addScaled(Activations x, Activations y, float scale, int n) {
        CpuActivations xi = a(x), yi = a(y);
        int len = n * xi.cols;
        if (scale == 1f) for (int i = 0; i < len; i++) xi.data[i] += yi.data[i];
        else for (int i = 0; i < len; i++) xi.data[i] += scale * yi.data[i];
    }

    @Override
    public void copyRows(Activations src, int[] rows, Activations dst) {
        CpuActivations s = a(src), d = a(dst);
        for (int i = 0; i < rows.length; i++) System.arraycopy(s.data, rows[i] * s.cols, d.data, i * d.cols, s.cols);
    }

    @Override
    public void read(Activations x, int row, float[] dst, int dstOff) {
        CpuActivations xi = a(x);
        System.arraycopy(xi.data, row * xi.cols, dst, dstOff, xi.cols);
    }

    /** Stops the threads and releases the weight copies; the backend and its weights are unusable after. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        parallel.close();
        weights.close();
    }
}
