package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.KvCache;
import dev.alma.backend.Weight;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Timings of the CUDA kernels on the first device, printed as a table and written to a file: device copy
 * bandwidth, GEMV bandwidth (bf16 and int8 Q8_0: the decode bound), tensor-core GEMM TFLOP/s beside cuBLAS's
 * ({@link Cublas}, when it loads), causal prefill attention TFLOP/s, paged decode attention, and whole decode steps
 * of a LLaMA-7B-shape model with random bf16 weights (greedy and 5 beams; launched one by one, then as CUDA graphs)
 * and with Q8_0 matrices (greedy, graphs).
 * Usage: {@code java -cp ... dev.alma.cuda.KernelBench [results-file] [--quick | --tiny] [--streamed]}: {@code --quick}
 * times 8 layers instead of 32 and skips the 8192³ GEMM; {@code --tiny} divides every size by 16 (2 layers), to try the
 * whole benchmark quickly, e.g. under the CPU emulator of cpp/emu — its figures mean nothing there; {@code --streamed}
 * times only the decode GEMVs and steps (greedy and 5 beams), the warp-per-row and tensor-core kernels and then the
 * streamed ones.
 */
public final class KernelBench {
    private final CudaBackend gpu;
    private final long stream;
    private final boolean quick;
    /** Launch shapes of the tensor-core GEMV (alma_gemv_tc_set_variant). */
    private static final int TC_VARIANTS = 6;

    /** Every size is divided by this (16 with --tiny, else 1). */
    private final int div;
    private final List<String> rows = new ArrayList<>();
    private double copyGbs;

    private final Path out;

    /** Only the one-token GEMVs and greedy decode (--streamed). */
    private final boolean streamedOnly;

    private KernelBench(CudaBackend gpu, boolean quick, int div, boolean streamedOnly, Path out) {
        this.gpu = gpu;
        this.streamedOnly = streamedOnly;
        this.stream = gpu.stream();
        this.quick = quick;
        this.div = div;
        this.out = out;
    }

    /** A size of the full benchmark, scaled down by {@link #div} (to a multiple of 32, Q8_0's block, from 64 up). */
    private int s(int size) {
        int v = size / div;
        return v >= 64 ? v / 32 * 32 : v;
    }

    public static void main(String[] args) throws IOException {
        Path out = null;
        boolean quick = false, streamedOnly = false;
        int div = 1;
        for (String a : args) {
            if (a.equals("--quick")) quick = true;
            else if (a.equals("--streamed")) streamedOnly = true;
            else if (a.equals("--tiny")) {
                quick = true;
                div = 16;
            } else out = Path.of(a);
        }
        String why = CudaRuntime.unavailableReason();
        if (why != null) {
            System.err.println("KernelBench: CUDA is unavailable: " + why);
            System.exit(2);
        }
        if (out != null) Files.deleteIfExists(out);
        try (CudaBackend gpu = new CudaBackend(0)) {
            KernelBench b = new KernelBench(gpu, quick, div, streamedOnly, out);
            b.add(String.format(Locale.ROOT, "# device: %s (sm_%d, %d SMs)", gpu.deviceName(), gpu.capability(),
                    gpu.multiprocessors()));
            try {
                b.run();
            } finally {
                b.printTargets();
                if (b.cublas != null) b.cublas.close();
            }
        }
    }

