/*
 * alma_cuda.h: the C ABI of alma's CUDA kernels (built by cpp/build.sh into libalma_cuda.a, bound to Java by
 * dev.alma.cuda.AlmaCuda through JavaCPP).
 *
 * Conventions
 *  - Every function returns a cudaError_t value as an int: 0 (cudaSuccess) or the first error met. Host wrappers
 *    check every CUDA call and the launch of every kernel; alma_error_string() names a code.
 *  - Activations are row-major float32 matrices; "n" is the number of rows (tokens) worked on and "stride" the
 *    number of floats between consecutive rows.
 *  - Weights are row-major [rows, cols] matrices of type ALMA_F32, ALMA_F16 or ALMA_BF16.
 *  - Pointers named d_* are device pointers, h_* host pointers. "stream" is a cudaStream_t (NULL: legacy stream).
 *  - Launches are asynchronous on the stream; only the *_d2h copies and alma_stream_sync wait.
 *
 * KV cache layout: one page holds page_size positions of every layer (pages and their tables as in the CPU cache,
 * dev.alma.backend.PagedKvCache); the elements (float32, or f16) of page p start at p * layers * 2 * page_size *
 * kv_dim and are laid out as [layer][k=0|v=1][slot][kv_dim] (the CPU cache orders a page [layer][k|v][kv head][slot]
 * [head_dim] instead).
 */
#ifndef ALMA_CUDA_H
#define ALMA_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ALMA_F32 = 0, ALMA_F16 = 1, ALMA_BF16 = 2 };

/** Most activation rows one GEMV launch serves (decode with beams); more rows use the GEMM. */
#define ALMA_GEMV_MAX_ROWS 8
/** Largest head dimension the attention kernels accept. */
#define ALMA_MAX_HEAD_DIM 256
/** Most splits of the key range the paged attention accepts. */
#define ALMA_MAX_SPLITS 64

/* ---- runtime ---------------------------------------------------------------------------------------------- */
const char *alma_error_string(int code);
int alma_device_count(int *count);
/** Name (NUL-terminated, truncated to len-1 bytes), compute capability major*10+minor and SM count. */
int alma_device_info(int device, char *name, int len, int *capability, int *sms);
int alma_set_device(int device);
/**
 * Programmatic dependent launch (sm_90) of the decode GEMVs and the paged attention, process-wide: on (1), each may
 * start while the kernel before it drains, loading its first weight chunks meanwhile, and waits for that kernel's
 * results before touching activations; off (0, the default), ordinary launches. Results are the same either way.
 * cudaErrorNotSupported on a device older than compute capability 9.0.
 */
int alma_set_pdl(int on);
int alma_mem_info(size_t *free_bytes, size_t *total_bytes);
int alma_malloc(void **d_ptr, size_t bytes);
int alma_free(void *d_ptr);
int alma_memset(void *d_ptr, int value, size_t bytes, void *stream);
int alma_memcpy_h2d(void *d_dst, const void *h_src, size_t bytes, void *stream);
/** Copies to the host and waits for the stream. */
int alma_memcpy_d2h(void *h_dst, const void *d_src, size_t bytes, void *stream);
int alma_memcpy_d2d(void *d_dst, const void *d_src, size_t bytes, void *stream);
int alma_stream_create(void **stream);
int alma_stream_destroy(void *stream);
int alma_stream_sync(void *stream);
int alma_event_create(void **event);
int alma_event_destroy(void *event);
int alma_event_record(void *event, void *stream);
/** Milliseconds between two recorded events (waits for the second). */
int alma_event_elapsed(void *start, void *end, float *ms);
/** Waits until the event's recorded work has finished. */
int alma_event_sync(void *event);
/** Page-locked host memory (copies from it are truly asynchronous). */
int alma_malloc_host(void **h_ptr, size_t bytes);
int alma_free_host(void *h_ptr);
/** Host-to-device copy queued on the stream without waiting: h_src must be page-locked and stay unchanged until the
 *  copy has run (record an event after it). */
int alma_memcpy_h2d_async(void *d_dst, const void *h_src, size_t bytes, void *stream);

