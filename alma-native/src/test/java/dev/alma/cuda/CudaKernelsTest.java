package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;
import java.util.function.IntUnaryOperator;

import static dev.alma.cuda.TestData.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA kernels beyond the {@code Backend} interface (argmax/top-k, fused GEMVs, the tensor-core GEMM held to its
 * exact-rounding twin, random fills, long split attention, error reporting) against their CPU twins. Skipped, with
 * the reason, where no CUDA device can be used.
 */
class CudaKernelsTest {
    private static CudaBackend gpu;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        if (CudaRuntime.unavailableReason() != null) return;
        gpu = new CudaBackend(0);
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
        if (cpu != null) cpu.close();
    }

    @BeforeEach
    void needsDevice() {
        GpuAssumptions.assumeDevice();
    }

    @Test
    void argmaxAndTopKMatchTheTwin() {
        Random rnd = new Random(20);
        int n = 5, cols = 32003;
        float[][] x = randomRows(rnd, n, cols, 10f);
        x[1][7] = x[1][9] = 100f;  // tie: lower index first
        x[2][cols - 1] = Float.NaN;
        Activations xa = gpu.allocate(n, cols);
        for (int i = 0; i < n; i++) gpu.write(xa, i, x[i]);
        int[] am = gpu.argmax(xa, n);
        CudaBackend.TopK top = gpu.topK(xa, n, 12);
        for (int i = 0; i < n; i++) {
            assertEquals(Twins.argmax(x[i]), am[i], "argmax row " + i);
            int[] want = Twins.topK(x[i], 12);
            assertArrayEquals(want, top.indices()[i], "top-k row " + i);
            for (int j = 0; j < 12; j++) assertEquals(x[i][want[j]], top.values()[i][j]);
        }
    }

    /** Beam search's read-back: each row's top-k and log-sum-exp against the host's (float64 sums). */
    @Test
    void rowTopsMatchTheHostsOnRowsWithTiesAndMaskedEntries() {
        Random rnd = new Random(26);
        for (int cols : new int[]{32000, 1003, 10}) {
            int n = 5, k = 10;
            float[][] x = randomRows(rnd, n, cols, 12f);
            x[1][3] = x[1][5] = 40f;  // tie: lower index first
            for (int j = 0; j < cols; j += 2) x[2][j] = Float.NEGATIVE_INFINITY;  // masked (banned) entries
            Activations xa = gpu.allocate(n + 1, cols);
            for (int i = 0; i < n; i++) gpu.write(xa, i, x[i]);
            RowTops got = gpu.rowTops(xa, n, k), want = RowTops.of(x, k);
            for (int i = 0; i < n; i++) {
                String what = cols + " columns, row " + i;
                assertArrayEquals(want.ids()[i], got.ids()[i], "top-k ids " + what);
                assertArrayEquals(want.values()[i], got.values()[i], "top-k values " + what);
                assertEquals(want.logSumExp()[i], got.logSumExp()[i], 2e-6 * Math.abs(want.logSumExp()[i]),
                        "log-sum-exp " + what);
            }
        }
    }

    @Test
    void fusedQkvAndGateUpMatchTheirTwins() {
        Random rnd = new Random(21);
        for (DType type : new DType[]{DType.BF16, DType.F16, DType.F32})
            for (int n : new int[]{1, 5, 8, 11}) {
                int cols = 136, rq = 72, rk = 24, rows = 100;
                float[] wq = round(random(rnd, rq * cols, 1f), type), wk = round(random(rnd, rk * cols, 1f), type);
                float[] wg = round(random(rnd, rows * cols, 1f), type), wu = round(random(rnd, rows * cols, 1f), type);
                float[][] x = randomRows(rnd, n, cols, 1f);
                Weight gq = gpu.weight(tensor("q", type, rq, cols, wq)), gk = gpu.weight(tensor("k", type, rk, cols, wk));
                Activations xa = load(gpu, x, n, cols);
                Activations q = gpu.allocate(n, rq), k = gpu.allocate(n, rk), v = gpu.allocate(n, rk);
                gpu.matmulQkv(xa, gq, gk, gk, n, q, k, v);
                double tol = n > 1 && type != DType.F32 ? BackendContract.HALF_TOL : BackendContract.F32_TOL;
                double[][] refQ = Reference.matmul(x, wq, rq, cols), refK = Reference.matmul(x, wk, rk, cols);
                assertTrue(relError(read(gpu, q, n), refQ) <= tol, "fused q " + type + " n=" + n);
                assertTrue(relError(read(gpu, k, n), refK) <= tol, "fused k " + type + " n=" + n);
                assertTrue(relError(read(gpu, v, n), refK) <= tol, "fused v " + type + " n=" + n);
                Activations g = gpu.allocate(n, rows), u = gpu.allocate(n, rows);
                Weight gg = gpu.weight(tensor("g", type, rows, cols, wg)), gu = gpu.weight(tensor("u", type, rows, cols, wu));
                gpu.gateUpSwiglu(xa, gg, gu, n, g, u);
                float[][] twin = Twins.gateUpSwiglu(cpu, type, rows, cols, wg, wu, x);
                double err = relError(read(gpu, g, n), twin);
                assertTrue(err <= tol, "gate/up swiglu " + type + " n=" + n + ": " + err);
                // the model's gate/up pair through the Backend seam (two matrices in one fused launch for n <= 8)
                Activations g2 = gpu.allocate(n, rows), u2 = gpu.allocate(n, rows);
                gpu.matmul(xa, new Weight[]{gg, gu}, n, new Activations[]{g2, u2});
                assertTrue(relError(read(gpu, g2, n), Reference.matmul(x, wg, rows, cols)) <= tol, "pair g " + type + " n=" + n);
                assertTrue(relError(read(gpu, u2, n), Reference.matmul(x, wu, rows, cols)) <= tol, "pair u " + type + " n=" + n);
            }
    }

    /**
     * The decode GEMVs launched while programmatic dependent launch is on (one token: CUDA-core kernels, five:
     * tensor-core ones, both loading their first weight chunks before waiting for their predecessor) give the
     * products of the ordinary launches bit for bit, and match the twin: rows shorter than the preloaded chunks,
     * covered by them in part, and much longer; plain, accumulating, gate/up + SwiGLU with the RMSNorm folded in, and
     * Q/K/V with RMSNorm and RoPE folded in.
     */
    @Test
    void decodeGemvsUnderPdlGiveTheOrdinaryProducts() {
        Random rnd = new Random(28);
        boolean before = gpu.usesPdl();
        try {
            for (int n : new int[]{1, 5})
                for (DType type : new DType[]{DType.BF16, DType.F16, DType.F32})
                    for (int cols : new int[]{8, 72, 1000, 1032, 4104}) {
                        DecodeProducts p = new DecodeProducts(rnd, type, n, cols);
                        float[][][] plain = p.run(false), pdl = p.run(true);
                        String what = type + " n=" + n + " cols " + cols;
                        for (int j = 0; j < plain.length; j++)
                            for (int i = 0; i < n; i++)
                                assertArrayEquals(plain[j][i], pdl[j][i], what + ", product " + j + " row " + i);
                        double tol = n > 1 && type != DType.F32 ? BackendContract.HALF_TOL : BackendContract.F32_TOL;
                        double err = relError(pdl[0], Reference.matmul(p.x, p.w, p.rows, cols));
                        assertTrue(err <= tol, what + ": " + err);
                    }
        } finally {
            gpu.usePdl(before);
        }
    }

    /**
     * The streamed one-token GEMVs (alma_gemv_set_variant 1 to 7: one to four persistent blocks per SM streaming
     * weight rows into rings of shared-memory stages, ~100 to ~200 KB per SM; the emulator has 8 SMs and compute
     * capability 9.0) against the warp-per-row
     * kernels and the twin: every product of a decode step, with 16-bit weights (streamed) and float32 ones (which keep
     * the warp kernels), rows of 1 to 514 chunks, shares of 5 rows (all in the first stages) up to 150 (the ring of
     * stages refilled several times over), and 9,000 rows of 8 columns (shares capped at 1,024 rows: more blocks).
     */
    @Test
    void streamedGemvsGiveTheWarpKernelsProducts() {
        Random rnd = new Random(29);
        int before = AlmaCuda.alma_gemv_variant();
        try {
            for (int[] s : new int[][]{{40, 8, 2, 1}, {40, 1000, 2, 1}, {40, 4112, 2, 1}, {1200, 4104, 16, 8},
                    {600, 11008, 2, 2}, {9000, 8, 2, 2}})
                for (DType type : new DType[]{DType.BF16, DType.F16, DType.F32}) {
                    if (type == DType.F32 && s[0] > 100) continue;
                    int rows = s[0], cols = s[1];
                    DecodeProducts p = new DecodeProducts(rnd, type, 1, cols, rows, s[2], s[3]);
                    CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(0), "alma_gemv_set_variant(0)");
                    float[][][] warp = p.run(false);
                    for (int variant = 1; variant <= CudaBackend.GEMV_STREAM_VARIANTS; variant++) {
                        CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(variant), "alma_gemv_set_variant");
                        float[][][] streamed = p.run(false);
                        String what = "variant " + variant + " " + type + " " + rows + "x" + cols;
                        for (int j = 0; j < warp.length; j++) {
                            double err = relError(streamed[j], warp[j]);
                            assertTrue(err <= BackendContract.F32_TOL, what + ", product " + j + ": " + err);
                        }
                        double err = relError(streamed[0], Reference.matmul(p.x, p.w, rows, cols));
                        assertTrue(err <= BackendContract.F32_TOL, what + " against float64: " + err);
                    }
                }
            assertEquals(1, AlmaCuda.alma_gemv_set_variant(CudaBackend.GEMV_STREAM_VARIANTS + 1));  // cudaErrorInvalidValue
        } finally {
            CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(before), "alma_gemv_set_variant");
        }
    }

    /**
     * With alma_gemv_stream_beams on, the decode products of 2 to 5 tokens (beam search) take the streamed kernels
     * where rows are at most 4,096 16-bit columns, x rounded to the weights' type as the tensor-core GEMVs round it:
     * the tensor-core products up to summation order and float64 within the 16-bit tolerance, for a variant of two
     * blocks per SM and one of four, shares within the first stages and refilled, shares capped by their sums' room
     * (9,000 rows); 6 tokens and wider rows keep the tensor-core kernels, bit for bit.
     */
    @Test
    void streamedGemvsOfBeamsMatchTheTensorCoreProducts() {
        Random rnd = new Random(31);
        int before = AlmaCuda.alma_gemv_variant();
        try {
            // rows, cols, heads, kv heads, tokens
            for (int[] s : new int[][]{{40, 8, 2, 1, 2}, {40, 1000, 2, 1, 5}, {1200, 4096, 16, 8, 3},
                    {9000, 8, 2, 2, 5}, {600, 4104, 2, 2, 5}, {40, 1000, 2, 1, 6}})
                for (DType type : new DType[]{DType.BF16, DType.F16}) {
                    int rows = s[0], cols = s[1], n = s[4];
                    boolean streams = n <= 5 && cols <= 4096;
                    DecodeProducts p = new DecodeProducts(rnd, type, n, cols, rows, s[2], s[3]);
                    CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(0), "alma_gemv_set_variant(0)");
                    CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(0), "alma_gemv_stream_beams(0)");
                    float[][][] tc = p.run(false);
                    CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(1), "alma_gemv_stream_beams(1)");
                    for (int variant : new int[]{2, 5}) {
                        CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(variant), "alma_gemv_set_variant");
                        float[][][] streamed = p.run(false);
                        String what = "variant " + variant + " " + type + " " + rows + "x" + cols + " n=" + n;
                        if (!streams) {
                            assertTrue(Arrays.deepEquals(tc, streamed), what + ": not the tensor-core kernels");
                            continue;
                        }
                        if (cols >= 1000)  // the order of the sums differs: these are not the tensor-core kernels
                            assertFalse(Arrays.deepEquals(tc, streamed), what + ": the tensor-core kernels");
                        for (int j = 0; j < tc.length; j++) {
                            double err = relError(streamed[j], tc[j]);
                            assertTrue(err <= BackendContract.F32_TOL, what + ", product " + j + ": " + err);
                        }
                        double err = relError(streamed[0], Reference.matmul(p.x, p.w, rows, cols));
                        assertTrue(err <= BackendContract.HALF_TOL, what + " against float64: " + err);
                    }
                }
            assertEquals(1, AlmaCuda.alma_gemv_stream_beams(2));  // cudaErrorInvalidValue
        } finally {
            CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(CudaBackend.gemvStreamBeams() ? 1 : 0),
                    "alma_gemv_stream_beams");
            CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(before), "alma_gemv_set_variant");
        }
    }

    /**
     * The decode GEMVs of random weights for {@code n} random rows of {@code cols}: a plain product, one added to a
     * residual, gate/up + SwiGLU with the RMSNorm folded in, and Q/K/V with RMSNorm and RoPE folded in (and the
     * normalised rows that writes).
     */
    private static final class DecodeProducts {
        static final int ROWS = 40, HD = 16;
        final int n, cols, rows, heads, kvHeads;
        final float[] w;
        final float[][] x, base;
        final int[] qkvRows, positions;
        final Weight gw, gu, gamma;
        final Weight[] gqkv = new Weight[3];

        DecodeProducts(Random rnd, DType type, int n, int cols) {
            this(rnd, type, n, cols, ROWS, 2, 1);
        }

        DecodeProducts(Random rnd, DType type, int n, int cols, int rows, int heads, int kvHeads) {
            this.n = n;
            this.cols = cols;
            this.rows = rows;
            this.heads = heads;
            this.kvHeads = kvHeads;
            qkvRows = new int[]{heads * HD, kvHeads * HD, kvHeads * HD};
            w = round(random(rnd, rows * cols, 1f), type);
            gw = gpu.weight(tensor("w", type, rows, cols, w));
            gu = gpu.weight(tensor("u", type, rows, cols, round(random(rnd, rows * cols, 1f), type)));
            gamma = gpu.weight(tensor("gamma", DType.F32, 0, cols, random(rnd, cols, 2f)));
            for (int j = 0; j < 3; j++)
                gqkv[j] = gpu.weight(tensor("qkv" + j, type, qkvRows[j], cols,
                        round(random(rnd, qkvRows[j] * cols, 1f), type)));
            positions = new int[n];
            for (int i = 0; i < n; i++) positions[i] = 37 + i;
            x = randomRows(rnd, n, cols, 1f);
            base = randomRows(rnd, n, rows, 1f);
        }

        /** The products (each [n][rows]) with programmatic dependent launch on or off. */
        float[][][] run(boolean pdl) {
            gpu.usePdl(pdl);
            Activations xa = load(gpu, x, n, cols), y = gpu.allocate(n, rows), acc = load(gpu, base, n, rows);
            Activations g = gpu.allocate(n, rows), u = gpu.allocate(n, rows), h = gpu.allocate(n, cols);
            Activations[] qkv = new Activations[3];
            for (int j = 0; j < 3; j++) qkv[j] = gpu.allocate(n, qkvRows[j]);
            gpu.matmul(xa, gw, n, y);
            gpu.matmulAdd(xa, gw, n, gpu.allocate(n, rows), acc);
            gpu.rmsNormGateUpSwiglu(xa, gamma, 1e-5f, n, h, gw, gu, g, u);
            gpu.rmsNormQkvRope(xa, gamma, 1e-5f, n, h, gqkv, qkv, heads, kvHeads, HD, positions, 10000.0, false);
            return new float[][][]{read(gpu, y, n), read(gpu, acc, n), read(gpu, g, n), read(gpu, qkv[0], n),
                    read(gpu, qkv[1], n), read(gpu, qkv[2], n), read(gpu, h, n)};
        }
    }

    @Test
    void tensorCoreGemmAndSkinnyGemvMatchTheirExactlyRoundedTwin() {
        Random rnd = new Random(22);
        for (DType type : new DType[]{DType.BF16, DType.F16})
            for (int[] s : new int[][]{{129, 136, 9}, {256, 512, 130}, {300, 1000, 257}, {8, 8, 200}, {37, 1000, 2},
                    {4096, 4104, 5}, {15, 8, 8}, {33, 40, 3}}) {
                int rows = s[0], cols = s[1], n = s[2];
                float[] w = round(random(rnd, rows * cols, 1f), type);
                float[][] x = randomRows(rnd, n, cols, 1f);
                Activations xa = load(gpu, x, n, cols), out = gpu.allocate(n, rows);
                gpu.matmul(xa, gpu.weight(tensor("w", type, rows, cols, w)), n, out);
                double err = relError(read(gpu, out, n), Twins.gemm16(cpu, type, rows, cols, w, x));
                assertTrue(err <= BackendContract.F32_TOL, (n > 8 ? "GEMM " : "tensor-core GEMV ") + type + " " + rows + "x" + cols + " n=" + n + ": " + err);
            }
    }

    /**
     * Every GEMM kernel (mma.sync, and the wgmma shapes where the device has compute capability 9.0 — the emulator
     * does) on shapes around their tiles: tokens past one or two 128-token tiles, weight rows past 128 and 256, k not
     * a multiple of the 64-wide k tile and long enough (6-7 tiles) to cycle the shared-memory stages, and 1,030 tokens
     * (nine tile rows: a full group of eight and a partial one for the grouped walk; 27 or 45 output tiles, more than
     * the persistent TMA kernels' blocks on the emulator's 8 SMs, so their blocks take several tiles each and their
     * stages' mbarrier phases carry over from tile to tile). The TMA kernels (7-9) read the edges' zeros from TMA.
     */
    @Test
    @Tag("wgmma")
    void bothGemmKernelsMatchTheExactlyRoundedTwin() {
        Random rnd = new Random(26);
        forEachVariant(AlmaCuda::alma_gemm_set_variant, "alma_gemm_set_variant", 11, variant -> {
            assertEquals(variant, AlmaCuda.alma_gemm_variant());
            for (int[] s : new int[][]{{300, 200, 129}, {40, 328, 9}, {513, 72, 20}, {257, 8, 131}, {264, 392, 1030}}) {
                int rows = s[0], cols = s[1], n = s[2];
                DType type = (rows + variant) % 2 == 0 ? DType.BF16 : DType.F16;
                float[] w = round(random(rnd, rows * cols, 1f), type);
                float[][] x = randomRows(rnd, n, cols, 1f);
                Activations xa = load(gpu, x, n, cols), out = gpu.allocate(n, rows);
                gpu.matmul(xa, gpu.weight(tensor("w", type, rows, cols, w)), n, out);
                double err = relError(read(gpu, out, n), Twins.gemm16(cpu, type, rows, cols, w, x));
                assertTrue(err <= BackendContract.F32_TOL, "GEMM variant " + variant + " " + type + " " + rows + "x"
                        + cols + " n=" + n + ": " + err);
            }
        });
    }

    /**
     * Every tensor-core prompt attention (mma.sync, and both wgmma kernels — V transposed in shared memory, or read
     * N-major — where the device has compute capability 9.0; the emulator does) against float64 on prompts around the
     * wgmma kernels' 128-row and 128-key tiles (key tiles wholly below a warp's diagonal included), with grouped
     * queries: bf16 operands, so within the 16-bit tolerance.
     */
    @Test
    @Tag("wgmma")
    void bothPromptAttentionKernelsMatchFloat64() {
        Random rnd = new Random(27);
        int heads = 4, kvHeads = 2, hd = 128;
        LlamaConfig cfg = new LlamaConfig(32, heads * hd, 64, 1, heads, kvHeads, hd, 1e-5f, 10000, 4096, false, 1, 2,
                "float32", false);
        forEachVariant(AlmaCuda::alma_attention_prefill_set_variant, "alma_attention_prefill_set_variant", 3,
                variant -> {
            for (int n : new int[]{9, 129, 300}) {
                float[][] q = randomRows(rnd, n, heads * hd, 1f), k = randomRows(rnd, n, kvHeads * hd, 1f),
                        v = randomRows(rnd, n, kvHeads * hd, 1f);
                Activations out = gpu.allocate(n, heads * hd);
                try (KvCache cache = gpu.kvCache(cfg, n + 16)) {
                    int seq = cache.create();
                    int[] seqs = new int[n], pos = new int[n];
                    for (int i = 0; i < n; i++) {
                        seqs[i] = seq;
                        pos[i] = i;
                    }
                    gpu.attention(load(gpu, q, n, heads * hd), load(gpu, k, n, kvHeads * hd),
                            load(gpu, v, n, kvHeads * hd), cache, 0, seqs, pos, n, out);
                }
                double[][] ref = new double[n][];
                for (int i = 0; i < n; i++) ref[i] = Reference.attention(q[i], k, v, i, heads, kvHeads, hd);
                double err = relError(read(gpu, out, n), ref);
                assertTrue(err <= BackendContract.HALF_TOL, "prompt attention variant " + variant + " n=" + n + ": " + err);
            }
        });
    }

    @Test
    void everyTensorCoreGemvLaunchShapeMatchesTheExactlyRoundedTwin() {
        Random rnd = new Random(25);
        forEachVariant(AlmaCuda::alma_gemv_tc_set_variant, "alma_gemv_tc_set_variant", 6, variant -> {
            for (int[] s : new int[][]{{37, 1000, 2}, {100, 136, 5}, {16, 264, 8}, {49, 8, 3}}) {
                int rows = s[0], cols = s[1], n = s[2];
                DType type = variant % 2 == 0 ? DType.BF16 : DType.F16;
                float[] w = round(random(rnd, rows * cols, 1f), type), u = round(random(rnd, rows * cols, 1f), type);
                float[][] x = randomRows(rnd, n, cols, 1f);
                String what = "variant " + variant + " " + type + " " + rows + "x" + cols + " n=" + n;
                Activations xa = load(gpu, x, n, cols), out = gpu.allocate(n, rows), up = gpu.allocate(n, rows);
                Weight wt = gpu.weight(tensor("w", type, rows, cols, w)), ut = gpu.weight(tensor("u", type, rows, cols, u));
                gpu.matmul(xa, wt, n, out);
                double err = relError(read(gpu, out, n), Twins.gemm16(cpu, type, rows, cols, w, x));
                assertTrue(err <= BackendContract.F32_TOL, "tensor-core GEMV " + what + ": " + err);
                gpu.gateUpSwiglu(xa, wt, ut, n, out, up);
                float[][] g = Twins.gemm16(cpu, type, rows, cols, w, x), v = Twins.gemm16(cpu, type, rows, cols, u, x);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < rows; j++) g[i][j] = g[i][j] / (1f + (float) Math.exp(-g[i][j])) * v[i][j];
                err = relError(read(gpu, out, n), g);
                assertTrue(err <= BackendContract.F32_TOL, "tensor-core gate/up SwiGLU " + what + ": " + err);
                // The RMSNorm folded in: products of γ ⊙ x rounded to 16 bits, scaled by 1 / rms afterwards.
                float[] gamma = random(rnd, cols, 2f), inv = new float[n];
                float[][] gx = new float[n][cols];
                for (int i = 0; i < n; i++) {
                    float ss = 0f;
                    for (int j = 0; j < cols; j++) {
                        ss += x[i][j] * x[i][j];
                        gx[i][j] = gamma[j] * x[i][j];
                    }
                    inv[i] = (float) (1.0 / Math.sqrt(ss / cols + 1e-5f));
                }
                Weight gt = gpu.weight(tensor("gamma", DType.F32, 0, cols, gamma));
                Activations h = gpu.allocate(n, cols);
                gpu.rmsNormMatmul(xa, gt, 1e-5f, n, h, new Weight[]{wt}, new Activations[]{out});
                float[][] want = Twins.gemm16(cpu, type, rows, cols, w, gx);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < rows; j++) want[i][j] *= inv[i];
                err = relError(read(gpu, out, n), want);
                assertTrue(err <= BackendContract.F32_TOL, "tensor-core GEMV of normalised rows " + what + ": " + err);
                gpu.rmsNormGateUpSwiglu(xa, gt, 1e-5f, n, h, wt, ut, out, up);
                g = Twins.gemm16(cpu, type, rows, cols, w, gx);
                v = Twins.gemm16(cpu, type, rows, cols, u, gx);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < rows; j++) {
                        float gi = g[i][j] * inv[i];
                        g[i][j] = gi / (1f + (float) Math.exp(-gi)) * (v[i][j] * inv[i]);
                    }
                err = relError(read(gpu, out, n), g);
                assertTrue(err <= BackendContract.F32_TOL, "tensor-core gate/up SwiGLU of normalised rows " + what + ": "
                        + err);
            }
        });
    }

    /**
     * Runs {@code body} with each of a kernel knob's {@code count} variants selected — skipping one the device
     * refuses with cudaErrorInvalidDeviceFunction (a Hopper-only kernel elsewhere) — checks that the knob refuses
     * {@code count} with cudaErrorInvalidValue, and leaves variant 0 (the default) selected whatever happens.
     */
    private static void forEachVariant(IntUnaryOperator knob, String name, int count, IntConsumer body) {
        try {
            for (int variant = 0; variant < count; variant++) {
                int rc = knob.applyAsInt(variant);
                if (variant > 0 && rc == 98) continue;  // cudaErrorInvalidDeviceFunction
                CudaRuntime.check(rc, name + "(" + variant + ")");
                body.accept(variant);
            }
            assertEquals(1, knob.applyAsInt(count));  // cudaErrorInvalidValue
        } finally {
            CudaRuntime.check(knob.applyAsInt(0), name + "(0)");
        }
    }

    @Test
    void float32MathKeepsSixteenBitProductsExact() {
        Random rnd = new Random(24);
        try (CudaBackend exact = new CudaBackend(0, false)) {
            for (DType type : new DType[]{DType.BF16, DType.F16})
                for (int[] s : new int[][]{{129, 136, 9}, {70, 100, 33}, {40, 64, 5}}) {
                    int rows = s[0], cols = s[1], n = s[2];
                    float[] w = round(random(rnd, rows * cols, 1f), type);
                    float[][] x = randomRows(rnd, n, cols, 1f);
                    Activations xa = load(exact, x, n, cols), out = exact.allocate(n, rows);
                    exact.matmul(xa, exact.weight(tensor("w", type, rows, cols, w)), n, out);
                    double err = relError(read(exact, out, n), Reference.matmul(x, w, rows, cols));
                    assertTrue(err <= BackendContract.F32_TOL, "f32 math " + type + " n=" + n + ": " + err);
                }
        }
    }

    @Test
    void randomWeightsAreTheTwinsValues() {
        for (DType type : new DType[]{DType.BF16, DType.F16, DType.F32}) {
            Weight w = gpu.randomWeight("r", type, 40, 24, 77, 0.25f);
            Activations out = gpu.allocate(2, 24);
            gpu.embed(w, new int[]{0, 39}, out);
            float[][] got = read(gpu, out, 2);
            assertArrayEquals(Twins.randomRow(77, 0, 24, 0.25f, type), got[0]);
            assertArrayEquals(Twins.randomRow(77, 39, 24, 0.25f, type), got[1]);
        }
    }

    @Test
    void longContextDecodeSplitsTheKeysAndMatchesTheTwin() {
        int heads = 8, kvHeads = 2, hd = 128, len = 3000;
        LlamaConfig cfg = new LlamaConfig(32, heads * hd, 64, 1, heads, kvHeads, hd, 1e-5f, 10000, 8192, false, 1, 2,
                "float32", false);
        Random rnd = new Random(23);
        float[][] q = randomRows(rnd, len, heads * hd, 1f), k = randomRows(rnd, len, kvHeads * hd, 1f),
                v = randomRows(rnd, len, kvHeads * hd, 1f);
        float[][][] outs = new float[2][][];
        int b = 0;
        for (var be : new dev.alma.backend.Backend[]{gpu, cpu}) {
            try (KvCache cache = be.kvCache(cfg, len)) {
                int seq = cache.create();
                int[] pos = new int[len - 1], seqs = new int[len - 1];
                for (int i = 0; i < len - 1; i++) pos[i] = i;
                java.util.Arrays.fill(seqs, seq);
                float[][] q0 = java.util.Arrays.copyOf(q, len - 1), k0 = java.util.Arrays.copyOf(k, len - 1),
                        v0 = java.util.Arrays.copyOf(v, len - 1);
                Activations out = be.allocate(len, heads * hd);
                be.attention(load(be, q0, len, heads * hd), load(be, k0, len, kvHeads * hd), load(be, v0, len, kvHeads * hd),
                        cache, 0, seqs, pos, len - 1, out);
                Activations o1 = be.allocate(1, heads * hd);
                be.attention(load(be, new float[][]{q[len - 1]}, 1, heads * hd),
                        load(be, new float[][]{k[len - 1]}, 1, kvHeads * hd),
                        load(be, new float[][]{v[len - 1]}, 1, kvHeads * hd), cache, 0, new int[]{seq},
                        new int[]{len - 1}, 1, o1);
                outs[b++] = read(be, o1, 1);
            }
        }
        assertTrue(CudaBackend.splits(1, kvHeads, len, gpu.multiprocessors()) > 1);
        double err = relError(outs[0], outs[1]);
        assertTrue(err <= BackendContract.F32_TOL, "decode over " + len + " keys: " + err);
    }

    /**
     * The paged attention's short-split path (alma_attention_paged_set_variant(1): a split's page-table entries and
     * all its key and value rows loaded at once) gives the general path's outputs bit for bit, and the twin's: one
     * token and three forked beams after prompts of 1 to 300 keys (splits of at most 32 keys, and longer ones that
     * stay on the general path), grouped queries, head dims 64, 96 (lanes past the row) and 128, over f32 and f16
     * caches; and the general path's other row layouts (head dim 38: one element a lane; 256: two groups a lane).
     */
    @Test
    void shortSplitPagedAttentionEqualsTheGeneralPath() {
        Random rnd = new Random(29);
        int before = AlmaCuda.alma_attention_paged_variant();
        List<int[]> cases = new java.util.ArrayList<>();
        for (int hd : new int[]{64, 96, 128})
            for (int len : new int[]{1, 7, 32, 33, 160, 300}) cases.add(new int[]{hd, len});
        for (int hd : new int[]{38, 256})
            for (int len : new int[]{7, 160}) cases.add(new int[]{hd, len});
        try {
            for (DType cacheType : new DType[]{DType.F32, DType.F16})
                for (int[] c : cases) {
                    int hd = c[0], len = c[1];
                    int heads = 8, kvHeads = 2;
                    LlamaConfig cfg = new LlamaConfig(32, heads * hd, 64, 1, heads, kvHeads, hd, 1e-5f, 10000, 4096,
                            false, 1, 2, "float32", false);
                    float[][] q = randomRows(rnd, len + 4, heads * hd, 1f), k = randomRows(rnd, len + 4, kvHeads * hd, 1f),
                            v = randomRows(rnd, len + 4, kvHeads * hd, 1f);
                    float[][][] outs = new float[3][][];
                    for (int run = 0; run < 3; run++) {  // general path, short path, the CPU twin
                        dev.alma.backend.Backend be = run < 2 ? gpu : cpu;
                        if (run < 2) CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(run), "variant");
                        try (KvCache cache = be.kvCache(cfg, len + 64, cacheType)) {
                            int seq = cache.create();
                            int[] pos = new int[len], seqs = new int[len];
                            for (int i = 0; i < len; i++) pos[i] = i;
                            java.util.Arrays.fill(seqs, seq);
                            be.attention(load(be, java.util.Arrays.copyOf(q, len), len, heads * hd),
                                    load(be, java.util.Arrays.copyOf(k, len), len, kvHeads * hd),
                                    load(be, java.util.Arrays.copyOf(v, len), len, kvHeads * hd), cache, 0, seqs, pos,
                                    len, be.allocate(len, heads * hd));
                            List<float[]> rows = new java.util.ArrayList<>();
                            Activations o1 = be.allocate(1, heads * hd);
                            be.attention(load(be, new float[][]{q[len]}, 1, heads * hd),
                                    load(be, new float[][]{k[len]}, 1, kvHeads * hd),
                                    load(be, new float[][]{v[len]}, 1, kvHeads * hd), cache, 0, new int[]{seq},
                                    new int[]{len}, 1, o1);
                            rows.addAll(List.of(read(be, o1, 1)));
                            int[] beams = {seq, cache.fork(seq), cache.fork(seq)};
                            float[][] bq = {q[len + 1], q[len + 2], q[len + 3]}, bk = {k[len + 1], k[len + 2], k[len + 3]},
                                    bv = {v[len + 1], v[len + 2], v[len + 3]};
                            Activations o3 = be.allocate(3, heads * hd);
                            be.attention(load(be, bq, 3, heads * hd), load(be, bk, 3, kvHeads * hd),
                                    load(be, bv, 3, kvHeads * hd), cache, 0, beams, new int[]{len + 1, len + 1, len + 1},
                                    3, o3);
                            rows.addAll(List.of(read(be, o3, 3)));
                            outs[run] = rows.toArray(float[][]::new);
                        }
                    }
                    String what = cacheType + " cache, head dim " + hd + ", " + len + " keys";
                    for (int i = 0; i < outs[0].length; i++)
                        assertArrayEquals(outs[0][i], outs[1][i], what + ": short path, row " + i);
                    double err = relError(outs[1], outs[2]);
                    assertTrue(err <= BackendContract.F32_TOL, what + ": " + err);
                }
        } finally {
            CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(before), "variant");
        }
        assertEquals(1, AlmaCuda.alma_attention_paged_set_variant(2));  // cudaErrorInvalidValue
    }

    @Test
    void badArgumentsAreReportedNotCrashed() {
        CudaException e = assertThrows(CudaException.class,
                () -> CudaRuntime.check(AlmaCuda.alma_rope(0, 0, 1, 1, 3, 3, 10000, 0, gpu.stream()), "alma_rope"));
        assertTrue(e.getMessage().contains("alma_rope"), e.getMessage());
        assertThrows(dev.alma.AlmaException.class, () -> gpu.embed(gpu.weight(tensor("e", DType.F32, 2, 4,
                new float[8])), new int[]{2}, gpu.allocate(1, 4)));
    }
}
