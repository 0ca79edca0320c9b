package dev.alma.model;

import dev.alma.AlmaException;
import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.backend.KvCache;
import dev.alma.backend.RowTops;
import dev.alma.backend.Weight;
import dev.alma.io.FormatException;
import dev.alma.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LLaMA-2 decoder: the whole forward pass, written against {@link Backend} so that it runs unchanged on the CPU
 * and on a GPU.
 *
 * <pre>
 *   x = embed(tokens)
 *   for each layer:
 *       h = rmsnorm(x) ; q, k, v = h·Wq, h·Wk, h·Wv ; rope(q, k)
 *       x += attention(q, k, v | kv cache) · Wo
 *       h = rmsnorm(x) ; x += (silu(h·Wgate) * h·Wup) · Wdown
 *   logits = rmsnorm(x) · Wlm_head
 * </pre>
 *
 * A forward call takes a flat batch of tokens, each with the cache sequence it extends and its position there, so
 * one call serves prefill (one sequence, many positions), decoding (one token per sequence), beam search and
 * batched translation alike. LoRA adapters are applied unmerged ({@code + scale · (h·Aᵀ)·Bᵀ}).
 * The model is immutable and thread-safe; per-call state lives in a {@link Context}.
 */
public final class LlamaModel implements AutoCloseable {

    /** A linear layer: its weight and the LoRA deltas applied on top. */
    private record Linear(Weight w, List<LoraDelta> loras) {
        int out() {
            return w.rows();
        }
    }

    private record LoraDelta(Weight a, Weight b, float scale) {
    }

    private record Layer(Weight attnNorm, Linear q, Linear k, Linear v, Linear o,
                         Weight ffnNorm, Linear gate, Linear up, Linear down, Weight[] qkv, Weight[] gateUp) {
        Layer(Weight attnNorm, Linear q, Linear k, Linear v, Linear o, Weight ffnNorm, Linear gate, Linear up, Linear down) {
            this(attnNorm, q, k, v, o, ffnNorm, gate, up, down, new Weight[]{q.w, k.w, v.w}, new Weight[]{gate.w, up.w});
        }
    }

    private final LlamaConfig config;
    private final Backend backend;
    private final Weight embed;
    private final Layer[] layers;
    private final Weight norm;
    private final Weight lmHead;
    private final AutoCloseable owned;
    /** The KV cache's type ({@link ModelOptions#kvCache}). */
    private final dev.alma.tensor.DType kvCache;
    /** Most tokens of one pass through the layers ({@link Backend#chunkTokens}); longer batches are split. */
    private final int chunk;

    private LlamaModel(LlamaConfig config, Backend backend, Weight embed, Layer[] layers, Weight norm, Weight lmHead,
                       AutoCloseable owned) {
        this(config, backend, embed, layers, norm, lmHead, owned, dev.alma.tensor.DType.F32);
    }

    private LlamaModel(LlamaConfig config, Backend backend, Weight embed, Layer[] layers, Weight norm, Weight lmHead,
                       AutoCloseable owned, dev.alma.tensor.DType kvCache) {
        this.config = config;
        this.backend = backend;
        this.embed = embed;
        this.layers = layers;
        this.norm = norm;
        this.lmHead = lmHead;
        this.owned = owned;
        this.kvCache = kvCache;
        this.chunk = backend.chunkTokens();
        if (chunk < 1) throw new IllegalArgumentException(backend.name() + " backend: chunks of " + chunk + " tokens");
    }

    /** This model (and what it owns) with its KV cache held as {@code type}; this instance is not to be used after. */
    private LlamaModel withKvCache(dev.alma.tensor.DType type) {
        if (type != dev.alma.tensor.DType.F32)  // refused here rather than at the first translation
            backend.kvCache(config, 1, type).close();
        return new LlamaModel(config, backend, embed, layers, norm, lmHead, owned, type);
    }