/* ---- Q8_0 weights (gemv_q8_0.cu): q [rows][cols] int8 and d [rows][cols/32] f16, value = d * q -------------- */
/** Splits `blocks` GGUF Q8_0 blocks (34 bytes: f16 d, 32 int8 q; 2-byte aligned) into the q and d arrays. */
int alma_q8_0_unpack(const void *d_raw, void *d_q, void *d_scales, size_t blocks, void *stream);
/** y[t] = W x[t] for n <= ALMA_GEMV_MAX_ROWS float32 rows x (cols % 32 == 0, d_q and d_x 16-byte aligned). */
int alma_gemv_q8_0(const void *d_q, const void *d_scales, const float *d_x, float *d_y, int rows, int cols, int n,
                   void *stream);
/** d_out (type) = d * q for count values (count % 32 == 0), e.g. to feed the GEMM. */
int alma_q8_0_dequant(const void *d_q, const void *d_scales, void *d_out, int type, size_t count, void *stream);
/** out[i] = row tokens[i] of a Q8_0 table, as floats (zero row for a token outside [0, vocab)). */
int alma_embed_q8_0(const void *d_q, const void *d_scales, const int *d_tokens, float *d_out, int n, int cols,
                    int vocab, void *stream);

/* ---- CUDA graphs (graph.cu) --------------------------------------------------------------------------------- */
/** Starts capturing the stream's launches into a graph (thread-local capture mode). */
int alma_graph_begin(void *stream);
/** Ends the capture and instantiates it: *exec receives a cudaGraphExec_t (NULL on error). */
int alma_graph_end(void *stream, void **exec);
/** Replays an instantiated graph on the stream. */
int alma_graph_launch(void *exec, void *stream);
int alma_graph_destroy(void *exec);

/* ---- element-wise and small ops --------------------------------------------------------------------------- */
/** d_dst (type) = round(d_src) for count floats; ALMA_F32 copies. */
int alma_convert_f32(const float *d_src, void *d_dst, int type, size_t count, void *stream);
/** d_dst[i] = float(d_src[i]) for count elements of type. */
int alma_convert_to_f32(const void *d_src, int type, float *d_dst, size_t count, void *stream);
/** Fills count elements of type with uniform values in [-scale, scale) from a counter-based hash of seed. */
int alma_fill_uniform(void *d_dst, int type, size_t count, unsigned long long seed, float scale, void *stream);
/** x += scale * y over count floats. */
int alma_add_scaled(float *d_x, const float *d_y, float scale, size_t count, void *stream);
/** gate = silu(gate) * up over count floats. */
int alma_swiglu(float *d_gate, const float *d_up, size_t count, void *stream);
/** out[i] = x[i] / sqrt(mean(x[i]^2) + eps) * gamma for n rows of cols floats (out may be x). */
int alma_rmsnorm(const float *d_x, const float *d_gamma, float *d_out, int n, int cols, float eps, void *stream);
/**
 * Rotary embedding in place on n rows of heads*head_dim floats (row stride: stride). Angle of pair j at position p:
 * float(p) * inv_freq[j], inv_freq[j] = 1 / float(theta^(2j/head_dim)) (Hugging Face, float32). Pairs (j, j+hd/2)
 * or, when interleaved, (2j, 2j+1).
 */
int alma_rope(float *d_x, const int *d_positions, int n, int heads, int head_dim, int stride, double theta,
              int interleaved, void *stream);
/** alma_rope of a layer's query rows (heads per row) and key rows (kv_heads per row) in one launch. */
int alma_rope_qk(float *d_q, int q_stride, int heads, float *d_k, int k_stride, int kv_heads, const int *d_positions,
                 int n, int head_dim, double theta, int interleaved, void *stream);
/** out[i] = table[tokens[i]] as floats; a token outside [0, vocab) gives a zero row. */
int alma_embed(const void *d_table, int type, const int *d_tokens, float *d_out, int n, int cols, int vocab,
               void *stream);
/** d_out[i] = index of the largest of row i's cols floats (lowest index on ties). */
int alma_argmax(const float *d_x, int n, int cols, int *d_out, void *stream);
/**
 * The k largest of each of n rows, largest first (lowest index first on ties): d_values and d_indices are [n, k].
 * 1 <= k <= cols.
 */