    private void run() {
        // The GEMV rows below are the warp-per-row kernels' unless they say streamed (the backend's default on
        // compute capability 9.0; streamedGemvs() times those).
        CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(0), "alma_gemv_set_variant(0)");
        if (streamedOnly) {
            gpu.usePdl(false);
            add("# --streamed: the decode GEMVs and steps, a warp per row (tensor cores for beams), then streamed");
            copy();
            for (int[] d : new int[][]{{4096, 4096}, {11008, 4096}, {4096, 11008}, {32000, 4096}})
                gemv(s(d[0]), s(d[1]), 1, false);
            gemvSwiglu(s(11008), s(4096), 1);
            fusedGemvs(s(4096), s(11008));
            decode(1, false, true, true);
            gemv(s(4096), s(4096), 5, true);
            gemvSwiglu(s(11008), s(4096), 5);
            decode(5, false, true, true);
            if (gpu.capability() >= 90) streamedGemvs();
            else add("# streamed GEMVs: compute capability 9.0 or later only");
            return;
        }
        // Rows are of ordinary launches and the paged attention's general path unless they say PDL or short (the
        // backend's defaults, compute capability 9.0, are both on).
        gpu.usePdl(false);
        CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(0), "alma_attention_paged_set_variant");
        add("# rows without PDL and with the paged attention's general path unless they say otherwise");
        copy();
        for (int[] d : new int[][]{{4096, 4096}, {11008, 4096}, {4096, 11008}, {32000, 4096}})
            gemv(s(d[0]), s(d[1]), 1, false);
        gemv(s(4096), s(4096), 5, false);
        gemv(s(4096), s(4096), 5, true);
        gemv(s(11008), s(4096), 8, true);
        gemv(s(11008), s(4096), 5, true);
        gemvSwiglu(s(11008), s(4096), 1);
        gemvSwiglu(s(11008), s(4096), 5);
        fusedGemvs(s(4096), s(11008));
        // The tensor-core GEMV's other launch shapes (alma_gemv_tc_set_variant), then back to the default.
        for (int variant = 1; variant < TC_VARIANTS; variant++) {
            CudaRuntime.check(AlmaCuda.alma_gemv_tc_set_variant(variant), "alma_gemv_tc_set_variant");
            tcShape = variant;
            add("# tensor-core GEMV variant " + variant);
            gemv(s(4096), s(4096), 5, true);
            gemv(s(11008), s(4096), 5, true);
            gemvSwiglu(s(11008), s(4096), 5);
        }
        CudaRuntime.check(AlmaCuda.alma_gemv_tc_set_variant(0), "alma_gemv_tc_set_variant");
        tcShape = 0;
        gemvQ8_0(s(4096), s(4096), 1);
        gemvQ8_0(s(11008), s(4096), 1);
        gemvQ8_0(s(11008), s(4096), 5);
        int[] gemmSizes = quick ? new int[]{4096} : new int[]{4096, 8192};
        for (int size : gemmSizes) gemm(s(size), s(size), s(size), CudaWeight.BF16, 0);
        gemm(s(4096), s(4096), s(4096), CudaWeight.F16, 0);
        prefillAttention(s(4096), s(32), s(32), 128, false, 0);
        prefillAttention(s(4096), s(32), s(32), 128, true, 0);
        decodeAttention(s(4096), s(32), s(32), 128, 1);
        decodeAttention(s(4096), s(32), s(32), 128, 5);
        decodeAttention(s(4096), s(32), s(32), 128, 1, DType.F16);  // --kv-cache f16: half the bytes
        decodeAttention(s(4096), s(32), s(32), 128, 5, DType.F16);
        // Short contexts (a translation's): the split size, swept (1 tile per split is the default).
        for (int per : new int[]{1, 2, 4, 8}) {
            CudaBackend.minSplitTiles = per;
            add("# paged attention with at least " + per + " 32-key tiles per split");
            decodeAttention(s(160), s(32), s(32), 128, 1);
            decodeAttention(s(160), s(32), s(32), 128, 5);
            if (per > 1) decodeAttention(s(4096), s(32), s(32), 128, 1);
        }
        CudaBackend.minSplitTiles = 1;
        // The short-split path (alma_attention_paged_set_variant 1) on the same short contexts.
        CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(1), "alma_attention_paged_set_variant");
        add("# paged attention, short-split path");
        decodeAttention(s(160), s(32), s(32), 128, 1);
        decodeAttention(s(160), s(32), s(32), 128, 5);
        CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(0), "alma_attention_paged_set_variant");
        decode(1, false, false, false);
        decode(5, false, false, false);
        decode(1, true, false, false);
        // Graphs only: the paged attention's short-split path, programmatic dependent launches (alma_set_pdl), both.
        for (int beams : new int[]{1, 5}) decode(beams, false, false, true);
        if (gpu.capability() >= 90)
            for (boolean shortSplits : new boolean[]{false, true})
                for (int beams : new int[]{1, 5}) decode(beams, false, true, shortSplits);
        // Last, so that a fault in them (a sticky error ends the process's CUDA context) spoils nothing above.
        int rc = AlmaCuda.alma_gemm_set_variant(1);
        CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(0), "alma_gemm_set_variant");
        if (rc != 0) {
            add("# Hopper wgmma kernels: not on this device (" + AlmaCuda.alma_error_string(rc) + ")");
            return;
        }
        add("# Hopper wgmma kernels (alma_gemm_set_variant 1..10, 7..9 fed by TMA, 10 by size / alma_attention_prefill_set_variant 1..2)");
        for (int v = 1; v < GEMM_VARIANTS; v++)
            for (int size : gemmSizes) gemm(s(size), s(size), s(size), CudaWeight.BF16, v);
        gemm(s(4096), s(4096), s(4096), CudaWeight.F16, CudaBackend.WGMMA_GEMM_VARIANT);
        // The products of a prompt (a LLaMA-7B layer's Q/K/V/O, gate/up and down) at several prompt lengths.
        add("# prompt GEMMs, bf16: TFLOP/s of cuBLAS (f32 out) and % of it per wgmma shape");
        for (int m : new int[]{128, 512, 1024, 2048})
            for (int[] nk : new int[][]{{4096, 4096}, {11008, 4096}, {4096, 11008}})
                gemmShapes(s(m), s(nk[0]), s(nk[1]), new int[]{4, 7, 8, 9, 10});
        for (int v = 1; v <= 2; v++) prefillAttention(s(4096), s(32), s(32), 128, true, v);
        prefillAttention(s(8192), s(32), s(32), 128, true, CudaBackend.WGMMA_PREFILL_VARIANT);
        streamedGemvs();
    }

    /**
     * The streamed one-token GEMVs (alma_gemv_set_variant 1 to 7: one to four blocks per SM sharing ~100 to ~200 KB of
     * shared memory; weight rows bulk-copied into shared memory) in the rows of the warp-per-row kernels: the plain
     * GEMVs, gate/up + SwiGLU, the fused ones, and the greedy 7B decode with the backend's defaults (PDL, short
     * splits). Then back to the backend's default.
     */
    private void streamedGemvs() {
        try {
            String[] shapes = {"", "one block per SM, ~200 KB", "two blocks per SM, ~100 KB each",
                    "one block per SM, ~100 KB", "three blocks per SM, ~67 KB each", "four blocks per SM, ~50 KB each",
                    "two blocks per SM, ~75 KB each", "two blocks per SM, ~56 KB each"};
            for (int v = 1; v <= CudaBackend.GEMV_STREAM_VARIANTS; v++) {
                CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(v), "alma_gemv_set_variant(" + v + ")");
                gemvStream = v;
                add("# streamed one-token GEMVs, alma_gemv_set_variant " + v + " (" + shapes[v] + ")");
                for (int[] d : new int[][]{{4096, 4096}, {11008, 4096}, {4096, 11008}, {32000, 4096}})
                    gemv(s(d[0]), s(d[1]), 1, false);
                gemvSwiglu(s(11008), s(4096), 1);
                fusedGemvs(s(4096), s(11008));
                decode(1, false, true, true);
            }
            // The products of five beams streamed too (alma_gemv_stream_beams; rows up to 4,096 columns: all but the
            // MLP's down projection), against the tensor-core GEMVs' rows and 5-beam step above.
            CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(1), "alma_gemv_stream_beams(1)");
            streamBeams = true;
            for (int v : new int[]{2, 4, 5}) {
                CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(v), "alma_gemv_set_variant(" + v + ")");
                gemvStream = v;
                add("# beams' GEMVs streamed (alma_gemv_stream_beams 1), alma_gemv_set_variant " + v);
                gemv(s(4096), s(4096), 5, true);
                gemvSwiglu(s(11008), s(4096), 5);
                decode(5, false, true, true);
            }
        } finally {
            CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(CudaBackend.gemvStreamBeams() ? 1 : 0),
                    "alma_gemv_stream_beams");
            streamBeams = false;
            int v = CudaBackend.gemvStream();
            CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(v), "alma_gemv_set_variant(" + v + ")");
            gemvStream = 0;
        }
    }

    /** The one-token GEMV kernels selected now (alma_gemv_set_variant): 0 a warp per row, 1-7 streamed. */
    private int gemvStream;
    /** Whether the products of several tokens are streamed too (alma_gemv_stream_beams). */
    private boolean streamBeams;

    /**
     * alma_gemm_set_variant's choices: 0 mma.sync, 1..10 the wgmma shapes (7..9: TMA, warp-specialised; 10: 8 or 9 by
     * the product's tile count).
     */
    private static final int GEMM_VARIANTS = 11;

    private interface Launch {
        int run();
    }

    /** Mean milliseconds of one launch over enough repetitions (after a warm-up), via CUDA events. */
    private double time(String what, Launch launch) {
        for (int i = 0; i < 3; i++) CudaRuntime.check(launch.run(), what);
        long[] e0 = new long[1], e1 = new long[1];
        CudaRuntime.check(AlmaCuda.alma_event_create(e0), "cudaEventCreate");
        CudaRuntime.check(AlmaCuda.alma_event_create(e1), "cudaEventCreate");
        try {
            int reps = 5;
            float[] ms = new float[1];
            while (true) {
                CudaRuntime.check(AlmaCuda.alma_event_record(e0[0], stream), "cudaEventRecord");
                for (int i = 0; i < reps; i++) CudaRuntime.check(launch.run(), what);
                CudaRuntime.check(AlmaCuda.alma_event_record(e1[0], stream), "cudaEventRecord");
                CudaRuntime.check(AlmaCuda.alma_event_elapsed(e0[0], e1[0], ms), "cudaEventElapsedTime");
                if (ms[0] > 200 || reps >= 10_000) return ms[0] / reps;
                reps *= 4;
            }
        } finally {
            AlmaCuda.alma_event_destroy(e0[0]);
            AlmaCuda.alma_event_destroy(e1[0]);
        }
    }

    /**
     * Mean milliseconds of one launch when {@code count} of them (consecutive calls of {@code launch}) run back to back
     * in a captured CUDA graph, as in a decode step: {@link #time} of the graph, divided by {@code count}.
     */
    private double timeGraph(String what, int count, Launch launch) {
        long[] exec = new long[1];
        CudaRuntime.check(AlmaCuda.alma_graph_begin(stream), "alma_graph_begin");
        try {
            for (int i = 0; i < count; i++) CudaRuntime.check(launch.run(), what);
        } finally {
            CudaRuntime.check(AlmaCuda.alma_graph_end(stream, exec), "alma_graph_end");
        }
        try {
            return time("graph of " + what, () -> AlmaCuda.alma_graph_launch(exec[0], stream)) / count;
        } finally {
            CudaRuntime.check(AlmaCuda.alma_graph_destroy(exec[0]), "alma_graph_destroy");
        }
    }

    private void row(String kernel, String shape, double ms, String metric) {
        add(String.format(Locale.ROOT, "%-26s %-28s %10.4f ms  %s", kernel, shape, ms, metric));
    }

    /** Prints a line and appends it to the results file at once, so a run cut short keeps what it measured. */
    private void add(String line) {
        rows.add(line);
        System.out.println(line);
        if (out == null) return;
        try {
            Files.writeString(out, line + "\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void copy() {
        long bytes = (1L << 30) / div / div;
        try (DeviceBuffer a = DeviceBuffer.allocate(bytes, "copy source"); DeviceBuffer b = DeviceBuffer.allocate(bytes, "copy dest")) {
            double ms = time("cudaMemcpy D2D", () -> AlmaCuda.alma_memcpy_d2d(b.ptr, a.ptr, bytes, stream));
            copyGbs = 2.0 * bytes / (ms * 1e6);
            row("copy (read+write)", bytes / (1 << 20) + " MiB", ms, String.format(Locale.ROOT, "%.0f GB/s", copyGbs));
        }
    }

    private CudaWeight random(DType type, int rows, int cols) {
        return (CudaWeight) gpu.randomWeight("bench", type, rows, cols, 1234, 0.02f);
    }

    /** Weight copies cycled through by the GEMV timings so that the weights come from DRAM, not the 50 MB L2. */
    private static final long COLD_BYTES = 512L << 20;

    private long coldBytes() {
        return COLD_BYTES / div / div;
    }

    /** GEMV of n rows of float32 activations: CUDA cores, or tensor cores (activations rounded to bf16 as read). */
    private void gemv(int rows, int cols, int n, boolean tensorCores) {
        long bytes = (long) rows * cols * 2;
        int copies = (int) Math.max(1, (coldBytes() + bytes - 1) / bytes);
        CudaWeight[] w = new CudaWeight[copies];
        for (int i = 0; i < copies; i++) w[i] = random(DType.BF16, rows, cols);
        CudaWeight x = random(DType.F32, n, cols);
        CudaActivations y = (CudaActivations) gpu.allocate(n, rows);
        int[] next = {0};
        String name = tensorCores ? "alma_gemv_tc" : "alma_gemv";
        Launch one = () -> {  // each call on the next copy of the weight
            CudaWeight wi = w[next[0]++ % copies];
            return tensorCores
                    ? AlmaCuda.alma_gemv_tc(wi.data.ptr, wi.type, x.data.ptr, y.data.ptr, rows, cols, n, stream)
                    : AlmaCuda.alma_gemv(wi.data.ptr, wi.type, x.data.ptr, y.data.ptr, rows, cols, n, stream);
        };
        String shape = rows + "x" + cols;
        String gemvTarget = "GEMV bf16 n=" + n + (tensorCores ? " tc " : " ") + shape + ", % of copy";
        boolean streamed = gemvStream > 0 && (!tensorCores || streamBeams);
        String tcHow = streamed ? ", streamed " + gemvStream : tensorCores ? ", tc shape " + tcShape : "";
        String kernel = "gemv bf16 " + (streamed ? "streamed " : tensorCores ? "tc " : "") + "n=" + n;
        gemvRow(kernel, shape, bytes, time(name, one), gemvTarget, "alone" + tcHow);
        // As a decode step runs them: back to back in a CUDA graph (no launch gap between them).
        gemvRow("  in a graph of 32", shape, bytes, timeGraph(name, 32, one), gemvTarget, "32 in a graph" + tcHow);
        if (n == 1 && !tensorCores && gpu.capability() >= 90) {
            // The same graph with programmatic dependent launches: each GEMV starts, loading its first weight chunks,
            // while the one before it drains.
            gpu.usePdl(true);
            try {
                gemvRow("  in a graph of 32, PDL", shape, bytes, timeGraph(name + " (PDL)", 32, one), gemvTarget,
                        "32 in a graph, PDL" + tcHow);
            } finally {
                gpu.usePdl(false);
            }
        }
        for (CudaWeight c : w) c.close();
        x.close();
        y.close();
    }

    /** A GEMV row: {@code ms} per call reading {@code bytes}, as GB/s and % of copy, noted for {@code target}. */
    private void gemvRow(String kernel, String shape, long bytes, double ms, String target, String how) {
        double gbs = bytes / (ms * 1e6);
        row(kernel, shape, ms, String.format(Locale.ROOT, "%.0f GB/s (%.0f%% of copy)", gbs, 100 * gbs / copyGbs));
        if (target != null) target(target, 100 * gbs / copyGbs, how);
    }

    /** A Q8_0 weight with arbitrary int8 values (random f16 bits) and scales up to 2e-4 (|w| ≤ 0.026): for timing. */
    private CudaWeight q8_0(int rows, int cols, long seed) {
        long values = (long) rows * cols, qBytes = (values + 255) & ~255L;
        DeviceBuffer b = DeviceBuffer.allocate(qBytes + values / 32 * 2, "bench Q8_0");
        CudaRuntime.check(AlmaCuda.alma_fill_uniform(b.ptr, CudaWeight.F16, qBytes / 2, seed, 1f, stream), "fill");
        CudaRuntime.check(AlmaCuda.alma_fill_uniform(b.ptr + qBytes, CudaWeight.F16, values / 32, seed + 1, 2e-4f,
                stream), "fill");
        return new CudaWeight("bench Q8_0", b, CudaWeight.Q8_0, rows, cols, b.ptr + qBytes);
    }

    /** The int8 weight-only GEMV of n float32 rows; bandwidth counts the int8 values and the f16 scales. */
    private void gemvQ8_0(int rows, int cols, int n) {
        long bytes = (long) rows * cols + (long) rows * cols / 32 * 2;
        int copies = (int) Math.max(1, (coldBytes() + bytes - 1) / bytes);
        CudaWeight[] w = new CudaWeight[copies];
        for (int i = 0; i < copies; i++) w[i] = q8_0(rows, cols, 77 + 2L * i);
        CudaWeight x = random(DType.F32, n, cols);
        CudaActivations y = (CudaActivations) gpu.allocate(n, rows);
        int[] next = {0};
        double ms = time("alma_gemv_q8_0", () -> {
            CudaWeight wi = w[next[0]++ % copies];
            return AlmaCuda.alma_gemv_q8_0(wi.data.ptr, wi.scales, x.data.ptr, y.data.ptr, rows, cols, n, stream);
        });
        double gbs = bytes / (ms * 1e6);
        row("gemv q8_0 n=" + n, rows + "x" + cols, ms, String.format(Locale.ROOT, "%.0f GB/s (%.0f%% of copy)", gbs,
                100 * gbs / copyGbs));
        for (CudaWeight c : w) c.close();
        x.close();
        y.close();
    }

    /** The fused gate/up + SwiGLU GEMV of n rows (tensor cores for n > 1, as the backend picks). */
    private void gemvSwiglu(int rows, int cols, int n) {
        long bytes = 2L * rows * cols * 2;
        int copies = (int) Math.max(1, (coldBytes() + bytes - 1) / bytes);
        CudaWeight[] g = new CudaWeight[copies], u = new CudaWeight[copies];
        for (int i = 0; i < copies; i++) {
            g[i] = random(DType.BF16, rows, cols);
            u[i] = random(DType.BF16, rows, cols);
        }
        CudaWeight x = random(DType.F32, n, cols);
        CudaActivations y = (CudaActivations) gpu.allocate(n, rows);
        int[] next = {0};
        double ms = time(n > 1 ? "alma_gemv_tc_swiglu" : "alma_gemv_swiglu", () -> {
            int i = next[0]++ % copies;
            return n > 1
                    ? AlmaCuda.alma_gemv_tc_swiglu(g[i].data.ptr, u[i].data.ptr, g[i].type, x.data.ptr, y.data.ptr,
                            rows, cols, n, stream)
                    : AlmaCuda.alma_gemv_swiglu(g[i].data.ptr, u[i].data.ptr, g[i].type, x.data.ptr, y.data.ptr,
                            rows, cols, 1, stream);
        });
        boolean streamed = gemvStream > 0 && (n == 1 || streamBeams);
        gemvRow("gemv gate/up+swiglu" + (n > 1 ? (streamed ? " streamed" : " tc") + " n=" + n : ""),
                "2x " + rows + "x" + cols, bytes, ms, "GEMV gate/up+SwiGLU n=" + n + " 2x" + rows + "x" + cols + ", % of copy",
                streamed ? "alone, streamed " + gemvStream : n > 1 ? "tc shape " + tcShape : "alone");
        for (int i = 0; i < copies; i++) {
            g[i].close();
            u[i].close();
        }
        x.close();
        y.close();
    }

    /**
     * The one-token fused GEMVs of a decode step, 32 back to back in a graph, with and without what is folded into
     * them: Q/K/V (three {@code hidden}² matrices) plain, with the RMSNorm, with the RMSNorm and RoPE; gate/up +
     * SwiGLU plain and with the RMSNorm. The difference is the fold's cost against the launch it saves.
     */
    private void fusedGemvs(int hidden, int inter) {
        long qkvBytes = 3L * hidden * hidden * 2, ffnBytes = 2L * inter * hidden * 2;
        int copies = (int) Math.max(1, (coldBytes() + qkvBytes - 1) / qkvBytes);
        CudaWeight[][] w = new CudaWeight[copies][];
        for (int i = 0; i < copies; i++)
            w[i] = new CudaWeight[]{random(DType.BF16, hidden, hidden), random(DType.BF16, hidden, hidden),
                    random(DType.BF16, hidden, hidden), random(DType.BF16, inter, hidden),
                    random(DType.BF16, inter, hidden)};
        CudaWeight x = random(DType.F32, 1, hidden), gamma = random(DType.F32, 1, hidden);
        CudaActivations h = (CudaActivations) gpu.allocate(1, hidden), q = (CudaActivations) gpu.allocate(1, hidden),
                k = (CudaActivations) gpu.allocate(1, hidden), v = (CudaActivations) gpu.allocate(1, hidden),
                y = (CudaActivations) gpu.allocate(1, inter);
        DeviceBuffer positions = DeviceBuffer.allocate(4, "bench position");
        positions.upload(new int[]{77}, stream);
        int[] next = {0};
        String qkv = "3x " + hidden + "x" + hidden, ffn = "2x " + inter + "x" + hidden;
        Launch gemv3 = () -> {
            CudaWeight[] c = w[next[0]++ % copies];
            return AlmaCuda.alma_gemv3(c[0].data.ptr, c[1].data.ptr, c[2].data.ptr, c[0].type, hidden, hidden, hidden,
                    x.data.ptr, q.data.ptr, k.data.ptr, v.data.ptr, hidden, 1, stream);
        };
        Launch gemv3Norm = () -> {
            CudaWeight[] c = w[next[0]++ % copies];
            return AlmaCuda.alma_gemv3_norm(c[0].data.ptr, c[1].data.ptr, c[2].data.ptr, c[0].type, hidden, hidden,
                    hidden, x.data.ptr, gamma.data.ptr, 1e-5f, h.data.ptr, q.data.ptr, k.data.ptr, v.data.ptr, hidden,
                    1, stream);
        };
        Launch gemv3NormRope = () -> {
            CudaWeight[] c = w[next[0]++ % copies];
            return AlmaCuda.alma_gemv3_norm_rope(c[0].data.ptr, c[1].data.ptr, c[2].data.ptr, c[0].type, hidden,
                    hidden, hidden, x.data.ptr, gamma.data.ptr, 1e-5f, h.data.ptr, q.data.ptr, k.data.ptr, v.data.ptr,
                    hidden, 1, positions.ptr, 128, 10000.0, 0, stream);
        };
        Launch swiglu = () -> {
            CudaWeight[] c = w[next[0]++ % copies];
            return AlmaCuda.alma_gemv_swiglu(c[3].data.ptr, c[4].data.ptr, c[3].type, x.data.ptr, y.data.ptr, inter,
                    hidden, 1, stream);
        };
        Launch swigluNorm = () -> {
            CudaWeight[] c = w[next[0]++ % copies];
            return AlmaCuda.alma_gemv_swiglu_norm(c[3].data.ptr, c[4].data.ptr, c[3].type, x.data.ptr,
                    gamma.data.ptr, 1e-5f, h.data.ptr, y.data.ptr, inter, hidden, 1, stream);
        };
        add("# fused one-token GEMVs, 32 in a graph: plain, with the RMSNorm folded in, with RoPE too");
        gemvRow("gemv3 (Q/K/V)", qkv, qkvBytes, timeGraph("alma_gemv3", 32, gemv3), null, null);
        gemvRow("gemv3 + norm", qkv, qkvBytes, timeGraph("alma_gemv3_norm", 32, gemv3Norm), null, null);
        gemvRow("gemv3 + norm + rope", qkv, qkvBytes, timeGraph("alma_gemv3_norm_rope", 32, gemv3NormRope), null, null);
        gemvRow("gate/up+swiglu", ffn, ffnBytes, timeGraph("alma_gemv_swiglu", 32, swiglu), null, null);
        gemvRow("gate/up+swiglu + norm", ffn, ffnBytes, timeGraph("alma_gemv_swiglu_norm", 32, swigluNorm), null,
                null);
        for (CudaWeight[] c : w) for (CudaWeight m : c) m.close();
        x.close();
        gamma.close();
        for (CudaActivations a : new CudaActivations[]{h, q, k, v, y}) a.close();
        positions.close();
    }

    /** cuBLAS on the bench's stream, opened at the first GEMM; null when it could not be loaded (said once). */
    private Cublas cublas;
    private boolean cublasTried;

    private Cublas cublas() {
        if (!cublasTried) {
            cublasTried = true;
            try {
                cublas = Cublas.open(stream);
                add("# cuBLAS " + cublas.version() + " from " + cublas.library());
            } catch (CudaException e) {
                add("# cuBLAS unavailable, GEMM shown without its baseline: " + e.getMessage());
            }
        }
        return cublas;
    }

    /** cuBLAS's TFLOP/s per GEMM type and shape, for the wgmma rows that come later. */
    private final java.util.Map<String, Double> cublasTflops = new java.util.HashMap<>();

    /** Issue 8's targets: for each, the best figure measured in this run and how it was measured. */
    private final java.util.Map<String, Best> targets = new java.util.LinkedHashMap<>();

    private record Best(double value, String how) {
    }

    /** The tensor-core GEMV launch shape selected now (alma_gemv_tc_set_variant). */
    private int tcShape;

    /** Notes {@code value} for the target {@code name} if it is the best so far ({@code how}: the option that gave it). */
    private void target(String name, double value, String how) {
        targets.merge(name, new Best(value, how), (old, now) -> now.value() > old.value() ? now : old);
    }

    /** The targets with their best figures, as comment lines (also when the run ends early on an error). */
    private void printTargets() {
        if (targets.isEmpty()) return;
        add("# issue 8's targets: the best of this run (GEMV >= 85% of copy, GEMM >= 80% of cuBLAS, causal attention at"
                + " 4k tokens >= 300 TFLOP/s, decode >= 180 tok/s, 5 beams >= 150 steps/s)");
        for (var e : targets.entrySet())
            add(String.format(Locale.ROOT, "#   %-48s %8.1f  (%s)", e.getKey(), e.getValue().value(), e.getValue().how()));
    }

    /**
     * Tensor-core GEMM {@code [m,k]·[n,k]ᵀ → f32} (variant 0: the mma.sync kernel; 1..6 the wgmma shapes) and, when
     * cuBLAS loads,
     * cublasGemmEx with the same contract (16-bit inputs, float32 accumulation and output) on the same operands,
     * timed with the mma.sync row: TFLOP/s, our share of cuBLAS's, and the largest difference of the two results
     * over the first rows relative to their largest magnitude.
     */
    private void gemm(int m, int n, int k, int type, int variant) {
        boolean wgmma = variant > 0;
        DType dt = type == CudaWeight.BF16 ? DType.BF16 : DType.F16;
        String t = dt.name().toLowerCase(Locale.ROOT);
        String shape = m + "x" + n + "x" + k;
        CudaWeight a = random(dt, m, k), w = random(dt, n, k);
        CudaActivations c = (CudaActivations) gpu.allocate(m, n), ref = (CudaActivations) gpu.allocate(m, n);
        Cublas blas = cublas();
        boolean haveRef = false;
        if (blas != null) {
            int in = type == CudaWeight.BF16 ? Cublas.R_16BF : Cublas.R_16F;
            try {
                if (!wgmma) {
                    double hms = time("cublasGemmEx", () -> {
                        blas.gemm(a.data.ptr, w.data.ptr, ref.data.ptr, m, n, k, in, in);
                        return 0;
                    });
                    row("gemm " + t + " cuBLAS (" + t + " out)", shape, hms, String.format(Locale.ROOT,
                            "%.1f TFLOP/s", 2.0 * m * n * k / (hms * 1e9)));
                    double bms = time("cublasGemmEx", () -> {
                        blas.gemm(a.data.ptr, w.data.ptr, ref.data.ptr, m, n, k, in, Cublas.R_32F);
                        return 0;
                    });
                    cublasTflops.put(t + shape, 2.0 * m * n * k / (bms * 1e9));
                    row("gemm " + t + " cuBLAS (f32 out)", shape, bms, String.format(Locale.ROOT, "%.1f TFLOP/s",
                            cublasTflops.get(t + shape)));
                } else {
                    blas.gemm(a.data.ptr, w.data.ptr, ref.data.ptr, m, n, k, in, Cublas.R_32F);
                }
                haveRef = true;
            } catch (CudaException e) {
                add("# cuBLAS GEMM failed: " + e.getMessage());
            }
        }
        try {
            CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(variant), "alma_gemm_set_variant");
            double ms = time("alma_gemm", () -> AlmaCuda.alma_gemm(a.data.ptr, type, w.data.ptr, type, c.data.ptr, m,
                    n, k, stream));
            double tflops = 2.0 * m * n * k / (ms * 1e9);
            String note = String.format(Locale.ROOT, "%.1f TFLOP/s", tflops);
            Double base = cublasTflops.get(t + shape);
            if (base != null) {
                note += String.format(Locale.ROOT, "; %.0f%% of cuBLAS", 100 * tflops / base);
                if (wgmma) target("GEMM " + t + " " + shape + ", % of cuBLAS", 100 * tflops / base, "shape " + variant);
            }
            if (haveRef) note += String.format(Locale.ROOT, "; max diff %.2e", relativeDifference(c, ref, Math.min(m, 256)));
            row("gemm " + t + (wgmma ? " wgmma " + variant : " mma.sync"), shape, ms, note);
        } finally {
            CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(0), "alma_gemm_set_variant");
        }
        a.close();
        w.close();
        c.close();
        ref.close();
    }

    /**
     * One row: bf16 {@code [m,k]·[n,k]ᵀ → f32} by cuBLAS (TFLOP/s) and by each wgmma shape of {@code variants} (% of
     * cuBLAS), on the same operands; the shapes' results are checked by the tests, not here.
     */
    private void gemmShapes(int m, int n, int k, int[] variants) {
        Cublas blas = cublas();
        if (blas == null) return;
        String shape = m + "x" + n + "x" + k;
        double flop = 2.0 * m * n * k;
        try (CudaWeight a = random(DType.BF16, m, k); CudaWeight w = random(DType.BF16, n, k);
             CudaActivations c = (CudaActivations) gpu.allocate(m, n)) {
            double base = flop / (time("cublasGemmEx", () -> {
                blas.gemm(a.data.ptr, w.data.ptr, c.data.ptr, m, n, k, Cublas.R_16BF, Cublas.R_32F);
                return 0;
            }) * 1e9);
            StringBuilder note = new StringBuilder(String.format(Locale.ROOT, "cuBLAS %.1f TFLOP/s", base));
            double bestMs = Double.MAX_VALUE;
            for (int v : variants) {
                CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(v), "alma_gemm_set_variant");
                try {
                    double ms = time("alma_gemm", () -> AlmaCuda.alma_gemm(a.data.ptr, CudaWeight.BF16, w.data.ptr,
                            CudaWeight.BF16, c.data.ptr, m, n, k, stream));
                    bestMs = Math.min(bestMs, ms);
                    note.append(String.format(Locale.ROOT, "; %d: %.0f%%", v, 100 * flop / (ms * 1e9) / base));
                } finally {
                    CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(0), "alma_gemm_set_variant");
                }
            }
            row("gemm bf16 prompt shapes", shape, bestMs, note.toString());
        } catch (CudaException e) {
            add("# cuBLAS GEMM failed: " + e.getMessage());
        }
    }

    /** max |x − y| / max |y| over the first {@code rows} rows of two float32 results. */
    private double relativeDifference(CudaActivations x, CudaActivations y, int rows) {
        gpu.synchronize();
        float[] xs = new float[x.cols], ys = new float[y.cols];
        double diff = 0, mag = 0;
        for (int r = 0; r < rows; r++) {
            gpu.read(x, r, xs, 0);
            gpu.read(y, r, ys, 0);
            for (int i = 0; i < xs.length; i++) {
                diff = Math.max(diff, Math.abs(xs[i] - ys[i]));
                mag = Math.max(mag, Math.abs(ys[i]));
            }
        }
        return mag == 0 ? diff : diff / mag;
    }

    /**
     * Causal prompt attention TFLOP/s: float32, or tensor cores (the mma.sync kernel, or wgmma kernel {@code variant}
     * of alma_attention_prefill_set_variant, whose difference to the mma.sync result is shown).
     */
    private void prefillAttention(int n, int heads, int kvHeads, int hd, boolean tensorCores, int variant) {
        boolean wgmma = variant > 0;
        DType type = tensorCores ? DType.BF16 : DType.F32;
        CudaWeight q = random(type, n, heads * hd), k = random(type, n, kvHeads * hd), v = random(type, n, kvHeads * hd);
        CudaActivations o = (CudaActivations) gpu.allocate(n, heads * hd), ref = (CudaActivations) gpu.allocate(n, heads * hd);
        float scale = (float) (1 / Math.sqrt(hd));
        Launch tc = () -> AlmaCuda.alma_attention_prefill_tc(q.data.ptr, heads * hd, k.data.ptr, v.data.ptr,
                kvHeads * hd, o.data.ptr, heads * hd, n, heads, kvHeads, hd, scale, stream);
        double flops = 4.0 * n * (n + 1) / 2 * hd * heads;  // QK and PV over the causal half
        String shape = n + " tok, " + heads + "h x " + hd;
        try {
            double ms;
            String note = "";
            if (!tensorCores) {
                ms = time("alma_attention_prefill", () -> AlmaCuda.alma_attention_prefill(q.data.ptr, heads * hd,
                        k.data.ptr, v.data.ptr, kvHeads * hd, o.data.ptr, heads * hd, n, heads, kvHeads, hd, scale, stream));
            } else if (!wgmma) {
                ms = time("alma_attention_prefill_tc", tc);
            } else {
                CudaRuntime.check(AlmaCuda.alma_attention_prefill_tc(q.data.ptr, heads * hd, k.data.ptr, v.data.ptr,
                        kvHeads * hd, ref.data.ptr, heads * hd, n, heads, kvHeads, hd, scale, stream), "mma.sync reference");
                CudaRuntime.check(AlmaCuda.alma_attention_prefill_set_variant(variant), "alma_attention_prefill_set_variant");
                ms = time("alma_attention_prefill_tc", tc);
                note = String.format(Locale.ROOT, "; max diff to mma.sync %.2e", relativeDifference(o, ref, Math.min(n, 256)));
            }
            row(tensorCores ? (wgmma ? "attention prefill bf16 wgmma " + variant : "attention prefill bf16 tc")
                            : "attention prefill f32",
                    shape, ms, String.format(Locale.ROOT, "%.1f TFLOP/s (causal)%s", flops / (ms * 1e9), note));
            if (tensorCores)
                target("causal attention " + shape + ", TFLOP/s", flops / (ms * 1e9),
                        wgmma ? "wgmma variant " + variant : "mma.sync");
        } finally {
            CudaRuntime.check(AlmaCuda.alma_attention_prefill_set_variant(0), "alma_attention_prefill_set_variant");
        }
        q.close();
        k.close();
        v.close();
        o.close();
        ref.close();
    }

    private static LlamaConfig config(int hidden, int inter, int layers, int heads, int kvHeads, int vocab) {
        return new LlamaConfig(vocab, hidden, inter, layers, heads, kvHeads, hidden / heads, 1e-5f, 10000.0, 8192,
                false, 1, 2, "bfloat16", false);
    }

    private void decodeAttention(int len, int heads, int kvHeads, int hd, int beams) {
        decodeAttention(len, heads, kvHeads, hd, beams, DType.F32);
    }

    /** The paged attention of {@code beams} tokens over a cache of {@code cacheType} (f32 or f16) elements. */
    private void decodeAttention(int len, int heads, int kvHeads, int hd, int beams, DType cacheType) {
        LlamaConfig cfg = config(heads * hd, 64, 1, heads, kvHeads, 32);
        try (KvCache cache = gpu.kvCache(cfg, len + 16 * beams + 64, cacheType)) {
            Activations q = gpu.allocate(len, heads * hd), k = gpu.allocate(len, kvHeads * hd),
                    v = gpu.allocate(len, kvHeads * hd), o = gpu.allocate(len, heads * hd);
            int seq = cache.create();
            int[] pos = new int[len], seqs = new int[len];
            for (int i = 0; i < len; i++) pos[i] = i;
            java.util.Arrays.fill(seqs, seq);
            gpu.attention(q, k, v, cache, 0, seqs, pos, len, o);
            int[] beam = new int[beams], bpos = new int[beams];
            beam[0] = seq;
            for (int i = 1; i < beams; i++) beam[i] = cache.fork(seq);
            java.util.Arrays.fill(bpos, len);
            gpu.attention(q, k, v, cache, 0, beam, bpos, beams, o);  // copy-on-write outside the timing
            double ms = time("attention decode", () -> {
                gpu.attention(q, k, v, cache, 0, beam, bpos, beams, o);
                return 0;
            });
            double bytes = (double) beams * (len + 1) * kvHeads * hd * 2
                    * CudaKvCache.elementBytes(((CudaKvCache) cache).type);
            row("attention decode paged" + (cacheType == DType.F16 ? " f16" : ""),
                    beams + " x " + len + " ctx, " + heads + "h", ms,
                    String.format(Locale.ROOT, "%.0f GB/s of KV (splits %d)", bytes / (ms * 1e6),
                            CudaBackend.splits(beams, kvHeads, len + 1, gpu.multiprocessors())));
        }
    }

    /**
     * Whole decode steps of a LLaMA-7B-shape model (random bf16 weights, or Q8_0 for the matrices when {@code int8}),
     * {@code beams} sequences per step; bf16 launched one by one and then as CUDA graphs, Q8_0, programmatic
     * dependent launches ({@code pdl}) and the paged attention's short-split path ({@code shortSplits}) as graphs only.
     */
    private void decode(int beams, boolean int8, boolean pdl, boolean shortSplits) {
        int hidden = s(4096), inter = s(11008), heads = s(32), kvHeads = s(32), vocab = s(32000), prompt = s(128);
        int layers = div > 1 ? 2 : quick ? 8 : 32;
        LlamaConfig cfg = config(hidden, inter, layers, heads, kvHeads, vocab);
        int hd = hidden / heads;
        long[] seed = {1000};
        java.util.function.BiFunction<Integer, Integer, Weight> matrix = (rows, cols) -> int8
                ? q8_0(rows, cols, seed[0] += 2) : random(DType.BF16, rows, cols);
        Weight embed = random(DType.BF16, vocab, hidden), lmHead = matrix.apply(vocab, hidden);
        Weight ones = ones(hidden);
        Weight[][] w = new Weight[layers][];
        for (int l = 0; l < layers; l++)
            w[l] = new Weight[]{matrix.apply(hidden, hidden), matrix.apply(hidden, hidden),
                    matrix.apply(hidden, hidden), matrix.apply(hidden, hidden),
                    matrix.apply(inter, hidden), matrix.apply(inter, hidden), matrix.apply(hidden, inter)};
        try (KvCache cache = gpu.kvCache(cfg, prompt + beams * (prompt + 2 * 64 + 16))) {
            int cap = Math.max(prompt, beams);
            Activations x = gpu.allocate(cap, hidden), h = gpu.allocate(cap, hidden), q = gpu.allocate(cap, hidden),
                    k = gpu.allocate(cap, hidden), v = gpu.allocate(cap, hidden), att = gpu.allocate(cap, hidden),
                    out = gpu.allocate(cap, hidden), gate = gpu.allocate(cap, inter), up = gpu.allocate(cap, inter),
                    logits = gpu.allocate(beams, vocab);
            Weight[][] qkv = new Weight[layers][];
            for (int l = 0; l < layers; l++) qkv[l] = new Weight[]{w[l][0], w[l][1], w[l][2]};
            Activations[] qkvOut = {q, k, v};
            int seq = cache.create();
            int[] tokens = new int[prompt], pos = new int[prompt], seqs = new int[prompt];
            for (int i = 0; i < prompt; i++) {
                tokens[i] = (i * 7919) % vocab;
                pos[i] = i;
                seqs[i] = seq;
            }
            Runnable[] step = new Runnable[1];
            int[][] state = {tokens, seqs, pos};
            step[0] = () -> {
                int n = state[0].length;
                gpu.embed(embed, state[0], x);
                for (int l = 0; l < layers; l++) {
                    gpu.rmsNormQkvRope(x, ones, 1e-5f, n, h, qkv[l], qkvOut, heads, kvHeads, hd, state[2], 10000.0,
                            false);
                    gpu.attention(q, k, v, cache, l, state[1], state[2], n, att);
                    gpu.matmulAdd(att, w[l][3], n, out, x);
                    gpu.rmsNormGateUpSwiglu(x, ones, 1e-5f, n, h, w[l][4], w[l][5], gate, up);
                    gpu.matmulAdd(gate, w[l][6], n, out, x);
                }
            };
            step[0].run();  // prompt
            int[] beamSeqs = new int[beams];
            beamSeqs[0] = seq;
            for (int i = 1; i < beams; i++) beamSeqs[i] = cache.fork(seq);
            int steps = quick ? 8 : 32;
            int[] next = {0};
            int[][] beamTokens = {new int[beams]};
            long[] hostNs = {0};
            // One decode step: the layers, the final norm and LM head, then the next tokens (a host read).
            Runnable decodeStep = () -> {
                int[] bpos = new int[beams];
                java.util.Arrays.fill(bpos, prompt + next[0]++);
                state[0] = beamTokens[0];
                state[1] = beamSeqs;
                state[2] = bpos;
                long h0 = System.nanoTime();
                step[0].run();
                gpu.rmsNormMatmul(x, ones, 1e-5f, beams, h, new Weight[]{lmHead}, new Activations[]{logits});
                hostNs[0] += System.nanoTime() - h0;  // launching, or recording for a graph
                beamTokens[0] = beams == 1 ? gpu.argmax(logits, 1) : pick(gpu.topK(logits, beams, beams));
            };
            String what = (div > 1 ? "tiny " : "7B-shape ") + (int8 ? "q8_0 " : "bf16 ");
            String options = (pdl ? "PDL " : "") + (shortSplits ? "short " : "")
                    + (gemvStream > 0 && (beams == 1 || streamBeams) ? "streamed " + gemvStream + " " : "");
            String mode = beams == 1 ? "greedy" : beams + " beams";
            gpu.usePdl(pdl);
            CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(shortSplits ? 1 : 0),
                    "alma_attention_paged_set_variant");
            try {
                boolean plain = !int8 && !pdl && !shortSplits;
                for (boolean graphs : plain ? new boolean[]{false, true} : new boolean[]{true}) {
                    gpu.useGraphs(graphs);
                    LaunchTape.Stats before = gpu.graphStats();
                    long t0 = 0;
                    for (int s = 0; s < steps + 2; s++) {
                        if (s == 2) {
                            gpu.synchronize();
                            t0 = System.nanoTime();
                            hostNs[0] = 0;
                        }
                        decodeStep.run();
                    }
                    double sec = (System.nanoTime() - t0) / 1e9 / steps;
                    double rate = 1 / sec * (div > 1 ? 1 : 32.0 / layers);  // scaled to 32 layers in quick mode
                    LaunchTape.Stats st = gpu.graphStats();
                    if (!int8)
                        target("decode " + what + mode + (beams == 1 ? ", tok/s" : ", steps/s"), rate,
                                (graphs ? "graph" : "eager") + (pdl ? ", PDL" : "") + (shortSplits ? ", short splits" : "")
                                        + (gemvStream > 0 && (beams == 1 || streamBeams) ? ", streamed GEMVs " + gemvStream : ""));
                    row("decode " + what + options + (graphs ? "graph" : "eager"), mode,
                            sec * 1e3, String.format(Locale.ROOT, "%.1f %s%s; host %.2f ms%s", rate, beams == 1 ? "tok/s" : "steps/s",
                                    layers == 32 || div > 1 ? "" : " (scaled from " + layers + " layers)",
                                    hostNs[0] / 1e6 / steps,
                                    graphs ? String.format(Locale.ROOT, "; graphs captured %d, replayed %d%s",
                                            st.captures() - before.captures(), st.replays() - before.replays(), st.disabledBecause() == null ? "" : "; OFF: " + st.disabledBecause())
                                            : ""));
                }
                if (plain) profileStep(decodeStep, what + mode);
            } finally {
                gpu.usePdl(false);
                CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(0), "alma_attention_paged_set_variant");
            }
        }
        for (Weight[] ws : w) for (Weight x : ws) ((CudaWeight) x).close();
        ((CudaWeight) embed).close();
        ((CudaWeight) lmHead).close();
    }

    /**
     * One step launched kernel by kernel with a CUDA event before and after each launch: GPU time per kernel, largest
     * first, and what the kernels add up to beside the step's time (the rest is launch gaps and the host).
     */
    private void profileStep(Runnable step, String what) {
        try (LaunchProfile profile = new LaunchProfile(stream)) {
            gpu.useGraphs(false);
            step.run();  // warm
            gpu.synchronize();
            profile.totals();
            gpu.profileLaunches(profile);
            long t0 = System.nanoTime();
            step.run();
            gpu.synchronize();
            double stepMs = (System.nanoTime() - t0) / 1e6;
            gpu.profileLaunches(null);
            List<LaunchProfile.Total> totals = new ArrayList<>(profile.totals());
            totals.sort((a, b) -> Double.compare(b.ms(), a.ms()));
            double sum = totals.stream().mapToDouble(LaunchProfile.Total::ms).sum();
            for (LaunchProfile.Total t : totals)
                row("profile " + what, t.kernel() + " x" + t.launches(), t.ms(), String.format(Locale.ROOT,
                        "%.1f us each, %.0f%% of the kernels' time", 1e3 * t.ms() / t.launches(), 100 * t.ms() / sum));
            add(String.format(Locale.ROOT, "# profile %s: kernels %.3f ms of a %.3f ms step launched one by one with "
                    + "events", what, sum, stepMs));
        } finally {
            gpu.useGraphs(true);
        }
    }

    private static int[] pick(CudaBackend.TopK top) {
        int[] t = new int[top.indices().length];
        for (int i = 0; i < t.length; i++) t[i] = top.indices()[i][i % top.indices()[i].length];
        return t;
    }

    private Weight ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return gpu.weight(new Tensor("ones", DType.F32, new long[]{n}, MemorySegment.ofArray(v)));
    }
}
