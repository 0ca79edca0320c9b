package dev.alma.backend;

import dev.alma.model.LlamaConfig;
import dev.alma.model.RandomModel;
import dev.alma.model.WeightConversion;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

/**
 * The device the model computes on: the handful of operations a LLaMA forward pass needs. The model
 * ({@code dev.alma.model.LlamaModel}) is written against this interface only; the pure-Java CPU backend is the
 * default and the CUDA backend of {@code alma-native} plugs in through {@link BackendProvider}.
 *
 * <p>Activations are {@code [rows, cols]} row-major float matrices owned by the backend; a forward pass over
 * {@code n} tokens uses their first {@code n} rows ({@link Activations#rows()} is the capacity, and every operation
 * takes the number of rows {@code n} to work on). Weights are prepared once with {@link #weight}.
 * A backend instance is used by one forward pass at a time per set of activations; weights and the backend itself
 * are shared by all threads.
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. {@code cpu} or {@code cuda:0}. */
    String name();

    /** Prepares a stored matrix {@code [rows, cols]} or vector for use by this backend (CPU: in place; GPU: upload). */
    Weight weight(Tensor stored);

    /**
     * As {@link #weight(Tensor)}, held as {@code as} when {@link WeightConversion#converts} says the stored matrix
     * can be (an f32/f16/bf16 matrix quantized on load); otherwise as stored. The default converts on the host into
     * memory from an automatic arena; a backend may use its own.
     */
    default Weight weight(Tensor stored, DType as) {
        if (!WeightConversion.converts(stored, as)) return weight(stored);
        return weight(WeightConversion.convert(stored, as, WeightConversion.automaticMemory(stored.name() + " as " + as)));
    }

    /**
     * A weight {@code [rows, cols]} (a vector when {@code rows == 1}) of {@code type} with values uniform in
     * {@code [-scale, scale)} drawn from {@code seed}: full-size shapes for benchmarks without a checkpoint. The
     * default draws them on the host ({@link RandomModel#uniform}) and passes them to {@link #weight};
     * a backend may fill its own memory instead (then the values may differ).
     */
    default Weight randomWeight(String name, DType type, int rows, int cols, long seed, float scale) {
        return weight(RandomModel.uniform(name, type, rows, cols, seed, scale));
    }

    /** New activation buffer with capacity {@code rows × cols}, zero-filled. */
    Activations allocate(int rows, int cols);

    /** A key/value cache for {@code config}'s layers holding up to {@code maxTokens} positions over all sequences. */
    KvCache kvCache(LlamaConfig config, int maxTokens);

    /**
     * A key/value cache whose keys and values are held as {@code type}: {@link dev.alma.tensor.DType#F32}, or another
     * type where the backend has one (the CPU's F16).
     *
     * @throws dev.alma.AlmaException for a type the backend does not hold
     */
    default KvCache kvCache(LlamaConfig config, int maxTokens, dev.alma.tensor.DType type) {
        if (type != dev.alma.tensor.DType.F32)
            throw new dev.alma.AlmaException("the " + name() + " backend keeps its KV cache in f32, not " + type);
        return kvCache(config, maxTokens);
    }

    /**
     * How many more key/value positions of {@code config} in a cache of {@code type} the backend could hold now: its
     * free memory, less some to spare, over a position's size. A batch of prompts plans its cache within it
     * ({@code Long.MAX_VALUE}: unknown).
     */
    default long kvPositionsAvailable(LlamaConfig config, dev.alma.tensor.DType type) {
        return Long.MAX_VALUE;
    }

    /**
     * Most tokens the model passes through the layers at once; longer batches (a long prompt, several prompts joining)
     * are split into chunks of this many. Larger chunks make larger matrix products (a GPU needs more rows to keep
     * its multiprocessors busy) and larger activation buffers. The default is 256.
     */
    default int chunkTokens() {
        return 256;
    }

    /** {@code out[i] = table[tokens[i]]} for the first {@code tokens.length} rows. */
    void embed(Weight table, int[] tokens, Activations out);

    /** {@code out[i] = x[i] / rms(x[i]) * gamma} over the first {@code n} rows ({@code out} may be {@code x}). */
    void rmsNorm(Activations x, Weight gamma, float eps, int n, Activations out);

    /** {@code out[i] = x[i] · Wᵀ} for the first {@code n} rows: {@code x} has {@code w.cols()} columns, {@code out} {@code w.rows()}. */
    void matmul(Activations x, Weight w, int n, Activations out);

    /**
     * {@link #matmul} of the same input with several weights ({@code out[j] = x · ws[j]ᵀ}), such as the Q, K and V
     * projections: a backend may run them as one operation. The default runs them one after another.
     */
    default void matmul(Activations x, Weight[] ws, int n, Activations[] outs) {
        if (ws.length != outs.length) throw new IllegalArgumentException(ws.length + " weights, " + outs.length + " outputs");
        for (int j = 0; j < ws.length; j++) matmul(x, ws[j], n, outs[j]);
    }

    /**
     * Rotary position embedding in place on the first {@code positions.length} rows of {@code x}, viewed as
     * {@code heads × headDim}: pairs {@code (j, j + headDim/2)} (Hugging Face layout) or, when {@code interleaved},
     * adjacent pairs {@code (2j, 2j+1)} (llama.cpp's GGUF layout), with frequency {@code theta^(-2j/headDim)}.
     */
    void rope(Activations x, int heads, int headDim, int[] positions, double theta, boolean interleaved);

    /**
     * {@link #rope} of a layer's queries ({@code heads} per row) and keys ({@code kvHeads} per row) at the same
     * positions: a backend may run both as one operation. The default rotates one after the other.
     */
    default void ropeQk(Activations q, int heads, Activations k, int kvHeads, int headDim, int[] positions,
                        double theta, boolean interleaved) {
        rope(q, heads, headDim, positions, theta, interleaved);
        rope(k, kvHeads, headDim, positions, theta, interleaved);
    }

    /**
     * Causal attention of the first {@code n} tokens. Token {@code i} belongs to sequence {@code seqs[i]} of
     * {@code cache} at position {@code positions[i]}; its key and value rows are first stored there, then its query
     * attends to positions {@code 0..positions[i]} of that sequence. Queries have {@code heads × headDim} columns,
     * keys and values {@code kvHeads × headDim} (grouped-query attention when fewer).
     */
    void attention(Activations q, Activations k, Activations v, KvCache cache, int layer,
                   int[] seqs, int[] positions, int n, Activations out);

    /**
     * {@code h = rmsNorm(x)} then {@code outs[j] = h·ws[j]ᵀ} over the first {@code n} rows: the normalisation that opens
     * the attention block (Q, K, V) and the LM head. A backend may fold the normalisation into the products; {@code h}
     * is written either way (LoRA deltas read it). The default is {@link #rmsNorm} then
     * {@link #matmul(Activations, Weight[], int, Activations[])}.
     */
    default void rmsNormMatmul(Activations x, Weight gamma, float eps, int n, Activations h, Weight[] ws,
                               Activations[] outs) {
        rmsNorm(x, gamma, eps, n, h);
        matmul(h, ws, n, outs);
    }

    /**
     * The attention block's opening: {@link #rmsNormMatmul} into the Q, K and V projections {@code outs}, then
     * {@link #ropeQk} of {@code outs[0]} and {@code outs[1]} at {@code positions} (one per row). A backend may rotate
     * inside the products; the default runs the two.
     */
    default void rmsNormQkvRope(Activations x, Weight gamma, float eps, int n, Activations h, Weight[] qkv,
                                Activations[] outs, int heads, int kvHeads, int headDim, int[] positions, double theta,
                                boolean interleaved) {
        rmsNormMatmul(x, gamma, eps, n, h, qkv, outs);
        ropeQk(outs[0], heads, outs[1], kvHeads, headDim, positions, theta, interleaved);
    }

    /**
     * {@code h = rmsNorm(x)} then {@link #gateUpSwiglu} of {@code h}: the opening of the feed-forward block. A backend
     * may fold the normalisation into the products; {@code h} is written either way.
     */
    default void rmsNormGateUpSwiglu(Activations x, Weight gamma, float eps, int n, Activations h, Weight gate,
                                     Weight up, Activations gateOut, Activations upOut) {
        rmsNorm(x, gamma, eps, n, h);
        gateUpSwiglu(h, gate, up, n, gateOut, upOut);
    }

    /** {@code gate = silu(gate) * up} over the first {@code n} rows. */
    void swiglu(Activations gate, Activations up, int n);

    /**
     * The feed-forward block's first half: {@code gate = silu(x·Wgᵀ) * (x·Wuᵀ)} over the first {@code n} rows, with
     * {@code up} as scratch (its contents afterwards are unspecified). A backend may fuse it into one operation; the
     * default is {@link #matmul(Activations, Weight[], int, Activations[])} then {@link #swiglu}.
     */
    default void gateUpSwiglu(Activations x, Weight gate, Weight up, int n, Activations gateOut, Activations upOut) {
        matmul(x, new Weight[]{gate, up}, n, new Activations[]{gateOut, upOut});
        swiglu(gateOut, upOut, n);
    }

    /**
     * {@code out += x·Wᵀ} over the first {@code n} rows (a projection followed by its residual connection), with
     * {@code scratch} ({@code w.rows()} columns) free to be overwritten. A backend may fuse the two; the default is
     * {@link #matmul} into {@code scratch}, then {@link #addScaled}.
     */
    default void matmulAdd(Activations x, Weight w, int n, Activations scratch, Activations out) {
        matmul(x, w, n, scratch);
        addScaled(out, scratch, 1f, n);
    }

    /** {@code x += scale * y} over the first {@code n} rows. */
    void addScaled(Activations x, Activations y, float scale, int n);

    /** {@code dst[i] = src[rows[i]]} for every {@code i} (picks the rows whose logits are wanted). */
    void copyRows(Activations src, int[] rows, Activations dst);

    /** Copies row {@code row} of {@code x} to {@code dst[dstOff ..]}. */
    void read(Activations x, int row, float[] dst, int dstOff);

    /**
     * Copies rows {@code 0 .. dst.length-1} of {@code x} to {@code dst} (each as long as {@code x} is wide): a GPU
     * backend reads them with one copy. The default reads them one by one.
     */
    default void read(Activations x, float[][] dst) {
        for (int j = 0; j < dst.length; j++) read(x, j, dst[j], 0);
    }

    /**
     * Whether {@link #rowTops} runs where the activations live (a GPU), so that calling it saves reading whole rows;
     * false by default.
     */
    default boolean rowTopsOnDevice() {
        return false;
    }

    /**
     * The {@code k} largest values of each of the first {@code n} rows of {@code x} and each row's log-sum-exp (beam
     * search over logits). The default reads the rows and computes them on the host ({@link RowTops#of}).
     */
    default RowTops rowTops(Activations x, int n, int k) {
        if (n < 0 || n > x.rows() || k < 1 || k > x.cols())
            throw new IllegalArgumentException("top-" + k + " of " + n + " rows of " + x.rows() + "x" + x.cols());
        float[][] rows = new float[n][x.cols()];
        read(x, rows);
        return RowTops.of(rows, k);
    }

    /** Releases device memory and threads. */
    @Override
    void close();
}