int alma_topk(const float *d_x, int n, int cols, int k, float *d_values, int *d_indices, void *stream);
/**
 * alma_topk and, in d_lse [n], each row's log Σ exp (float32: max + log Σ exp(x - max); -inf for a row of -inf), so
 * that beam search reads k log-probabilities per row instead of the row.
 */
int alma_topk_lse(const float *d_x, int n, int cols, int k, float *d_values, int *d_indices, float *d_lse,
                  void *stream);

/* ---- matrix products: y = x · Wᵀ --------------------------------------------------------------------------- */
/** y[t] = W x[t] for n <= ALMA_GEMV_MAX_ROWS rows; x is [n, cols], y [n, rows]. 16-byte weight loads when cols % 8 == 0. */
int alma_gemv(const void *d_w, int type, const float *d_x, float *d_y, int rows, int cols, int n, void *stream);
/** y[t] += W x[t]: alma_gemv added to y (the residual connection after a projection). */
int alma_gemv_add(const void *d_w, int type, const float *d_x, float *d_y, int rows, int cols, int n, void *stream);
/**
 * y[t] = W x[t] for n <= ALMA_GEMV_MAX_ROWS rows on tensor cores (beam search): W of type ALMA_BF16 or ALMA_F16,
 * x [n, cols] float32 rounded to W's type as it is read, cols % 8 == 0, 16-byte aligned; f32 accumulation.
 */
int alma_gemv_tc(const void *d_w, int type, const float *d_x, float *d_y, int rows, int cols, int n, void *stream);
/**
 * Up to three alma_gemv_tc products sharing x in one launch (fused Q, K, V projections; a matrix of 0 rows is
 * skipped); with accumulate != 0 each product is added to its y.
 */
int alma_gemv_tc3(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
                  const float *d_x, float *d_y0, float *d_y1, float *d_y2, int cols, int n, int accumulate,
                  void *stream);
/**
 * Picks the launch shape of the tensor-core GEMVs (warps splitting K, loads issued together) for this process:
 * 0 (the default) to 5. A benchmarking hook; results are the same for every variant up to rounding order.
 */
int alma_gemv_tc_set_variant(int variant);
/**
 * Picks the kernels of the one-token CUDA-core GEMVs (alma_gemv, alma_gemv_add, alma_gemv3*, alma_gemv_swiglu*, n == 1)
 * for this process: 0 (the default here; CudaBackend picks 2 on compute capability 9.0+) one warp per weight row
 * (gemv.cu); 1 to 7: persistent blocks streaming their rows into shared memory with bulk copies (1: one block per SM
 * in ~200 KB, 2: two in ~100 KB each, 3: one in ~100 KB, 4: three in ~67 KB each, 5: four in ~50 KB each, 6: two in
 * ~75 KB each, 7: two in ~56 KB each; fewer where registers hold fewer; 3, 6 and 7 leave room for the next kernel's
 * blocks) (gemv_stream.cu; compute capability 9.0 and later, else cudaErrorInvalidDeviceFunction; 16-bit weights with
 * cols % 8 == 0, other shapes keep the warp kernels). The same products up to rounding order.
 */
int alma_gemv_set_variant(int variant);
/** The kernels alma_gemv_set_variant selected last (0 unless it was called). */
int alma_gemv_variant(void);
/**
 * 1: the tensor-core GEMVs of 2..5 tokens (alma_gemv_tc, alma_gemv_tc3*, alma_gemv_tc_swiglu*: beam search) take the
 * streamed kernels of alma_gemv_set_variant instead where a streamed variant is selected and rows are at most 4,096
 * 16-bit columns (x rounded to the weights' type as the tensor-core kernels round it); 0 (the default): they do not.
 * cudaErrorInvalidValue for anything else.
 */
int alma_gemv_stream_beams(int on);
/** y[t] = silu(Wg x[t]) * (Wu x[t]) on tensor cores (beam search), as alma_gemv_tc; y is [n, rows]. */
int alma_gemv_tc_swiglu(const void *d_wg, const void *d_wu, int type, const float *d_x, float *d_y, int rows,
                        int cols, int n, void *stream);
/** Three GEMVs sharing x in one launch (fused Q, K, V projections). */
int alma_gemv3(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
               const float *d_x, float *d_y0, float *d_y1, float *d_y2, int cols, int n, void *stream);