    /**
     * Opens a model: a Hugging Face checkpoint directory, with the backend and LoRA adapters {@code options} name.
     * Closing the model closes all of them.
     */
    public static LlamaModel open(java.nio.file.Path path, ModelOptions options) {
        if (RandomModel.isSpec(path.toString())) return openRandom(path.toString(), options);
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Checkpoint ckpt = Checkpoint.open(path);
            owned.add(ckpt);
            List<LoraAdapter> adapters = new ArrayList<>();
            for (java.nio.file.Path dir : options.loras()) {
                LoraAdapter a = LoraAdapter.open(dir);
                owned.add(a);
                adapters.add(a);
            }
            Backend backend = dev.alma.backend.Backends.open(options.device(), options.threads());
            owned.add(backend);
            return create(ckpt, backend, adapters, () -> closeAll(owned), options.weights()).withKvCache(options.kvCache());
        } catch (RuntimeException e) {
            closeAll(owned);
            throw e;
        }
    }

    /** A {@link RandomModel} spec ({@code random:7b}, ...) on the backend {@code options} name; no LoRA adapters. */
    private static LlamaModel openRandom(String spec, ModelOptions options) {
        RandomModel.Spec s = RandomModel.parse(spec);
        if (!options.loras().isEmpty()) throw new AlmaException("LoRA adapters need a checkpoint, not " + spec);
        if (options.weights() != null)
            throw new AlmaException("a random model's type comes after the colon of " + spec + " (random:7b:q8_0), not from the weights option");
        Backend backend = dev.alma.backend.Backends.open(options.device(), options.threads());
        try {
            return RandomModel.create(s, backend, 1, backend).withKvCache(options.kvCache());
        } catch (RuntimeException e) {
            closeAll(List.of(backend));
            throw e;
        }
    }

    /**
     * A model from weights already on {@code backend} (a checkpoint's, or random ones): per layer {attention norm,
     * q, k, v, o, FFN norm, gate, up, down}, shapes as {@code c} says; no LoRA deltas.
     */
    static LlamaModel ofWeights(LlamaConfig c, Backend backend, Weight embed, Weight[][] layerWeights, Weight norm,
                                Weight lmHead, AutoCloseable owned) {
        Layer[] layers = new Layer[layerWeights.length];
        for (int i = 0; i < layers.length; i++) {
            Weight[] w = layerWeights[i];
            layers[i] = new Layer(w[0], plain(w[1]), plain(w[2]), plain(w[3]), plain(w[4]), w[5], plain(w[6]),
                    plain(w[7]), plain(w[8]));
        }
        return new LlamaModel(c, backend, embed, layers, norm, lmHead, owned);
    }

    private static Linear plain(Weight w) {
        return new Linear(w, List.of());
    }

    private static void closeAll(List<AutoCloseable> resources) {
        RuntimeException first = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (first == null) first = new AlmaException("closing " + resources.get(i) + " failed", e);
            }
        }
        if (first != null) throw first;
    }

    /**
     * Binds a checkpoint's tensors to {@code backend}, checking that every expected tensor is present with the
     * expected shape and that no unexpected tensor is left over.
     *
     * @param owned closed with the model (the checkpoint, usually); may be null
     */
    public static LlamaModel create(Checkpoint ckpt, Backend backend, List<LoraAdapter> adapters, AutoCloseable owned) {
        return create(ckpt, backend, adapters, owned, null);
    }

    /**
     * As {@link #create(Checkpoint, Backend, List, AutoCloseable)}, the f32/f16/bf16 matrices held as {@code weights}
     * where they can be ({@link WeightConversion}; null: as stored).
     */
    public static LlamaModel create(Checkpoint ckpt, Backend backend, List<LoraAdapter> adapters, AutoCloseable owned,
                                    dev.alma.tensor.DType weights) {
        LlamaConfig c = ckpt.config();
        Map<String, Tensor> all = ckpt.tensors();
        Set<String> unused = new LinkedHashSet<>(all.keySet());
        unused.removeIf(n -> n.endsWith("rotary_emb.inv_freq"));
        List<String> missing = new ArrayList<>();
        Binder b = new Binder(ckpt, backend, all, unused, missing, weights);
        Weight embed = b.weight("model.embed_tokens.weight", c.vocabSize(), c.hiddenSize());
        Weight[][] layers = new Weight[c.numLayers()][];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Weight[]{
                    b.weight(p + "input_layernorm.weight", c.hiddenSize()),
                    b.weight(p + "self_attn.q_proj.weight", c.qDim(), c.hiddenSize()),
                    b.weight(p + "self_attn.k_proj.weight", c.kvDim(), c.hiddenSize()),
                    b.weight(p + "self_attn.v_proj.weight", c.kvDim(), c.hiddenSize()),
                    b.weight(p + "self_attn.o_proj.weight", c.hiddenSize(), c.qDim()),
                    b.weight(p + "post_attention_layernorm.weight", c.hiddenSize()),
                    b.weight(p + "mlp.gate_proj.weight", c.intermediateSize(), c.hiddenSize()),
                    b.weight(p + "mlp.up_proj.weight", c.intermediateSize(), c.hiddenSize()),
                    b.weight(p + "mlp.down_proj.weight", c.hiddenSize(), c.intermediateSize())};
        }
        Weight norm = b.weight("model.norm.weight", c.hiddenSize());
        Weight lmHead = c.tieWordEmbeddings() && !all.containsKey("lm_head.weight")
                ? embed : b.weight("lm_head.weight", c.vocabSize(), c.hiddenSize());
        if (!missing.isEmpty())
            throw new FormatException(ckpt.source(), null, "missing tensors: " + String.join(", ", missing));
        if (!unused.isEmpty())
            throw new FormatException(ckpt.source(), null, "unexpected tensors: " + String.join(", ", unused));
        LlamaModel base = ofWeights(c, backend, embed, layers, norm, lmHead, owned);
        return adapters.isEmpty() ? base : base.adapted(adapters, owned);
    }

    /**
     * This model with LoRA adapters applied (unmerged) on top: a view that shares the base weights, so several
     * adapters can serve from one loaded base. Closing the view closes neither the base nor the adapters.
     */
    public LlamaModel withLoras(List<LoraAdapter> adapters) {
        return adapted(adapters, null);
    }

    private LlamaModel adapted(List<LoraAdapter> adapters, AutoCloseable owns) {
        Map<String, LoraAdapter.Delta> deltas = new HashMap<>();
        Map<String, java.nio.file.Path> origin = new HashMap<>();
        for (LoraAdapter a : adapters) {
            for (var e : a.deltas().entrySet()) {
                if (deltas.put(e.getKey(), e.getValue()) != null)
                    throw new AlmaException(e.getKey() + " is adapted by more than one LoRA adapter");
                origin.put(e.getKey(), a.dir());
            }
        }
        Layer[] adaptedLayers = new Layer[layers.length];
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            String p = "model.layers." + i + ".";
            adaptedLayers[i] = new Layer(l.attnNorm,
                    adapt(l.q, p + "self_attn.q_proj.weight", deltas), adapt(l.k, p + "self_attn.k_proj.weight", deltas),
                    adapt(l.v, p + "self_attn.v_proj.weight", deltas), adapt(l.o, p + "self_attn.o_proj.weight", deltas),
                    l.ffnNorm,
                    adapt(l.gate, p + "mlp.gate_proj.weight", deltas), adapt(l.up, p + "mlp.up_proj.weight", deltas),
                    adapt(l.down, p + "mlp.down_proj.weight", deltas));
        }
        if (!deltas.isEmpty()) {
            String name = deltas.keySet().iterator().next();
            throw new FormatException(origin.get(name), name, "the adapter targets a weight the model does not have");
        }
        return new LlamaModel(config, backend, embed, adaptedLayers, norm, lmHead, owns, kvCache);
    }

    /** {@code base} with the delta for {@code name} (taken out of {@code deltas}) added, or {@code base} itself. */
    private Linear adapt(Linear base, String name, Map<String, LoraAdapter.Delta> deltas) {
        LoraAdapter.Delta d = deltas.remove(name);
        if (d == null) return base;
        int out = base.w.rows(), in = base.w.cols();
        if (d.a().dim(1) != in || d.b().dim(0) != out)
            throw new AlmaException("LoRA for " + name + ": A " + d.a().shapeString() + " and B " + d.b().shapeString()
                    + " do not fit a " + out + "x" + in + " weight");
        Tensor b = d.b();
        // over a GGUF base the rows of q_proj/k_proj are in llama.cpp's interleaved order: B's rows must follow
        if (config.ropeInterleaved() && (name.contains(".q_proj.") || name.contains(".k_proj.")))
            b = interleaveRows(b, config.headDim());
        List<LoraDelta> all = new ArrayList<>(base.loras);
        all.add(new LoraDelta(backend.weight(d.a()), backend.weight(b), d.scale()));
        return new Linear(base.w, List.copyOf(all));
    }

    /** A heap copy of {@code t} with Hugging Face row {@code r} moved to {@link GgufCheckpoint#ggufRow}. */
    private static Tensor interleaveRows(Tensor t, int headDim) {
        int rows = t.rows(), cols = t.cols();
        float[] src = t.toFloatArray(), dst = new float[src.length];
        for (int r = 0; r < rows; r++)
            System.arraycopy(src, r * cols, dst, GgufCheckpoint.ggufRow(r, headDim) * cols, cols);
        java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(4L * dst.length);
        java.lang.foreign.MemorySegment.copy(dst, 0, seg, dev.alma.tensor.Layouts.F32, 0, dst.length);
        return new Tensor(t.name(), dev.alma.tensor.DType.F32, t.shape(), seg);
    }

    /** Looks tensors up by name, checks shapes, prepares them on the backend. */
    private record Binder(Checkpoint ckpt, Backend backend, Map<String, Tensor> all, Set<String> unused,
                          List<String> missing, dev.alma.tensor.DType as) {
        Weight weight(String name, long... shape) {
            Tensor t = all.get(name);
            unused.remove(name);
            if (t == null) {
                missing.add(name);
                return null;
            }
            if (!Arrays.equals(t.shape(), shape))
                throw new FormatException(ckpt.source(), name, "shape " + t.shapeString() + ", expected " + Arrays.toString(shape));
            return as == null ? backend.weight(t) : backend.weight(t, as);
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** A KV cache for up to {@code maxTokens} positions (over all its sequences) and scratch buffers. */
    public Context newContext(int maxTokens) {
        return new Context(backend.kvCache(config, maxTokens, kvCache));
    }

    /** The type of the KV cache's keys and values ({@link ModelOptions#kvCache}). */
    public dev.alma.tensor.DType kvCacheType() {
        return kvCache;
    }

    /**
     * How many more KV positions of this model the backend could hold now ({@link Backend#kvPositionsAvailable}).
     */
    public long kvPositionsAvailable() {
        return backend.kvPositionsAvailable(config, kvCache);
    }

    /** Per-caller state of the forward pass: the KV cache and activation buffers sized for the largest chunk. */
    public final class Context implements AutoCloseable {
        private final KvCache cache;
        private int capacity;
        private Activations x, h, q, k, v, att, gate, up, out, last, lastNorm, logits;
        private Activations[] qkv, gateUp;
        private final Map<Integer, Activations[]> loraScratch = new HashMap<>();

        private Context(KvCache cache) {
            this.cache = cache;
        }

        /** The KV cache: create, fork and free sequences here. */
        public KvCache cache() {
            return cache;
        }

        private void ensure(int n) {
            if (n <= capacity) return;
            LlamaConfig c = config;
            capacity = Math.max(n, Math.min(2 * capacity, chunk));
            x = backend.allocate(capacity, c.hiddenSize());
            h = backend.allocate(capacity, c.hiddenSize());
            q = backend.allocate(capacity, c.qDim());
            k = backend.allocate(capacity, c.kvDim());
            v = backend.allocate(capacity, c.kvDim());
            att = backend.allocate(capacity, c.qDim());
            gate = backend.allocate(capacity, c.intermediateSize());
            up = backend.allocate(capacity, c.intermediateSize());
            out = backend.allocate(capacity, c.hiddenSize());
            qkv = new Activations[]{q, k, v};
            gateUp = new Activations[]{gate, up};
            loraScratch.clear();
        }

        private Activations[] lora(int rank, int outCols) {
            return loraScratch.computeIfAbsent(rank * 1_000_003 + outCols,
                    key -> new Activations[]{backend.allocate(capacity, rank), backend.allocate(capacity, outCols)});
        }

        @Override
        public void close() {
            cache.close();
        }
    }

    /**
     * Runs the model over a flat batch of tokens and returns the logits of the requested tokens.
     *
     * @param tokens    token ids
     * @param seqs      the cache sequence each token extends
     * @param positions each token's position in its sequence (earlier positions must be stored or in this batch,
     *                  earlier in the array)
     * @param logitRows indexes into {@code tokens} whose logits are wanted, in any order
     * @return {@code logits[j]} = vocabulary scores after token {@code logitRows[j]}
     */
    public float[][] forward(Context ctx, int[] tokens, int[] seqs, int[] positions, int[] logitRows) {
        float[][] result = new float[logitRows.length][];
        run(ctx, tokens, seqs, positions, logitRows, (logits, m, slot) -> {
            float[][] rows = new float[m][config.vocabSize()];
            backend.read(logits, rows);
            for (int j = 0; j < m; j++) result[slot[j]] = rows[j];
        });
        return result;
    }

    /**
     * {@link #forward}, returning of each requested token's logits only the {@code k} largest and the log-sum-exp
     * ({@link Backend#rowTops}: on a GPU, a few numbers read back instead of a vocabulary row).
     *
     * @return row {@code j} = the tops of the logits after token {@code logitRows[j]}
     */
    public RowTops forwardTops(Context ctx, int[] tokens, int[] seqs, int[] positions, int[] logitRows, int k) {
        if (k < 1 || k > config.vocabSize())
            throw new IllegalArgumentException("top-" + k + " of a vocabulary of " + config.vocabSize());
        int rows = logitRows.length;
        double[] lse = new double[rows];
        int[][] ids = new int[rows][];
        float[][] values = new float[rows][];
        run(ctx, tokens, seqs, positions, logitRows, (logits, m, slot) -> {
            RowTops t = backend.rowTops(logits, m, k);
            for (int j = 0; j < m; j++) {
                lse[slot[j]] = t.logSumExp()[j];
                ids[slot[j]] = t.ids()[j];
                values[slot[j]] = t.values()[j];
            }
        });
        return new RowTops(lse, ids, values);
    }

    /** Receives the logits of a chunk's requested rows ({@code m} of them, on the backend): row j is for slot[j]. */
    private interface LogitsReader {
        void accept(Activations logits, int m, int[] slot);
    }

    private void run(Context ctx, int[] tokens, int[] seqs, int[] positions, int[] logitRows, LogitsReader reader) {
        int total = tokens.length;
        if (seqs.length != total || positions.length != total)
            throw new IllegalArgumentException("tokens, seqs and positions differ in length");
        for (int p : positions)
            if (p < 0 || p >= config.maxPositions())
                throw new AlmaException("position " + p + " is beyond the model's context of " + config.maxPositions());
        for (int start = 0; start < total; start += chunk) {
            int end = Math.min(total, start + chunk);
            int[] rows = new int[logitRows.length];
            int[] slot = new int[logitRows.length];
            int m = 0;
            for (int j = 0; j < logitRows.length; j++) {
                int r = logitRows[j];
                if (r < 0 || r >= total) throw new IllegalArgumentException("logit row " + r + " outside the batch");
                if (r >= start && r < end) {
                    rows[m] = r - start;
                    slot[m++] = j;
                }
            }
            Activations logits = forwardChunk(ctx, Arrays.copyOfRange(tokens, start, end),
                    Arrays.copyOfRange(seqs, start, end), Arrays.copyOfRange(positions, start, end),
                    Arrays.copyOf(rows, m));
            if (m > 0) reader.accept(logits, m, Arrays.copyOf(slot, m));
        }
    }

    /**
     * Appends {@code tokens} to sequence {@code seq} of the context's cache (positions continue from its length)
     * and returns the logits after every token, or only after the last one.
     */
    public float[][] append(Context ctx, int seq, int[] tokens, boolean allLogits) {
        int start = ctx.cache().length(seq), n = tokens.length;
        int[] seqs = new int[n], positions = new int[n];
        java.util.Arrays.fill(seqs, seq);
        for (int i = 0; i < n; i++) positions[i] = start + i;
        int[] rows = allLogits ? java.util.stream.IntStream.range(0, n).toArray() : new int[]{n - 1};
        return forward(ctx, tokens, seqs, positions, rows);
    }

    /** The layers over one chunk; returns the logits of the {@code logitRows} (their first rows), or null for none. */
    private Activations forwardChunk(Context ctx, int[] tokens, int[] seqs, int[] positions, int[] logitRows) {
        int n = tokens.length;
        LlamaConfig c = config;
        ctx.ensure(n);
        Backend be = backend;
        be.embed(embed, tokens, ctx.x);
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            // attention block
            if (layer.q.loras.isEmpty() && layer.k.loras.isEmpty()) {  // rotation right after the products
                be.rmsNormQkvRope(ctx.x, layer.attnNorm, c.rmsNormEps(), n, ctx.h, layer.qkv, ctx.qkv, c.numHeads(),
                        c.numKvHeads(), c.headDim(), positions, c.ropeTheta(), c.ropeInterleaved());
                loras(ctx, ctx.h, layer.v, n, ctx.v);
            } else {
                be.rmsNormMatmul(ctx.x, layer.attnNorm, c.rmsNormEps(), n, ctx.h, layer.qkv, ctx.qkv);
                loras(ctx, ctx.h, layer.q, n, ctx.q);
                loras(ctx, ctx.h, layer.k, n, ctx.k);
                loras(ctx, ctx.h, layer.v, n, ctx.v);
                be.ropeQk(ctx.q, c.numHeads(), ctx.k, c.numKvHeads(), c.headDim(), positions, c.ropeTheta(),
                        c.ropeInterleaved());
            }
            be.attention(ctx.q, ctx.k, ctx.v, ctx.cache, l, seqs, positions, n, ctx.att);
            residual(ctx, ctx.att, layer.o, n);
            // feed-forward block
            if (layer.gate.loras.isEmpty() && layer.up.loras.isEmpty()) {  // ALMA's LoRA adapts down_proj only
                be.rmsNormGateUpSwiglu(ctx.x, layer.ffnNorm, c.rmsNormEps(), n, ctx.h, layer.gate.w, layer.up.w,
                        ctx.gate, ctx.up);
            } else {
                be.rmsNorm(ctx.x, layer.ffnNorm, c.rmsNormEps(), n, ctx.h);
                be.matmul(ctx.h, layer.gateUp, n, ctx.gateUp);
                loras(ctx, ctx.h, layer.gate, n, ctx.gate);
                loras(ctx, ctx.h, layer.up, n, ctx.up);
                be.swiglu(ctx.gate, ctx.up, n);
            }
            residual(ctx, ctx.gate, layer.down, n);
        }
        int m = logitRows.length;
        if (m == 0) return null;
        if (ctx.last == null || ctx.last.rows() < m) {
            int cap = Math.max(m, ctx.last == null ? 1 : 2 * ctx.last.rows());
            ctx.last = be.allocate(cap, c.hiddenSize());
            ctx.lastNorm = be.allocate(cap, c.hiddenSize());
            ctx.logits = be.allocate(cap, c.vocabSize());
        }
        boolean leading = true;  // the first m rows, in order (decode steps): no copy needed
        for (int j = 0; j < m; j++) leading &= logitRows[j] == j;
        Activations last = ctx.x;
        if (!leading) {
            be.copyRows(ctx.x, logitRows, ctx.last);
            last = ctx.last;
        }
        be.rmsNormMatmul(last, norm, c.rmsNormEps(), m, ctx.lastNorm, new Weight[]{lmHead},
                new Activations[]{ctx.logits});
        return ctx.logits;
    }

    /** {@code out = x·Wᵀ (+ scale·(x·Aᵀ)·Bᵀ for each LoRA delta)}. */
    private void linear(Context ctx, Activations x, Linear lin, int n, Activations out) {
        backend.matmul(x, lin.w, n, out);
        loras(ctx, x, lin, n, out);
    }

    /**
     * The residual connection after a projection: {@code ctx.x += x·Wᵀ (+ LoRA deltas)}, the product added in one
     * operation where the backend fuses it (no LoRA), else computed into {@code ctx.out} and added.
     */
    private void residual(Context ctx, Activations x, Linear lin, int n) {
        if (lin.loras.isEmpty()) {
            backend.matmulAdd(x, lin.w, n, ctx.out, ctx.x);
        } else {
            linear(ctx, x, lin, n, ctx.out);
            backend.addScaled(ctx.x, ctx.out, 1f, n);
        }
    }

    /** {@code out += scale·(x·Aᵀ)·Bᵀ} for each LoRA delta of {@code lin}. */
    private void loras(Context ctx, Activations x, Linear lin, int n, Activations out) {
        for (LoraDelta d : lin.loras) {
            Activations[] s = ctx.lora(d.a.rows(), lin.out());
            backend.matmul(x, d.a, n, s[0]);
            backend.matmul(s[0], d.b, n, s[1]);
            backend.addScaled(out, s[1], d.scale, n);
        }
    }

    /** Closes what the model owns (its checkpoint), not the backend. */
    @Override
    public void close() {
        if (owned == null) return;
        try {
            owned.close();
        } catch (Exception e) {
            throw new AlmaException("closing the model failed: " + e.getMessage(), e);
        }
    }
}
