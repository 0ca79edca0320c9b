package dev.alma.cuda;

import dev.alma.AlmaException;
import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The CUDA backend: weights uploaded once in their stored type (F32, F16, BF16; norm vectors as float32),
 * activations and the paged KV cache in device memory, every operation a kernel of {@code cpp/} on one stream.
 * Matrix products of one row (greedy decoding) use the GEMV kernels with float32 activations, of 2 to
 * {@value #GEMV_MAX_ROWS} rows (beams) with 16-bit weights the tensor-core GEMV (activations rounded to 16 bits),
 * longer ones the tensor-core GEMM (activations rounded to the weight's 16-bit type) or a float32 GEMM
 * (float32 weights, or when tensor-core math is off).
 * Q8_0 (GGUF) weights stay int8 on the device: the int8 GEMV for up to {@value #GEMV_MAX_ROWS} rows, a dequantized
 * copy for the GEMM of prompts. Q4_0 and the K-quants (Q4_K, Q5_K, Q6_K) have no kernels: they are decoded on the
 * host and kept as bf16.
 * Prompts attend with the flash-attention kernel (tensor cores and bf16 operands for head dims 64 and 128 unless
 * tensor-core math is off, float32 otherwise), everything else over the paged cache split across blocks.
 * A decode step (from {@code embed} of at most {@value #GEMV_MAX_ROWS} tokens to the next read) runs as one CUDA
 * graph, replayed while its launches stay the same ({@link LaunchTape}).
 *
 * <p>Operations are serialised on this object (one stream, shared scratch buffers). Beyond {@link Backend} it offers
 * the fused projections, argmax/top-k over logits and helpers for tests and benchmarks.
 */
public final class CudaBackend implements Backend {
    static final int GEMV_MAX_ROWS = 8;
    private static final int MAX_SPLITS = 64;

    /** System property choosing tensor-core math ({@code tensor}, the default) or float32 ({@code f32}). */
    public static final String MATH_PROPERTY = "alma.cuda.math";
    /** System property turning the CUDA graphs of decode steps off ({@code false}); on by default. */
    public static final String GRAPHS_PROPERTY = "alma.cuda.graphs";
    /**
     * On a compute capability 9.0 device the prompts use the Hopper wgmma kernels (the GEMM, and attention with head
     * dim 128), which an H100 runs 2.2× (GEMM) and 1.8× (attention) as fast as the mma.sync ones (cpp/PERF.md, run
     * 8); {@code -Dalma.cuda.wgmma=false} keeps the mma.sync kernels. Process-wide: the kernel choice is the native
     * library's.
     */
    public static final String WGMMA_PROPERTY = "alma.cuda.wgmma";
    /**
     * System property turning off ({@code false}) the RoPE fold of decode steps: RMSNorm and the Q/K/V GEMV, then the
     * RoPE kernel, as in cpp/PERF.md's run 13, instead of one GEMV that also rotates q and k. Results are the same;
     * it is there to time the fold against the launch it saves on the same card (cpp/gpu-check.sh). On by default.
     */
    public static final String ROPE_FOLD_PROPERTY = "alma.cuda.ropeFold";
    /**
     * System property: {@code false} launches the decode GEMVs and paged attention as ordinary kernels; by default
     * they are programmatic dependent launches on a compute capability 9.0 or later device ({@link #usePdl}: 5 beams
     * 161.8 → 168.8 steps/s through {@code alma bench} on an H200, cpp/PERF.md run 14).
     */
    public static final String PDL_PROPERTY = "alma.cuda.pdl";
    /**
     * System property: {@code false} makes the paged attention take its general path for every split, process-wide;
     * by default splits of at most 32 keys take the short path (page-table entries and all key and value rows loaded
     * at once; the same results: greedy 188.8 → 197.7 tok/s through {@code alma bench} on an H200, cpp/PERF.md run 14).
     */
    public static final String PAGED_SHORT_PROPERTY = "alma.cuda.pagedShort";
    /**
     * System property choosing the wgmma GEMM shape of prompts on a compute capability 9.0 device: 1 to 10 (cpp/src/
     * gemm_wgmma.cu lists them; 7-9 are fed by TMA, 10 picks 8 or 9 by the product's size), for timing them through
     * the model on a GPU (cpp/gpu-check.sh). Default {@link #WGMMA_GEMM_VARIANT}; ignored where the wgmma kernels are
     * not used.
     */
    public static final String GEMM_SHAPE_PROPERTY = "alma.cuda.gemmShape";
    /**
     * The wgmma GEMM shape (alma_gemm_set_variant) used on compute capability 9.0: 10, shape 8 (TMA, 128×256 tiles:
     * 93-98% of cuBLAS at 4096³-8192³ on an H200, cpp/PERF.md runs 14-17) for large products, shape 9 (128×128
     * tiles) where its tiles fit in one wave (a short prompt's products).
     */
    static final int WGMMA_GEMM_VARIANT = 10;
    /** The wgmma GEMM shapes alma_gemm_set_variant accepts. */
    static final int WGMMA_GEMM_SHAPES = 10;
    /**
     * System property choosing the one-token CUDA-core GEMVs on a compute capability 9.0 or later device, process-wide:
     * 0 one warp per weight row; 1 to 7 persistent blocks streaming the weight rows into shared memory with bulk copies
     * (1: one block per SM in ~200 KB, 2: two in ~100 KB each, 3: one in ~100 KB, 4: three in ~67 KB each, 5: four in
     * ~50 KB each, 6: two in ~75 KB each, 7: two in ~56 KB each; alma_gemv_set_variant, cpp/src/gemv_stream.cu). Without it
     * {@link #GEMV_STREAM_DEFAULT}. Ignored on older devices.
     */
    public static final String GEMV_STREAM_PROPERTY = "alma.cuda.gemvStream";
    /**
     * The one-token GEMV kernels (alma_gemv_set_variant) used by default on compute capability 9.0+: variant 2, two
     * streaming blocks per SM (cpp/PERF.md runs 18-20, KernelBench's greedy 7B decode: H200 254.5 tok/s against 203.2
     * with a warp per row, H100 186.5 against 166.8).
     */
    static final int GEMV_STREAM_DEFAULT = 2;
    /** The variants alma_gemv_set_variant accepts: 0 to this. */
    static final int GEMV_STREAM_VARIANTS = 7;
    /**
     * System property: {@code true} streams the products of 2..5 tokens (beam search) too, where a streamed variant is
     * selected ({@link #GEMV_STREAM_PROPERTY}) and rows are at most 4,096 16-bit columns, instead of taking the
     * tensor-core GEMVs (alma_gemv_stream_beams). Off by default: not yet timed on a GPU.
     */
    public static final String GEMV_STREAM_BEAMS_PROPERTY = "alma.cuda.gemvStreamBeams";
    /** The wgmma prompt attention (alma_attention_prefill_set_variant) used on compute capability 9.0. */
    static final int WGMMA_PREFILL_VARIANT = 2;

    private final int device;
    private final boolean tensorCores;
    private final String deviceName;
    private final int capability;
    private final int sms;
    private final long stream;
    /** Whether decode steps fold RoPE into the Q/K/V GEMV ({@link #ROPE_FOLD_PROPERTY}). */
    final boolean ropeFold = !"false".equalsIgnoreCase(System.getProperty(ROPE_FOLD_PROPERTY, "true"));
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Scratch half = new Scratch("16-bit copies of activations");
    private final Scratch workspace = new Scratch("attention workspace");
    private final Scratch splitCounters = new Scratch("attention split counters");
    private final Scratch results = new Scratch("argmax/top-k results");
    private final Scratch dequantized = new Scratch("dequantized Q8_0 weights (prompts)");
    private final PinnedInts tokenIds = new PinnedInts("token ids");
    private final PinnedInts ropePositions = new PinnedInts("RoPE positions");
    private final PinnedInts attentionIndex = new PinnedInts("attention page tables");
    private final LaunchTape tape;
    /** Whether the recorded, not yet launched, launches store keys/values (a copy-on-write must not overtake them). */
    private boolean tapeStoresKv;
    private boolean closed;

    /**
     * Opens CUDA device {@code device} with tensor-core math unless the system property {@value #MATH_PROPERTY} is
     * {@code f32}.
     */
    public CudaBackend(int device) {
        this(device, !"f32".equalsIgnoreCase(System.getProperty(MATH_PROPERTY, "tensor")));
    }

    /**
     * Opens CUDA device {@code device}; throws {@link CudaException} when it cannot be used.
     *
     * @param tensorCores whether products of more than one row with 16-bit weights, and prompt
     *                    attention, round their operands to 16 bits and use the tensor cores (as bf16 inference
     *                    stacks do), or keep float32 (slower; the CPU backend's numbers)
     */
    public CudaBackend(int device, boolean tensorCores) {
        this.tensorCores = tensorCores;
        int gemmShape = gemmShape();
        int gemvStream = gemvStream();
        boolean streamBeams = gemvStreamBeams();
        String why = CudaRuntime.unavailableReason();
        if (why != null) throw new CudaException("CUDA is unavailable: " + why);
        int count = CudaRuntime.deviceCount();
        if (device < 0 || device >= count)
            throw new CudaException("no CUDA device " + device + " (" + count + " present)");
        this.device = device;
        CudaRuntime.check(AlmaCuda.alma_set_device(device), "cudaSetDevice(" + device + ")");
        byte[] name = new byte[256];
        int[] cap = new int[1], count2 = new int[1];
        CudaRuntime.check(AlmaCuda.alma_device_info(device, name, name.length, cap, count2), "cudaGetDeviceProperties");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        this.deviceName = new String(name, 0, len, java.nio.charset.StandardCharsets.UTF_8);
        this.capability = cap[0];
        this.sms = count2[0];
        if (capability < 80)
            throw new CudaException("CUDA device " + device + " (" + deviceName + ", sm_" + capability
                    + ") is older than sm_80, the oldest the kernels are built for");
        long[] s = new long[1];
        CudaRuntime.check(AlmaCuda.alma_stream_create(s), "cudaStreamCreate");
        this.stream = s[0];
        this.tape = new LaunchTape(new StreamGraphs(stream),
                !"false".equalsIgnoreCase(System.getProperty(GRAPHS_PROPERTY, "true")));
        usePdl(!"false".equalsIgnoreCase(System.getProperty(PDL_PROPERTY, "true")));
        boolean pagedShort = !"false".equalsIgnoreCase(System.getProperty(PAGED_SHORT_PROPERTY, "true"));
        CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(pagedShort ? 1 : 0),
                "alma_attention_paged_set_variant");
        if (capability >= 90) {
            CudaRuntime.check(AlmaCuda.alma_gemv_set_variant(gemvStream), "alma_gemv_set_variant(" + gemvStream + ")");
            CudaRuntime.check(AlmaCuda.alma_gemv_stream_beams(streamBeams ? 1 : 0), "alma_gemv_stream_beams");
        }
        if (capability == 90 && !"false".equalsIgnoreCase(System.getProperty(WGMMA_PROPERTY, "true"))) {
            CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(gemmShape), "alma_gemm_set_variant(" + gemmShape + ")");
            CudaRuntime.check(AlmaCuda.alma_attention_prefill_set_variant(WGMMA_PREFILL_VARIANT),
                    "alma_attention_prefill_set_variant");
        }
    }

    /** {@link #GEMM_SHAPE_PROPERTY}, checked: 1..{@link #WGMMA_GEMM_SHAPES}. */
    static int gemmShape() {
        String v = System.getProperty(GEMM_SHAPE_PROPERTY);
        if (v == null || v.isBlank()) return WGMMA_GEMM_VARIANT;
        try {
            int shape = Integer.parseInt(v.strip());
            if (shape >= 1 && shape <= WGMMA_GEMM_SHAPES) return shape;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CudaException("-D" + GEMM_SHAPE_PROPERTY + "=" + v + ": a wgmma GEMM shape is 1.." + WGMMA_GEMM_SHAPES);
    }

    /** {@link #GEMV_STREAM_PROPERTY}, checked: 0..{@link #GEMV_STREAM_VARIANTS}. */
    static int gemvStream() {
        String v = System.getProperty(GEMV_STREAM_PROPERTY);
        if (v == null || v.isBlank()) return GEMV_STREAM_DEFAULT;
        String t = v.strip();
        if (t.length() == 1 && t.charAt(0) >= '0' && t.charAt(0) <= '0' + GEMV_STREAM_VARIANTS) return t.charAt(0) - '0';
        throw new CudaException("-D" + GEMV_STREAM_PROPERTY + "=" + v
                + ": the one-token GEMV kernels are 0 (a warp per row) or 1.." + GEMV_STREAM_VARIANTS + " (streamed)");
    }

    /** {@link #GEMV_STREAM_BEAMS_PROPERTY}, checked: true or false (the default). */
    static boolean gemvStreamBeams() {
        String v = System.getProperty(GEMV_STREAM_BEAMS_PROPERTY);
        if (v == null || v.isBlank() || v.strip().equalsIgnoreCase("false")) return false;
        if (v.strip().equalsIgnoreCase("true")) return true;
        throw new CudaException("-D" + GEMV_STREAM_BEAMS_PROPERTY + "=" + v + ": true or false");
    }

    /** The CUDA graph calls of the tape, on this backend's stream. */
    private record StreamGraphs(long stream) implements LaunchTape.Graphs {
        @Override
        public int begin() {
            return AlmaCuda.alma_graph_begin(stream);
        }

        @Override
        public int end(long[] exec) {
            return AlmaCuda.alma_graph_end(stream, exec);
        }

        @Override
        public int launch(long exec) {
            return AlmaCuda.alma_graph_launch(exec, stream);
        }

        @Override
        public int destroy(long exec) {
            return AlmaCuda.alma_graph_destroy(exec);
        }

        @Override
        public String error(int code) {
            return AlmaCuda.alma_error_string(code);
        }
    }

    @Override
    public String name() {
        return "cuda:" + device;
    }

    /** The device's name, e.g. "NVIDIA H100 80GB HBM3". */
    public String deviceName() {
        return deviceName;
    }

    /** Compute capability as major*10+minor (80 for A100, 90 for H100). */
    public int capability() {
        return capability;
    }

    /** Streaming multiprocessors of the device. */
    public int multiprocessors() {
        return sms;
    }

    long stream() {
        return stream;
    }

    private void use() {
        if (closed) throw new IllegalStateException("CUDA backend " + name() + " is closed");
        CudaRuntime.check(AlmaCuda.alma_set_device(device), "cudaSetDevice(" + device + ")");
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    private static CudaActivations a(Activations x) {
        return (CudaActivations) x;
    }

    private static CudaWeight w(Weight x) {
        return (CudaWeight) x;
    }

    private static CudaWeight[] weights(Weight[] ws) {
        CudaWeight[] m = new CudaWeight[ws.length];
        for (int j = 0; j < ws.length; j++) m[j] = w(ws[j]);
        return m;
    }

    private static CudaActivations[] activations(Activations[] xs) {
        CudaActivations[] o = new CudaActivations[xs.length];
        for (int j = 0; j < xs.length; j++) o[j] = a(xs[j]);
        return o;
    }

    private static void check(int rc, String call) {
        CudaRuntime.check(rc, call);
    }

    // ---------------------------------------------------------------- decode steps as CUDA graphs
    //
    // embed() of at most GEMV_MAX_ROWS tokens (a decode step) starts recording the launches that follow; the next
    // operation that waits for the device, reads or writes it from the host or allocates runs them as one graph.

    private void launch(String name, LaunchTape.Kernel kernel, long... args) {
        tape.launch(name, kernel, args);
        if (kernel == Kernels.KV_STORE && tape.recording()) tapeStoresKv = true;
    }

    /** Runs what is recorded (one graph launch) and goes on recording. */
    private void flushTape() {
        tape.flush();
        tapeStoresKv = false;
        tokenIds.inTape = ropePositions.inTape = attentionIndex.inTape = false;
    }

    /** Runs what is recorded and stops recording: before host reads/writes, waits and allocations. */
    private void settle() {
        flushTape();
        tape.stop();
    }

    /** Device address of {@code values} in {@code d}; runs the tape first when it still needs the old contents. */
    private long ints(PinnedInts d, int[] values) {
        if (d.changes(values) && !tape.isEmpty() && (d.inTape || !d.fits(values.length))) flushTape();
        long ptr = d.upload(values, stream);
        d.inTape |= tape.recording();
        return ptr;
    }

    /** At least {@code bytes} of {@code s}; runs the tape first when growing would free memory it refers to. */
    private long scratch(Scratch s, long bytes) {
        if (!s.fits(bytes) && !tape.isEmpty()) flushTape();
        return s.get(bytes);
    }

    /**
     * The paged attention's per-(token, head) counters of finished splits: zero between launches (each launch
     * leaves them zero); a larger buffer is zeroed on the stream, after the recorded launches that use the old one.
     */
    private long splitCounters(long bytes) {
        if (!splitCounters.fits(bytes) && !tape.isEmpty()) flushTape();
        return splitCounters.getZeroed(bytes, stream);
    }

    /** Called by the KV cache before a copy-on-write page copy, which is queued at once. */
    private void beforePageCopy() {
        if (tapeStoresKv) flushTape();
    }

    /** Called by a KV cache before it frees its pages: recorded launches may still use them. */
    private synchronized void beforeCacheFree() {
        if (!closed && !tape.isEmpty()) {
            use();
            flushTape();
        }
    }

    /**
     * Turns the CUDA graphs of decode steps on or off (default: on unless {@value #GRAPHS_PROPERTY} is
     * {@code false}); results are the same either way.
     */
    public synchronized void useGraphs(boolean on) {
        use();
        settle();
        tape.enable(on);
    }

    /**
     * Launches the decode GEMVs and the paged attention as programmatic dependent launches (compute capability 9.0
     * and later): each may start while the kernel before it drains — a one-token GEMV loading its first weight chunks
     * meanwhile — and waits for that kernel's results before it reads activations. Results are the same either way.
     * Process-wide (as {@code alma_set_pdl} is); this backend's captured graphs are dropped. Returns whether it is now
     * on (never on an older device).
     */
    public synchronized boolean usePdl(boolean on) {
        use();
        settle();
        boolean enable = on && capability >= 90;
        tape.close();
        CudaRuntime.check(AlmaCuda.alma_set_pdl(enable ? 1 : 0), "alma_set_pdl");
        pdl = enable;
        return enable;
    }

    /** Whether {@link #usePdl} last turned programmatic dependent launches on (tests restore it). */
    synchronized boolean usesPdl() {
        return pdl;
    }

    private boolean pdl;

    /** Times every launch made one by one from now on with {@code p} (null: stops); benchmarks. */
    synchronized void profileLaunches(LaunchProfile p) {
        use();
        settle();
        tape.profile(p);
    }

    /** Graphs captured and replayed so far (tests, benchmarks). */
    synchronized LaunchTape.Stats graphStats() {
        return tape.stats();
    }

    // ---------------------------------------------------------------- memory

    @Override
    public synchronized Weight weight(Tensor stored) {
        use();
        settle();
        if (DECODED_TO_BF16.contains(stored.type())) return own(decodedToBf16(stored));
        int type = switch (stored.type()) {
            case F32 -> CudaWeight.F32;
            case F16 -> CudaWeight.F16;
            case BF16 -> CudaWeight.BF16;
            case Q8_0 -> CudaWeight.Q8_0;
            default -> throw new AlmaException("tensor " + stored.name() + " has type " + stored.type()
                    + "; the CUDA backend takes F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K weights");
        };
        int rows = stored.rows(), cols = stored.cols();
        if (rows == 1) {  // a vector (norm scales): float32
            float[] v = stored.toFloatArray();
            DeviceBuffer b = DeviceBuffer.allocate((long) v.length * 4, stored.name());
            b.upload(v, 0, stream);
            return own(new CudaWeight(stored.name(), b, CudaWeight.F32, 1, cols));
        }
        MemorySegment data = stored.data();
        long bytes = stored.type().byteSize(stored.count());
        if (data.byteSize() < bytes)
            throw new AlmaException("tensor " + stored.name() + " holds " + data.byteSize() + " bytes, needs " + bytes);
        if (type == CudaWeight.Q8_0) return own(q8_0(stored.name(), data.asSlice(0, bytes), rows, cols));
        DeviceBuffer b = DeviceBuffer.allocate(bytes, stored.name());
        b.upload(data.asSlice(0, bytes), 0, stream);
        return own(new CudaWeight(stored.name(), b, type, rows, cols));
    }

    /** The GGUF types without kernels here, kept as bf16 ({@link #decodedToBf16}). */
    private static final Set<DType> DECODED_TO_BF16 = EnumSet.of(DType.Q4_0, DType.Q4_K, DType.Q5_K, DType.Q6_K);

    /** Values decoded per upload by {@link #decodedToBf16} (the host buffer: 32 MB of bf16). */
    private static final int DECODE_CHUNK_FLOATS = 1 << 24;

    /**
     * A Q4_0 or K-quant matrix decoded on the host by the CPU's row decoders (on all cores) and uploaded as bf16 (a
     * vector as float32): these types have no kernels here, so they cost bf16's memory on the device (about 3-4x
     * their own) and run at its speed.
     */
    private CudaWeight decodedToBf16(Tensor stored) {
        int rows = stored.rows(), cols = stored.cols();
        boolean vector = rows == 1;
        int size = vector ? 4 : 2;
        DeviceBuffer b = DeviceBuffer.allocate((long) rows * cols * size, stored.name() + " (decoded from " + stored.type() + ")");
        // shared: the rows are decoded by the common fork-join pool's threads
        try (Arena arena = Arena.ofShared()) {
            int chunk = Math.max(1, Math.min(rows, DECODE_CHUNK_FLOATS / Math.max(1, cols)));
            MemorySegment host = arena.allocate((long) chunk * cols * size, 16);
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int r1 = Math.min(rows, r0 + chunk);
                long n = (long) (r1 - r0) * cols * size;
                CpuBackend.decodeRows(stored, r0, r1, host.asSlice(0, n), !vector);
                b.upload(host.asSlice(0, n), (long) r0 * cols * size, stream);
            }
            check(AlmaCuda.alma_stream_sync(stream), "cudaStreamSynchronize");
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return new CudaWeight(stored.name(), b, vector ? CudaWeight.F32 : CudaWeight.BF16, rows, cols);
    }

    /** Uploads GGUF Q8_0 blocks and unpacks them into aligned int8 values and f16 scales. */
    private CudaWeight q8_0(String name, MemorySegment blocks, int rows, int cols) {
        if (cols % 32 != 0)
            throw new AlmaException("Q8_0 tensor " + name + " has " + cols + " columns, not a multiple of 32");
        long values = (long) rows * cols, qBytes = align(values);
        DeviceBuffer b = DeviceBuffer.allocate(qBytes + values / 32 * 2, name);
        try (DeviceBuffer raw = DeviceBuffer.allocate(blocks.byteSize(), name + " (GGUF blocks)")) {
            raw.upload(blocks, 0, stream);
            check(AlmaCuda.alma_q8_0_unpack(raw.ptr, b.ptr, b.ptr + qBytes, values / 32, stream), "alma_q8_0_unpack");
            check(AlmaCuda.alma_stream_sync(stream), "cudaStreamSynchronize");
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return new CudaWeight(name, b, CudaWeight.Q8_0, rows, cols, b.ptr + qBytes);
    }

    /**
     * A weight {@code [rows, cols]} of {@code type} filled on the device with uniform values in
     * {@code [-scale, scale)} from {@code seed} (for benchmarks of full-size models without a checkpoint). The values
     * are those of {@link #uniform(long, long, float)}. Types other than f32/f16/bf16 (Q8_0) are drawn on the host,
     * as the {@link Backend} default does, and uploaded.
     */
    @Override
    public synchronized Weight randomWeight(String name, DType type, int rows, int cols, long seed, float scale) {
        if (type != DType.F32 && type != DType.F16 && type != DType.BF16)
            return Backend.super.randomWeight(name, type, rows, cols, seed, scale);
        use();
        settle();
        int t = switch (type) {
            case F32 -> CudaWeight.F32;
            case F16 -> CudaWeight.F16;
            default -> CudaWeight.BF16;
        };
        if (rows == 1) t = CudaWeight.F32;
        long count = (long) rows * cols;
        DeviceBuffer b = DeviceBuffer.allocate(count * (t == CudaWeight.F32 ? 4 : 2), name);
        check(AlmaCuda.alma_fill_uniform(b.ptr, t, count, seed, scale, stream), "alma_fill_uniform");
        return own(new CudaWeight(name, b, t, rows, cols));
    }

    /** The value {@code alma_fill_uniform} (and so {@link #randomWeight}) puts at element {@code i}, before rounding. */
    public static float uniform(long seed, long i, float scale) {
        long z = seed + 0x9E3779B97F4A7C15L * (i + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        float u = (float) (z >>> 40) * (1.0f / 16777216.0f);
        return (u * 2.0f - 1.0f) * scale;
    }

    @Override
    public synchronized Activations allocate(int rows, int cols) {
        use();
        settle();
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("activations " + rows + "x" + cols);
        return own(new CudaActivations(DeviceBuffer.allocate((long) rows * cols * 4, "activations " + rows + "x" + cols),
                rows, cols));
    }

    @Override
    public KvCache kvCache(LlamaConfig c, int maxTokens) {
        return kvCache(c, maxTokens, DType.F32);
    }

    /**
     * A cache of float32 or f16 keys and values ({@code --kv-cache f16}: half the memory; every key and value rounded
     * to f16 as it is stored, the attention's arithmetic float32 either way).
     */
    @Override
    public synchronized KvCache kvCache(LlamaConfig c, int maxTokens, DType type) {
        use();
        settle();
        if (c.headDim() > 256) throw new AlmaException("head dimension " + c.headDim() + " exceeds the CUDA kernels' 256");
        if (c.numHeads() % c.numKvHeads() != 0 || c.numHeads() / c.numKvHeads() > 32)
            throw new AlmaException("heads " + c.numHeads() + " / kv heads " + c.numKvHeads()
                    + ": the CUDA attention needs a whole group of at most 32 query heads per key/value head");
        return own(new CudaKvCache(c.numLayers(), c.numKvHeads(), c.headDim(), maxTokens, cacheType(type), stream,
                this::beforePageCopy, this::beforeCacheFree));
    }

    /** The kernels' code of a KV cache element type: F32 or F16. */
    private int cacheType(DType type) {
        if (type == DType.F32) return CudaWeight.F32;
        if (type == DType.F16) return CudaWeight.F16;
        throw new AlmaException("the " + name() + " backend keeps its KV cache in f32 or f16, not " + type);
    }

    /**
     * 4,096, LLaMA-2's context: a prompt then goes through the layers in one pass, so that (1) its matrix products
     * have enough rows for the wgmma GEMM's 128×256 tiles to fill the multiprocessors (on an H200, 555-640 TFLOP/s
     * at 1,024 rows against 157-323 at 128; cpp/PERF.md run 17) and (2) its attention is the flash prompt kernel: a
     * later chunk of a prompt attends to the positions before it through the paged attention, which reads the
     * cached keys and values once per query token. With 256-token chunks a 1,024-token 7B prompt ran at 4,898 tok/s,
     * in one pass at 28,758 (run 16 → 17). Activation buffers grow to the longest pass made, ~1 GB at 4,096 tokens
     * of a 7B model.
     */
    @Override
    public int chunkTokens() {
        return CHUNK_TOKENS;
    }

    /** {@link #chunkTokens}. */
    static final int CHUNK_TOKENS = 4096;

    /** Four fifths of the device's free memory (activations and cuBLAS workspaces need the rest). */
    @Override
    public synchronized long kvPositionsAvailable(LlamaConfig c, dev.alma.tensor.DType type) {
        use();
        long[] free = new long[1], total = new long[1];
        CudaRuntime.check(AlmaCuda.alma_mem_info(free, total), "cudaMemGetInfo");
        return free[0] / 5 * 4 / (2L * c.numLayers() * c.kvDim() * CudaKvCache.elementBytes(cacheType(type)));
    }

    /** Copies {@code src} into row {@code row} of {@code x} (tests, inputs computed on the host). */
    public synchronized void write(Activations x, int row, float[] src) {
        use();
        settle();
        CudaActivations xa = a(x);
        if (row < 0 || row >= xa.rows || src.length != xa.cols)
            throw new IllegalArgumentException("row " + row + " of " + xa.rows + "x" + xa.cols + " from " + src.length);
        xa.data.upload(src, (long) row * xa.cols * 4, stream);
    }

    @Override
    public synchronized void read(Activations x, int row, float[] dst, int dstOff) {
        use();
        settle();
        CudaActivations xa = a(x);
        if (row < 0 || row >= xa.rows) throw new IllegalArgumentException("row " + row + " of " + xa.rows);
        xa.data.download((long) row * xa.cols * 4, dst, dstOff, xa.cols, stream);
    }

    /**
     * The {@code dst.length} bytes at device address {@code ptr}, after the recorded work has run (tests'
     * diagnostics: weights and scratch memory as the kernels see them).
     */
    synchronized void copyToHost(long ptr, byte[] dst) {
        use();
        settle();
        if (dst.length > 0) download(ptr, MemorySegment.ofArray(dst));
    }

    /** Device address and size of the 16-bit copies of activations the tensor-core GEMM reads (tests' diagnostics). */
    synchronized long[] halfScratch() {
        return half.current();
    }

    /** All the rows in one device-to-host copy (one synchronisation), then split. */
    @Override
    public synchronized void read(Activations x, float[][] dst) {
        use();
        settle();
        CudaActivations xa = a(x);
        if (dst.length > xa.rows) throw new IllegalArgumentException(dst.length + " rows of " + xa.rows);
        for (float[] row : dst)
            if (row.length < xa.cols) throw new IllegalArgumentException("row of " + row.length + " < " + xa.cols + " columns");
        if (dst.length == 0) return;
        float[] all = new float[dst.length * xa.cols];
        xa.data.download(0, all, 0, all.length, stream);
        for (int j = 0; j < dst.length; j++) System.arraycopy(all, j * xa.cols, dst[j], 0, xa.cols);
    }

    @Override
    public synchronized void copyRows(Activations src, int[] rows, Activations dst) {
        use();
        CudaActivations s = a(src), d = a(dst);
        if (s.cols != d.cols || rows.length > d.rows)
            throw new IllegalArgumentException("copyRows " + s.cols + " into " + d.cols + " columns");
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= s.rows) throw new IllegalArgumentException("row " + rows[i] + " of " + s.rows);
            launch("cudaMemcpy D2D", Kernels.COPY, d.row(i), s.row(rows[i]), (long) s.cols * 4, stream);
        }
    }

    /** Waits until every operation issued so far has finished. */
    public synchronized void synchronize() {
        use();
        settle();
        check(AlmaCuda.alma_stream_sync(stream), "cudaStreamSynchronize");
    }

    // ---------------------------------------------------------------- element-wise and small ops

    @Override
    public synchronized void embed(Weight table, int[] tokens, Activations out) {
        use();
        CudaWeight t = w(table);
        CudaActivations o = a(out);
        if (o.cols != t.cols || tokens.length > o.rows)
            throw new IllegalArgumentException("embed " + t.rows + "x" + t.cols + " into " + o.rows + "x" + o.cols);
        for (int tok : tokens)
            if (tok < 0 || tok >= t.rows)
                throw new AlmaException("token id " + tok + " is outside the vocabulary of " + t.rows);
        if (tokens.length <= GEMV_MAX_ROWS) {
            flushTape();
            tape.start();  // a decode step: record it
        } else {
            settle();
        }
        if (tokens.length == 0) return;
        long ids = ints(tokenIds, tokens);
        if (t.type == CudaWeight.Q8_0)
            launch("alma_embed_q8_0", Kernels.EMBED_Q8_0, t.data.ptr, t.scales, ids, o.data.ptr, tokens.length, t.cols,
                    t.rows, stream);
        else
            launch("alma_embed", Kernels.EMBED, t.data.ptr, t.type, ids, o.data.ptr, tokens.length, t.cols, t.rows,
                    stream);
    }

    @Override
    public synchronized void rmsNorm(Activations x, Weight gamma, float eps, int n, Activations out) {
        use();
        CudaActivations xi = a(x), o = a(out);
        CudaWeight g = w(gamma);
        if (g.rows != 1 || g.cols != xi.cols || o.cols != xi.cols || n > xi.rows || n > o.rows)
            throw new IllegalArgumentException("rmsNorm of " + xi.cols + " columns with " + g.cols);
        launch("alma_rmsnorm", Kernels.RMSNORM, xi.data.ptr, g.data.ptr, o.data.ptr, n, xi.cols, Kernels.f(eps), stream);
    }

    @Override
    public synchronized void rope(Activations x, int heads, int headDim, int[] positions, double theta,
                                  boolean interleaved) {
        use();
        CudaActivations xi = a(x);
        if (heads * headDim > xi.cols || positions.length > xi.rows || headDim % 2 != 0)
            throw new IllegalArgumentException("rope " + heads + "x" + headDim + " on " + xi.cols + " columns");
        if (positions.length == 0) return;
        long pos = ints(ropePositions, positions);
        launch("alma_rope", Kernels.ROPE, xi.data.ptr, pos, positions.length, heads, headDim, xi.cols,
                Kernels.d(theta), interleaved ? 1 : 0, stream);
    }

    /** Queries and keys rotated by one launch (unless they share a buffer; then the {@link Backend} default). */
    @Override
    public synchronized void ropeQk(Activations q, int heads, Activations k, int kvHeads, int headDim, int[] positions,
                                    double theta, boolean interleaved) {
        use();
        CudaActivations qa = a(q), ka = a(k);
        if (qa == ka) {
            Backend.super.ropeQk(q, heads, k, kvHeads, headDim, positions, theta, interleaved);
            return;
        }
        if (heads * headDim > qa.cols || kvHeads * headDim > ka.cols || positions.length > qa.rows
                || positions.length > ka.rows || headDim % 2 != 0)
            throw new IllegalArgumentException("rope of " + heads + "/" + kvHeads + " heads x " + headDim + " on "
                    + qa.cols + "/" + ka.cols + " columns");
        if (positions.length == 0) return;
        long pos = ints(ropePositions, positions);
        launch("alma_rope_qk", Kernels.ROPE_QK, qa.data.ptr, qa.cols, heads, ka.data.ptr, ka.cols, kvHeads, pos,
                positions.length, headDim, Kernels.d(theta), interleaved ? 1 : 0, stream);
    }

    @Override
    public synchronized void swiglu(Activations gate, Activations up, int n) {
        use();
        CudaActivations g = a(gate), u = a(up);
        if (g.cols != u.cols || n > g.rows || n > u.rows) throw new IllegalArgumentException("swiglu shapes differ");
        launch("alma_swiglu", Kernels.SWIGLU, g.data.ptr, u.data.ptr, (long) n * g.cols, stream);
    }

    @Override
    public synchronized void addScaled(Activations x, Activations y, float scale, int n) {
        use();
        CudaActivations xa = a(x), ya = a(y);
        if (xa.cols != ya.cols || n > xa.rows || n > ya.rows) throw new IllegalArgumentException("addScaled shapes differ");
        launch("alma_add_scaled", Kernels.ADD_SCALED, xa.data.ptr, ya.data.ptr, Kernels.f(scale), (long) n * xa.cols,
                stream);
    }

    /** Index of the largest value of each of the first {@code n} rows (lowest index on ties). */
    public synchronized int[] argmax(Activations x, int n) {
        use();
        CudaActivations xa = a(x);
        if (n < 0 || n > xa.rows) throw new IllegalArgumentException("argmax of " + n + " rows of " + xa.rows);
        settle();
        int[] out = new int[n];
        if (n == 0) return out;
        long dst = results.get((long) n * 4);
        check(AlmaCuda.alma_argmax(xa.data.ptr, n, xa.cols, dst, stream), "alma_argmax");
        download(dst, MemorySegment.ofArray(out));
        return out;
    }

    /** The {@code k} largest values of each of the first {@code n} rows and their indices, largest first. */
    public record TopK(float[][] values, int[][] indices) {
    }

    /** Top-{@code k} of each of the first {@code n} rows (ties: lower index first). */
    public synchronized TopK topK(Activations x, int n, int k) {
        RowTops t = tops(x, n, k, false);
        return new TopK(t.values(), t.ids());
    }

    /** True: {@link #rowTops} reads back k values, k indices and a log-sum-exp per row. */
    @Override
    public boolean rowTopsOnDevice() {
        return true;
    }

    /** The rows' top-k and log-sum-exps in one launch ({@code alma_topk_lse}) and one read. */
    @Override
    public synchronized RowTops rowTops(Activations x, int n, int k) {
        return tops(x, n, k, true);
    }

    /**
     * Top-{@code k} of the first {@code n} rows and, with {@code lse}, each row's log-sum-exp (otherwise the
     * log-sum-exps are null), read back in one copy.
     */
    private RowTops tops(Activations x, int n, int k, boolean lse) {
        use();
        CudaActivations xa = a(x);
        if (n < 0 || n > xa.rows || k < 1 || k > xa.cols)
            throw new IllegalArgumentException("top-" + k + " of " + n + " rows of " + xa.rows + "x" + xa.cols);
        // values [n·k] and log-sum-exps [n] as float bits, indices [n·k] between them
        int[] all = new int[n * (2 * k + (lse ? 1 : 0))];
        if (n > 0) {
            settle();
            long values = results.get((long) all.length * 4);
            long indices = values + (long) n * k * 4, sums = indices + (long) n * k * 4;
            if (lse)
                check(AlmaCuda.alma_topk_lse(xa.data.ptr, n, xa.cols, k, values, indices, sums, stream), "alma_topk_lse");
            else
                check(AlmaCuda.alma_topk(xa.data.ptr, n, xa.cols, k, values, indices, stream), "alma_topk");
            download(values, MemorySegment.ofArray(all));
        }
        double[] l = lse ? new double[n] : null;
        int[][] ids = new int[n][k];
        float[][] vs = new float[n][k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                vs[i][j] = Float.intBitsToFloat(all[i * k + j]);
                ids[i][j] = all[n * k + i * k + j];
            }
            if (lse) l[i] = Float.intBitsToFloat(all[2 * n * k + i]);
        }
        return new RowTops(l, ids, vs);
    }

    /** Copies {@code dst.byteSize()} bytes from device address {@code src} into a heap segment. */
    private void download(long src, MemorySegment dst) {
        DeviceBuffer.toHost(src, dst, stream);
    }

    // ---------------------------------------------------------------- matrix products

    @Override
    public synchronized void matmul(Activations x, Weight weight, int n, Activations out) {
        use();
        CudaWeight m = w(weight);
        CudaActivations xi = a(x), o = a(out);
        if (xi.cols != m.cols || o.cols != m.rows || n > xi.rows || n > o.rows)
            throw new IllegalArgumentException("matmul " + m.name + " " + m.rows + "x" + m.cols
                    + " with activations of " + xi.cols + " columns into " + o.cols);
        if (n == 0) return;
        if (m.type == CudaWeight.Q8_0) {
            matmulQ8_0(xi, m, n, o);
            return;
        }
        if (n > 1 && n <= GEMV_MAX_ROWS && tensorCoreGemv(m)) {
            launch("alma_gemv_tc", Kernels.GEMV_TC, m.data.ptr, m.type, xi.data.ptr, o.data.ptr, m.rows, m.cols, n,
                    stream);
        } else if (n <= GEMV_MAX_ROWS) {
            launch("alma_gemv", Kernels.GEMV, m.data.ptr, m.type, xi.data.ptr, o.data.ptr, m.rows, m.cols, n, stream);
        } else if (m.type == CudaWeight.F32 || !tensorCores || m.cols % 8 != 0) {
            launch("alma_gemm (float32)", Kernels.GEMM, xi.data.ptr, CudaWeight.F32, m.data.ptr, m.type, o.data.ptr, n,
                    m.rows, m.cols, stream);
        } else {
            long count = (long) n * m.cols;
            long a16 = scratch(half, count * 2);
            launch("alma_convert_f32", Kernels.CONVERT, xi.data.ptr, a16, m.type, count, stream);
            launch("alma_gemm (tensor cores)", Kernels.GEMM, a16, m.type, m.data.ptr, m.type, o.data.ptr, n, m.rows,
                    m.cols, stream);
        }
    }

    /**
     * Q8_0 weights: the int8 GEMV (float32 activations) for up to {@value #GEMV_MAX_ROWS} rows; longer products
     * dequantize the matrix (to bf16 for the tensor-core GEMM, to float32 with tensor-core math off) into scratch
     * memory and run the GEMM.
     */
    private void matmulQ8_0(CudaActivations xi, CudaWeight m, int n, CudaActivations o) {
        if (n <= GEMV_MAX_ROWS) {
            launch("alma_gemv_q8_0", Kernels.GEMV_Q8_0, m.data.ptr, m.scales, xi.data.ptr, o.data.ptr, m.rows, m.cols,
                    n, stream);
            return;
        }
        long values = (long) m.rows * m.cols;
        if (tensorCores) {
            long count = (long) n * m.cols;
            long w16 = scratch(dequantized, values * 2);
            long a16 = scratch(half, count * 2);
            launch("alma_q8_0_dequant", Kernels.DEQUANT_Q8_0, m.data.ptr, m.scales, w16, CudaWeight.BF16, values, stream);
            launch("alma_convert_f32", Kernels.CONVERT, xi.data.ptr, a16, CudaWeight.BF16, count, stream);
            launch("alma_gemm (tensor cores)", Kernels.GEMM, a16, CudaWeight.BF16, w16, CudaWeight.BF16, o.data.ptr, n,
                    m.rows, m.cols, stream);
        } else {
            long w32 = scratch(dequantized, values * 4);
            launch("alma_q8_0_dequant", Kernels.DEQUANT_Q8_0, m.data.ptr, m.scales, w32, CudaWeight.F32, values, stream);
            launch("alma_gemm (float32)", Kernels.GEMM, xi.data.ptr, CudaWeight.F32, w32, CudaWeight.F32, o.data.ptr, n,
                    m.rows, m.cols, stream);
        }
    }

    /**
     * Whether products of {@code x} with several weights can be one fused GEMV launch (gemv3, gemv_swiglu, or their
     * tensor-core forms gemv_tc3, gemv_tc_swiglu for 2..8 rows): a decode step ({@code n <= 8}), weights of one
     * 16/32-bit type and x's width, outputs as wide as their weights' rows.
     */
    private boolean fusedGemv(CudaActivations x, int n, CudaWeight[] ws, CudaActivations[] outs) {
        if (n > GEMV_MAX_ROWS || n > x.rows) return false;
        for (int j = 0; j < ws.length; j++)
            if (ws[j].type == CudaWeight.Q8_0 || ws[j].type != ws[0].type || ws[j].cols != x.cols
                    || outs[j].cols != ws[j].rows || n > outs[j].rows || outs[j] == x) return false;
        return true;
    }

    /** Whether the fused products of {@link #fusedGemv} run on tensor cores (beams) rather than CUDA cores. */
    private boolean fusedOnTensorCores(int n, CudaWeight w) {
        return n > 1 && tensorCoreGemv(w);
    }

    /**
     * {@code out += x·Wᵀ}: one GEMV launch that adds its product to {@code out} when {@code n <= 8} (16/32-bit
     * weights), otherwise the {@link Backend} default (product into {@code scratch}, then the addition).
     */
    @Override
    public synchronized void matmulAdd(Activations x, Weight weight, int n, Activations scratch, Activations out) {
        use();
        CudaWeight m = w(weight);
        CudaActivations xi = a(x), o = a(out);
        if (n == 0 || !fusedGemv(xi, n, new CudaWeight[]{m}, new CudaActivations[]{o})) {
            Backend.super.matmulAdd(x, weight, n, scratch, out);
            return;
        }
        if (fusedOnTensorCores(n, m))
            launch("alma_gemv_tc3", Kernels.GEMV_TC3, m.data.ptr, 0L, 0L, m.type, m.rows, 0, 0, xi.data.ptr,
                    o.data.ptr, 0L, 0L, m.cols, n, 1, stream);
        else
            launch("alma_gemv_add", Kernels.GEMV_ADD, m.data.ptr, m.type, xi.data.ptr, o.data.ptr, m.rows, m.cols, n,
                    stream);
    }

    /**
     * The Q, K and V projections of the same input: one fused GEMV launch when {@code n <= 8} and the three weights
     * share a type, three {@link #matmul}s otherwise.
     */
    public synchronized void matmulQkv(Activations x, Weight wq, Weight wk, Weight wv, int n,
                                       Activations q, Activations k, Activations v) {
        matmul(x, new Weight[]{wq, wk, wv}, n, new Activations[]{q, k, v});
    }

    /**
     * Two or three products of the same input (the model's Q/K/V and gate/up projections): one fused GEMV launch
     * (x read once for all rows of all matrices; on tensor cores for 2..8 rows of 16-bit weights) when {@code n <= 8}
     * and the weights share a 16/32-bit type and width; one {@link #matmul} each otherwise.
     */
    @Override
    public synchronized void matmul(Activations x, Weight[] ws, int n, Activations[] outs) {
        if (ws.length != outs.length) throw new IllegalArgumentException(ws.length + " weights, " + outs.length + " outputs");
        use();
        CudaActivations xi = a(x);
        CudaWeight[] m = weights(ws);
        CudaActivations[] o = activations(outs);
        if ((ws.length != 2 && ws.length != 3) || !fusedGemv(xi, n, m, o)) {
            for (int j = 0; j < ws.length; j++) matmul(x, ws[j], n, outs[j]);
            return;
        }
        if (n == 0) return;
        CudaWeight third = ws.length == 3 ? m[2] : null;
        if (fusedOnTensorCores(n, m[0])) {
            launch("alma_gemv_tc3", Kernels.GEMV_TC3, m[0].data.ptr, m[1].data.ptr, third == null ? 0 : third.data.ptr,
                    m[0].type, m[0].rows, m[1].rows, third == null ? 0 : third.rows, xi.data.ptr, o[0].data.ptr,
                    o[1].data.ptr, third == null ? 0 : o[2].data.ptr, m[0].cols, n, 0, stream);
            return;
        }
        launch("alma_gemv3", Kernels.GEMV3, m[0].data.ptr, m[1].data.ptr, third == null ? 0 : third.data.ptr,
                m[0].type, m[0].rows, m[1].rows, third == null ? 0 : third.rows, xi.data.ptr, o[0].data.ptr,
                o[1].data.ptr, third == null ? 0 : o[2].data.ptr, m[0].cols, n, stream);
    }

    /**
     * {@code gate = silu(x·Wgᵀ) * (x·Wuᵀ)}: one fused GEMV launch when {@code n <= 8} (on tensor cores for 2..8 rows
     * of 16-bit weights; {@code up} is left untouched), otherwise the {@link Backend} default (the two products,
     * then {@link #swiglu}).
     */
    @Override
    public synchronized void gateUpSwiglu(Activations x, Weight wg, Weight wu, int n, Activations gate, Activations up) {
        use();
        CudaWeight g = w(wg), u = w(wu);
        CudaActivations xi = a(x), go = a(gate);
        if (!fusedGemv(xi, n, new CudaWeight[]{g, u}, new CudaActivations[]{go, go})) {  // both rows land in gate
            Backend.super.gateUpSwiglu(x, wg, wu, n, gate, up);
            return;
        }
        if (n == 0) return;
        if (fusedOnTensorCores(n, g)) {
            launch("alma_gemv_tc_swiglu", Kernels.GEMV_TC_SWIGLU, g.data.ptr, u.data.ptr, g.type, xi.data.ptr,
                    go.data.ptr, g.rows, g.cols, n, stream);
            return;
        }
        launch("alma_gemv_swiglu", Kernels.GEMV_SWIGLU, g.data.ptr, u.data.ptr, g.type, xi.data.ptr, go.data.ptr,
                g.rows, g.cols, n, stream);
    }

    /**
     * Whether an RMSNorm of {@code x} into {@code h} can be folded into the fused GEMV that follows (decode steps: on
     * CUDA cores greedy, on tensor cores with beams, which need 16-byte aligned float32 weights for the norm).
     */
    private boolean normFoldable(CudaActivations x, CudaWeight gamma, CudaActivations h, int n, CudaWeight[] ws,
                                 CudaActivations[] outs) {
        if (n == 0 || gamma.rows != 1 || gamma.cols != x.cols || gamma.type != CudaWeight.F32 || h == x
                || h.cols != x.cols || n > h.rows || !fusedGemv(x, n, ws, outs)
                || (fusedOnTensorCores(n, ws[0]) && (x.cols % 8 != 0 || gamma.data.ptr % 16 != 0)))
            return false;
        for (CudaActivations o : outs) if (o == h) return false;
        return true;
    }

    /**
     * The attention block's and the LM head's normalisation folded into their GEMV (one launch, which also writes
     * {@code h}) for decode steps (on CUDA cores greedy, on tensor cores with beams); otherwise the {@link Backend}
     * default.
     */
    @Override
    public synchronized void rmsNormMatmul(Activations x, Weight gamma, float eps, int n, Activations h, Weight[] ws,
                                           Activations[] outs) {
        if (ws.length != outs.length) throw new IllegalArgumentException(ws.length + " weights, " + outs.length + " outputs");
        use();
        CudaActivations xi = a(x), hi = a(h);
        CudaWeight[] m = weights(ws);
        CudaActivations[] o = activations(outs);
        CudaWeight g = w(gamma);
        if (ws.length < 1 || ws.length > 3 || !normFoldable(xi, g, hi, n, m, o)) {
            Backend.super.rmsNormMatmul(x, gamma, eps, n, h, ws, outs);
            return;
        }
        long[] wp = new long[3], yp = new long[3];
        int[] rows = new int[3];
        for (int j = 0; j < m.length; j++) {
            wp[j] = m[j].data.ptr;
            yp[j] = o[j].data.ptr;
            rows[j] = m[j].rows;
        }
        boolean tc = fusedOnTensorCores(n, m[0]);
        launch(tc ? "alma_gemv_tc3_norm" : "alma_gemv3_norm", tc ? Kernels.GEMV_TC3_NORM : Kernels.GEMV3_NORM, wp[0],
                wp[1], wp[2], m[0].type, rows[0], rows[1], rows[2], xi.data.ptr, g.data.ptr, Kernels.f(eps),
                hi.data.ptr, yp[0], yp[1], yp[2], m[0].cols, n, stream);
    }

    /**
     * The attention block's normalisation and the rotation of queries and keys folded into the fused Q/K/V GEMV of
     * decode steps (CUDA cores greedy, tensor cores with beams, which need a head dim divisible by 16: one launch
     * instead of two); otherwise {@link #rmsNormMatmul} then {@link #ropeQk}.
     */
    @Override
    public synchronized void rmsNormQkvRope(Activations x, Weight gamma, float eps, int n, Activations h, Weight[] qkv,
                                            Activations[] outs, int heads, int kvHeads, int headDim, int[] positions,
                                            double theta, boolean interleaved) {
        if (qkv.length != 3 || outs.length != 3)
            throw new IllegalArgumentException(qkv.length + " weights, " + outs.length + " outputs for Q/K/V");
        use();
        CudaActivations xi = a(x), hi = a(h);
        CudaWeight[] m = weights(qkv);
        CudaActivations[] o = activations(outs);
        CudaWeight g = w(gamma);
        boolean foldable = normFoldable(xi, g, hi, n, m, o), tc = foldable && fusedOnTensorCores(n, m[0]);
        if (!ropeFold || !foldable || headDim % (tc ? 16 : 4) != 0
                || m[0].rows != heads * headDim || m[1].rows != kvHeads * headDim || positions.length != n
                || o[0] == o[1]) {
            Backend.super.rmsNormQkvRope(x, gamma, eps, n, h, qkv, outs, heads, kvHeads, headDim, positions, theta,
                    interleaved);
            return;
        }
        long pos = ints(ropePositions, positions);
        launch(tc ? "alma_gemv_tc3_norm_rope" : "alma_gemv3_norm_rope",
                tc ? Kernels.GEMV_TC3_NORM_ROPE : Kernels.GEMV3_NORM_ROPE, m[0].data.ptr, m[1].data.ptr, m[2].data.ptr,
                m[0].type, m[0].rows, m[1].rows, m[2].rows, xi.data.ptr, g.data.ptr, Kernels.f(eps), hi.data.ptr,
                o[0].data.ptr, o[1].data.ptr, o[2].data.ptr, m[0].cols, n, pos, headDim, Kernels.d(theta),
                interleaved ? 1 : 0, stream);
    }

    /**
     * The feed-forward block's normalisation folded into the fused gate/up SwiGLU GEMV for decode steps (CUDA cores
     * greedy, tensor cores with beams); otherwise the {@link Backend} default.
     */
    @Override
    public synchronized void rmsNormGateUpSwiglu(Activations x, Weight gamma, float eps, int n, Activations h,
                                                 Weight wg, Weight wu, Activations gate, Activations up) {
        use();
        CudaActivations xi = a(x), hi = a(h), go = a(gate);
        CudaWeight g = w(wg), u = w(wu), gm = w(gamma);
        if (!normFoldable(xi, gm, hi, n, new CudaWeight[]{g, u}, new CudaActivations[]{go, go})) {
            Backend.super.rmsNormGateUpSwiglu(x, gamma, eps, n, h, wg, wu, gate, up);
            return;
        }
        boolean tc = fusedOnTensorCores(n, g);
        launch(tc ? "alma_gemv_tc_swiglu_norm" : "alma_gemv_swiglu_norm",
                tc ? Kernels.GEMV_TC_SWIGLU_NORM : Kernels.GEMV_SWIGLU_NORM, g.data.ptr, u.data.ptr, g.type,
                xi.data.ptr, gm.data.ptr, Kernels.f(eps), hi.data.ptr, go.data.ptr, g.rows, g.cols, n, stream);
    }

    // ---------------------------------------------------------------- attention

    @Override
    public synchronized void attention(Activations q, Activations k, Activations v, KvCache kvCache, int layer,
                                       int[] seqs, int[] positions, int n, Activations out) {
        use();
        CudaKvCache cache = (CudaKvCache) kvCache;
        CudaActivations qa = a(q), ka = a(k), va = a(v), o = a(out);
        int hd = cache.headDim, kvDim = cache.kvDim, heads = qa.cols / hd;
        if (qa.cols % hd != 0 || ka.cols != kvDim || va.cols != kvDim || o.cols != qa.cols || heads % cache.kvHeads != 0
                || n > qa.rows || n > ka.rows || n > va.rows || n > o.rows || seqs.length < n || positions.length < n)
            throw new IllegalArgumentException("attention shapes: q " + qa.cols + ", k " + ka.cols + ", v " + va.cols
                    + ", out " + o.cols + " columns for " + cache.kvHeads + " kv heads of " + hd);
        if (layer < 0 || layer >= cache.layers) throw new IllegalArgumentException("layer " + layer);
        if (n == 0) return;
        // Page of every new position (copy-on-write copies are queued on the stream before the stores).
        boolean prompt = true;
        int[] page = new int[n];
        for (int i = 0; i < n; i++) {
            page[i] = cache.pageForWrite(seqs[i], positions[i]);
            prompt &= seqs[i] == seqs[0] && positions[i] == i;
        }
        int pages = 1;
        for (int i = 0; i < n; i++) pages = Math.max(pages, cache.pages(seqs[i]).length);
        int stride = tableStride(pages);
        // One upload: pages [n], slots [n], positions [n], page tables [n][stride] (zero-padded).
        int[] index = new int[3 * n + n * stride];
        for (int i = 0; i < n; i++) {
            index[i] = page[i];
            index[n + i] = positions[i] % CudaKvCache.PAGE_SIZE;
            index[2 * n + i] = positions[i];
            int[] table = cache.pages(seqs[i]);
            System.arraycopy(table, 0, index, 3 * n + i * stride, table.length);
        }
        boolean paged = !(prompt && n > 1);
        int splits = 0;
        long ws = 0, counters = 0;
        if (paged) {  // scratch first: growing it runs the tape, which must not happen between the upload and its use
            // Splits from the padded table length, not the exact one, so that consecutive steps launch alike (the
            // kernel bounds every split by the true length; an empty split is skipped when combining).
            splits = splits(n, heads, stride * CudaKvCache.PAGE_SIZE, sms);
            ws = scratch(workspace, AlmaCuda.alma_attention_paged_workspace(n, heads, hd, splits) * 4);
            counters = splitCounters((long) n * heads * 4);
        }
        long dev = ints(attentionIndex, index);
        // Decode and beam steps (every token extends its own sequence) let the paged attention store the new rows
        // itself; prompts, and tokens continuing one sequence together, store them first.
        boolean fusedStore = paged && distinct(seqs, n) && hd % 4 == 0;
        if (!fusedStore)
            launch("alma_kv_store", Kernels.KV_STORE, ka.data.ptr, va.data.ptr, kvDim, cache.pages.ptr, cache.type,
                    dev, dev + 4L * n, n, layer, cache.layers, CudaKvCache.PAGE_SIZE, kvDim, stream);
        float scale = (float) (1.0 / Math.sqrt(hd));
        if (!paged) {
            if (tensorCorePrefill(hd, qa.cols)) {
                long qBytes = align((long) n * qa.cols * 2), kvBytes = align((long) n * kvDim * 2);
                long q16 = scratch(half, qBytes + 2 * kvBytes), k16 = q16 + qBytes, v16 = k16 + kvBytes;
                launch("alma_convert_f32", Kernels.CONVERT, qa.data.ptr, q16, CudaWeight.BF16, (long) n * qa.cols, stream);
                launch("alma_convert_f32", Kernels.CONVERT, ka.data.ptr, k16, CudaWeight.BF16, (long) n * kvDim, stream);
                launch("alma_convert_f32", Kernels.CONVERT, va.data.ptr, v16, CudaWeight.BF16, (long) n * kvDim, stream);
                launch("alma_attention_prefill_tc", Kernels.PREFILL_TC, q16, qa.cols, k16, v16, kvDim, o.data.ptr, o.cols,
                        n, heads, cache.kvHeads, hd, Kernels.f(scale), stream);
            } else {
                launch("alma_attention_prefill", Kernels.PREFILL, qa.data.ptr, qa.cols, ka.data.ptr, va.data.ptr, kvDim,
                        o.data.ptr, o.cols, n, heads, cache.kvHeads, hd, Kernels.f(scale), stream);
            }
            return;
        }
        launch("alma_attention_paged", Kernels.PAGED, qa.data.ptr, qa.cols, cache.pages.ptr, cache.type,
                dev + 12L * n, stride, dev + 8L * n, o.data.ptr, o.cols, ws, counters, n, heads, cache.kvHeads, hd,
                layer, cache.layers,
                CudaKvCache.PAGE_SIZE, Kernels.f(scale), splits, fusedStore ? ka.data.ptr : 0L,
                fusedStore ? va.data.ptr : 0L, kvDim, dev, dev + 4L * n, stream);
        if (fusedStore && tape.recording()) tapeStoresKv = true;  // a copy-on-write copy queued later waits for it
    }

    /** Whether the first {@code n} sequence handles are all different. */
    private static boolean distinct(int[] seqs, int n) {
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++)
                if (seqs[i] == seqs[j]) return false;
        return true;
    }

    /**
     * Entries per page table in the attention upload: the next power of two of the longest table (at least 4), so
     * that the launches of consecutive decode steps, and hence their CUDA graph, change only when a sequence's table
     * doubles.
     */
    static int tableStride(int pages) {
        return Math.max(4, pages <= 1 ? 1 : Integer.highestOneBit(pages - 1) << 1);
    }

    /** Whether products of 2..8 rows with {@code w} run on tensor cores (activations rounded to 16 bits). */
    boolean tensorCoreGemv(Weight w) {
        CudaWeight m = w(w);
        return tensorCores && (m.type == CudaWeight.F16 || m.type == CudaWeight.BF16) && m.cols % 8 == 0;
    }

    /** Whether a prompt's attention runs on tensor cores (bf16 operands) rather than in float32. */
    boolean tensorCorePrefill(int headDim, int qCols) {
        return tensorCores && (headDim == 64 || headDim == 128) && qCols % 8 == 0;
    }

    private static long align(long bytes) {
        return (bytes + 255) & ~255L;
    }

    /** The fewest 32-key tiles per split of the paged attention; KernelBench sweeps it, the default is 1. */
    static volatile int minSplitTiles = 1;

    /**
     * Splits of the key range: blocks (one per token, query head and split) enough for eight per SM, the
     * occupancy a memory-bound kernel of four warps needs, each split at least {@link #minSplitTiles} 32-key tiles.
     */
    static int splits(int n, int heads, int maxLen, int sms) {
        int blocks = n * heads;
        int want = (8 * sms + blocks - 1) / blocks;
        int tiles = (maxLen + 31) / 32, per = minSplitTiles;
        return Math.max(1, Math.min(MAX_SPLITS, Math.min(want, (tiles + per - 1) / per)));
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        AlmaException first = null;
        try {
            settle();
        } catch (RuntimeException e) {
            first = new AlmaException("closing " + name() + ": " + e.getMessage(), e);
        }
        tape.close();
        List<AutoCloseable> all = new ArrayList<>(owned);
        all.addAll(List.of(half, workspace, splitCounters, results, dequantized, tokenIds, ropePositions, attentionIndex));
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) first = new AlmaException("closing " + name() + ": " + e.getMessage(), e);
            }
        }
        owned.clear();
        int rc = AlmaCuda.alma_stream_destroy(stream);
        closed = true;
        if (first != null) throw first;
        CudaRuntime.check(rc, "cudaStreamDestroy");
    }
}