/** y[t] = silu(Wg x[t]) * (Wu x[t]) (fused gate/up projections and SwiGLU); y is [n, rows]. */
int alma_gemv_swiglu(const void *d_wg, const void *d_wu, int type, const float *d_x, float *d_y, int rows, int cols,
                     int n, void *stream);
/**
 * alma_gemv3 of the RMS-normalised rows h[t] = gamma ⊙ x[t] / sqrt(mean(x[t]²) + eps) (d_gamma: cols float32
 * values), which are also written to d_h ([n, cols], not aliasing x); the normalisation is folded into the products
 * (y = W (gamma ⊙ x) / rms). rows0 > 0.
 */
int alma_gemv3_norm(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
                    const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0, float *d_y1,
                    float *d_y2, int cols, int n, void *stream);
/**
 * alma_gemv3_norm followed by alma_rope_qk of y0 (queries) and y1 (keys) at d_positions [n], in the same launch: the
 * rows a rotation pairs are computed side by side and rotated before they are stored. head_dim % 4 == 0, rows0 and
 * rows1 multiples of head_dim; y0 and y1 are [n, rows0] and [n, rows1].
 */
int alma_gemv3_norm_rope(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1,
                         int rows2, const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0,
                         float *d_y1, float *d_y2, int cols, int n, const int *d_positions, int head_dim,
                         double theta, int interleaved, void *stream);
/** alma_gemv_swiglu of the RMS-normalised rows, written to d_h, as alma_gemv3_norm. */
int alma_gemv_swiglu_norm(const void *d_wg, const void *d_wu, int type, const float *d_x, const float *d_gamma,
                          float eps, float *d_h, float *d_y, int rows, int cols, int n, void *stream);
/**
 * alma_gemv_tc3 (no accumulation) of the RMS-normalised rows, written to d_h, as alma_gemv3_norm (beam search);
 * d_gamma 16-byte aligned. The products round γ ⊙ x to the weights' type and scale by 1 / rms afterwards.
 */
int alma_gemv_tc3_norm(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1,
                       int rows2, const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0,
                       float *d_y1, float *d_y2, int cols, int n, void *stream);
/**
 * alma_gemv_tc3_norm followed by RoPE of y0 (queries) and y1 (keys) at d_positions [n], as alma_gemv3_norm_rope:
 * head_dim % 16 == 0 here (a block of 16 rows holds 8 rotation pairs).
 */
int alma_gemv_tc3_norm_rope(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1,
                            int rows2, const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0,
                            float *d_y1, float *d_y2, int cols, int n, const int *d_positions, int head_dim,
                            double theta, int interleaved, void *stream);
/** alma_gemv_tc_swiglu of the RMS-normalised rows, written to d_h, as alma_gemv_tc3_norm. */
int alma_gemv_tc_swiglu_norm(const void *d_wg, const void *d_wu, int type, const float *d_x, const float *d_gamma,
                             float eps, float *d_h, float *d_y, int rows, int cols, int n, void *stream);
/**
 * C[m, n] = A[m, k] · W[n, k]ᵀ with f32 accumulation.
 *  - a_type == w_type == ALMA_BF16 or ALMA_F16: tensor cores (mma.sync m16n8k16, or wgmma: alma_gemm_set_variant),
 *    k % 8 == 0, 16-byte aligned A, W.
 *  - a_type == ALMA_F32 (w_type any): CUDA cores, exact float32 products, any k.
 */
int alma_gemm(const void *d_a, int a_type, const void *d_w, int w_type, float *d_c, int m, int n, int k, void *stream);
/**
 * The 16-bit tensor-core kernel alma_gemm uses from now on, process-wide (a benchmarking and testing hook):
 * 0 mma.sync (the default, sm_80 and later), 1..9 shapes of the wgmma kernels, 7..9 fed by TMA, 10 shape 8 or 9
 * by the product's tile count (sm_90a;
 * cudaErrorInvalidDeviceFunction unless the current device has compute capability 9.0; gemm_wgmma.cu lists them).
 */
int alma_gemm_set_variant(int variant);
/** The kernel alma_gemm_set_variant selected last (0 unless it was called). */
int alma_gemm_variant(void);

/* ---- attention ---------------------------------------------------------------------------------------------- */
/**
 * Causal flash attention of one sequence of n tokens at positions 0..n-1: q is [n, heads*head_dim] (row stride
 * q_stride), k and v [n, kv_heads*head_dim] (kv_stride), out [n, heads*head_dim] (out_stride). heads % kv_heads == 0,
 * head_dim <= ALMA_MAX_HEAD_DIM. Scores are scaled by scale.
 */
int alma_attention_prefill(const float *d_q, int q_stride, const float *d_k, const float *d_v, int kv_stride,
                           float *d_out, int out_stride, int n, int heads, int kv_heads, int head_dim, float scale,
                           void *stream);
/**
 * The same on tensor cores: q, k, v are bf16 (strides in elements; k and v rows 16-byte aligned), head_dim 64 or
 * 128, softmax and accumulation in f32, probabilities rounded to bf16 for the P·V product.
 */
int alma_attention_prefill_tc(const void *d_q, int q_stride, const void *d_k, const void *d_v, int kv_stride,
                              float *d_out, int out_stride, int n, int heads, int kv_heads, int head_dim, float scale,
                              void *stream);
/**
 * The kernel alma_attention_prefill_tc uses for head dim 128 from now on, process-wide (a benchmarking and testing
 * hook): 0 mma.sync (the default), 1 wgmma with V transposed in shared memory, 2 wgmma reading V N-major (sm_90a;
 * cudaErrorInvalidDeviceFunction unless the current device has compute capability 9.0).
 */
int alma_attention_prefill_set_variant(int variant);
/**
 * Stores the key and value rows of n tokens of one layer into their cache pages (page ids and slots per token);
 * cache_type ALMA_F32 or ALMA_F16 (the pages' elements; f16 rounds to nearest).
 */
int alma_kv_store(const float *d_k, const float *d_v, int kv_stride, void *d_pages, int cache_type,
                  const int *d_page, const int *d_slot, int n, int layer, int layers, int page_size, int kv_dim,
                  void *stream);
/** Floats of workspace alma_attention_paged needs. */
size_t alma_attention_paged_workspace(int n, int heads, int head_dim, int splits);
/**
 * The paged attention's path for splits of at most 32 keys, process-wide (a benchmarking hook): 0 (the default) the
 * general one, 1 the short-split one (head dims up to 128 that are multiples of 4: the page-table entries and all
 * key and value rows of a split loaded at once). The same results bit for bit.
 */
int alma_attention_paged_set_variant(int variant);
/** The path alma_attention_paged_set_variant selected last (0 unless it was called). */
int alma_attention_paged_variant(void);
/**
 * Attention of n query tokens over the paged cache: token i attends to positions 0..positions[i] of the sequence
 * whose page table is d_tables[i * table_stride ..]. The key range is split into `splits` parts computed by
 * different blocks and combined (flash-decoding) by the last of them to finish, in the same launch;
 * 1 <= splits <= ALMA_MAX_SPLITS. d_workspace holds alma_attention_paged_workspace(n, heads, head_dim, splits)
 * floats; d_counters holds n * heads ints that are zero before the call and zero again after it (allocate them
 * zeroed once; needed when splits > 1). Launches sharing d_counters must not run concurrently.
 * d_k == NULL: every position, the newest included, is read from the pages (alma_kv_store ran). Otherwise the
 * kernel stores the tokens' new key and value rows (d_k, d_v: [n, kv_stride]) at d_page[i] / d_slot[i] itself and
 * reads each token's newest position from them (rounded as the cache holds it): only when no two tokens extend the
 * same sequence. cache_type: ALMA_F32 or ALMA_F16, the pages' elements (float32 arithmetic either way).
 */
int alma_attention_paged(const float *d_q, int q_stride, void *d_pages, int cache_type, const int *d_tables,
                         int table_stride, const int *d_positions, float *d_out, int out_stride, float *d_workspace,
                         int *d_counters, int n, int heads, int kv_heads, int head_dim, int layer, int layers,
                         int page_size, float scale, int splits, const float *d_k, const float *d_v, int kv_stride,
                         const int *d_page, const int *d_slot, void *stream);

#ifdef __cplusplus
}
#endif
#endif
