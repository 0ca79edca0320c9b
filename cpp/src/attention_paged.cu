// Attention over the paged KV cache (decoding, beams, continued prompts), flash-decoding style: the key range of
// each query is split across blocks; a block of four warps serves one token, one query head and one split, and
// writes a partial (max, sum, accumulator); the last block of a (token, head) to finish — a counter per pair,
// incremented after a memory fence — combines the partials into the output (in split order, so the result does not
// depend on which block is last) and resets the counter for the next launch. With one split the block writes the
// output itself. The new key/value rows are stored into their pages by alma_kv_store, or, when every token extends a
// different sequence (decode and beam steps), by the attention itself: one block per (token, kv head) writes them,
// and every block reads the token's newest position from the activations instead of the pages.
//
// Within a block, keys are taken in chunks of PAGED_CHUNK: each warp scores every fourth key (one coalesced row
// load per key: lane l holds VEC consecutive dimensions at l*VEC, l*VEC + 32*VEC, ...), the block turns the chunk's
// scores into probabilities against the running maximum, then each warp accumulates every fourth value row. The
// four warps' accumulators are summed once at the end. Loads of several keys are issued before their arithmetic so
// that each warp keeps PAGED_UNROLL rows in flight.
//
// Short splits (alma_attention_paged_set_variant(1), head dims up to 128 in 16-byte rows; written after run 13, for
// the next sweep): a split of at most SHORT_KEYS keys — every split of a translation-length context — reads its
// page-table entries once into shared memory and then all of its key and value rows at once (eight of each per
// warp), so that the dependent global loads per block drop from ~11 (table, keys, table, values, per group of four
// keys) to ~3. The arithmetic is the general path's, in the same order: the results are bit for bit the same.
//
// The pages hold float32 or f16 (CT: float or __half; alma_kv_store and alma_attention_paged take the cache's type).
// With f16 a lane loads its four dimensions of a row in 8 bytes instead of 16 and widens them; a token's own new rows,
// read from the activations by the fused store, are rounded to f16 first, so that every position is read as the
// cache holds it. The arithmetic is float32 either way.
#include <type_traits>

#include "common.cuh"

constexpr int PAGED_WARPS = 4;
constexpr int PAGED_CHUNK = 256;
constexpr int PAGED_UNROLL = 4;
constexpr int PAGED_SPLIT_ALIGN = 32;  // keys per split are a multiple of this
constexpr int SHORT_UNROLL = 8;        // key (and value) rows per warp in a short split
constexpr int SHORT_KEYS = PAGED_WARPS * SHORT_UNROLL;
static_assert(SHORT_KEYS <= PAGED_CHUNK, "a short split is one chunk");

// 0: every split by the general path; 1: splits of at most SHORT_KEYS keys by the short path.
int paged_variant = 0;

__device__ __forceinline__ size_t page_offset(int page, int layer, int kv, int slot, int layers, int page_size,
                                              int kv_dim) {
    return (size_t)page * layers * 2 * page_size * kv_dim + ((size_t)(layer * 2 + kv) * page_size + slot) * kv_dim;
}

template <typename CT>
__global__ void kv_store_kernel(const float *k, const float *v, int kv_stride, CT *pages, const int *page,
                                const int *slot, int layer, int layers, int page_size, int kv_dim) {
    int i = blockIdx.x;
    size_t ko = page_offset(page[i], layer, 0, slot[i], layers, page_size, kv_dim);
    size_t vo = page_offset(page[i], layer, 1, slot[i], layers, page_size, kv_dim);
    for (int d = threadIdx.x; d < kv_dim; d += blockDim.x) {
        pages[ko + d] = from_f32<CT>(k[(size_t)i * kv_stride + d]);
        pages[vo + d] = from_f32<CT>(v[(size_t)i * kv_stride + d]);
    }
}

// The VEC floats at p (VEC = 4: one 16-byte load; p is then 16-byte aligned).
template <int VEC> __device__ __forceinline__ void load_vec(const float *p, float *out) {
    if constexpr (VEC == 4) {
        float4 v = __ldg(reinterpret_cast<const float4 *>(p));
        out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
    } else {
#pragma unroll
        for (int e = 0; e < VEC; e++) out[e] = __ldg(p + e);
    }
}

// The VEC f16 values at p, widened (VEC = 4: one 8-byte load; p is then 8-byte aligned).
template <int VEC> __device__ __forceinline__ void load_vec(const __half *p, float *out) {
    if constexpr (VEC == 4) {
        uint2 raw = __ldg(reinterpret_cast<const uint2 *>(p));
        const __half *h = reinterpret_cast<const __half *>(&raw);
#pragma unroll
        for (int e = 0; e < 4; e++) out[e] = __half2float(h[e]);
    } else {
#pragma unroll
        for (int e = 0; e < VEC; e++) out[e] = __half2float(p[e]);
    }
}

// A token's own new row (float32 activations) as a cache of CT holds it: rounded to f16 for an f16 cache.
template <int VEC, typename CT> __device__ __forceinline__ void load_fresh(const float *p, float *out) {
    load_vec<VEC>(p, out);
    if constexpr (!std::is_same<CT, float>::value) {
#pragma unroll
        for (int e = 0; e < VEC; e++) out[e] = to_f32(from_f32<CT>(out[e]));
    }
}

// The token's own key and value rows when the attention stores them itself (fused store): read from the activations
// for its newest position, which the pages do not hold yet.
struct NewRows {
    const float *k, *v;  // this kv head's columns of the token's rows, or null (all positions from the pages)
    int position;
};

// The lane's slice of the key (kv = 0) or value (kv = 1) rows of chunk keys j0, j0 + PAGED_WARPS, ... (PAGED_UNROLL
// of them, zeros past count): all loads issued before any use. head: the pages offset to this kv head's columns.
template <int VEC, int C, typename CT>
__device__ __forceinline__ void load_rows(float (&out)[PAGED_UNROLL][C][VEC], const CT *head, const int *table,
                                          int kv, int c0, int j0, int count, int head_dim, int layer, int layers,
                                          int page_size, int kv_dim, NewRows fresh) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int u = 0; u < PAGED_UNROLL; u++) {
        int j = j0 + u * PAGED_WARPS;
        const CT *row = nullptr;
        const float *new_row = nullptr;
        if (j < count) {
            int key = c0 + j;
            if (fresh.k != nullptr && key == fresh.position)
                new_row = kv ? fresh.v : fresh.k;
            else
                row = head + page_offset(table[key / page_size], layer, kv, key % page_size, layers, page_size, kv_dim);
        }
#pragma unroll
        for (int c = 0; c < C; c++) {
            int d = (lane + 32 * c) * VEC;
            if (row != nullptr && d < head_dim) load_vec<VEC>(row + d, out[u][c]);
            else if (new_row != nullptr && d < head_dim) load_fresh<VEC, CT>(new_row + d, out[u][c]);
            else
#pragma unroll
                for (int e = 0; e < VEC; e++) out[u][c][e] = 0.f;
        }
    }
}

// Sum (max when MAX) over the block's warps; every thread gets the result. red holds PAGED_WARPS floats.
template <bool MAX> __device__ __forceinline__ float block_reduce(float v, float *red) {
    v = MAX ? warp_max(v) : warp_sum(v);
    int warp = threadIdx.x >> 5;
    if ((threadIdx.x & 31) == 0) red[warp] = v;
    __syncthreads();
    v = red[0];
#pragma unroll
    for (int w = 1; w < PAGED_WARPS; w++) v = MAX ? fmaxf(v, red[w]) : v + red[w];
    __syncthreads();  // red is free again
    return v;
}

// The kernels' arguments (attention_paged_kernel and attention_paged_short_kernel below).
#define ALMA_PAGED_PARAMS                                                                                            \
    const float *q, int q_stride, CT *pages, const int *tables, int table_stride, const int *positions, float *ws, \
        int *counters, float *out, int out_stride, int heads, int kv_heads, int head_dim, int layer, int layers,     \
        int page_size, float scale, int splits, const float *k_new, const float *v_new, int kv_stride,               \
        const int *page_new, const int *slot_new
#define ALMA_PAGED_ARGS                                                                                             \
    q, q_stride, pages, tables, table_stride, positions, ws, counters, out, out_stride, heads, kv_heads, head_dim,  \
        layer, layers, page_size, scale, splits, k_new, v_new, kv_stride, page_new, slot_new

// The score of the chunk's key j (the warp's query slice qr against its key row k) into probs[j] (j < count).
template <int VEC, int C>
__device__ __forceinline__ void store_score(const float (&qr)[C][VEC], const float (&k)[C][VEC], int j, int count,
                                            float *probs) {
    float dot = 0.f;
#pragma unroll
    for (int c = 0; c < C; c++)
#pragma unroll
        for (int e = 0; e < VEC; e++) dot += qr[c][e] * k[c][e];
    dot = warp_sum(dot);
    if ((threadIdx.x & 31) == 0 && j < count) probs[j] = dot;
}

// Turns a chunk's `count` scores in probs into probabilities against the running maximum m (raised to the chunk's),
// adds their sum to the running sum l (rescaled to the new maximum; the last barrier also publishes probs) and returns
// the factor the accumulators are rescaled by (0 on the first chunk, m = -inf).
__device__ __forceinline__ float softmax_chunk(float *probs, int count, float &m, float &l, float *red) {
    float mx = -INFINITY;
    for (int t = threadIdx.x; t < count; t += blockDim.x) mx = fmaxf(mx, probs[t]);
    float m_new = fmaxf(m, block_reduce<true>(mx, red));
    float corr = expf(m - m_new);
    float sum = 0.f;
    for (int t = threadIdx.x; t < count; t += blockDim.x) {
        float p = expf(probs[t] - m_new);
        probs[t] = p;
        sum += p;
    }
    l = l * corr + block_reduce<false>(sum, red);
    m = m_new;
    return corr;
}

// C groups of VEC dimensions per lane: head_dim <= 32 * VEC * C. SHORT: splits of at most SHORT_KEYS keys take the
// short path (C == 1). CT: the cache's type.
template <int VEC, int C, bool SHORT, typename CT>
__device__ __forceinline__ void attention_paged(ALMA_PAGED_PARAMS) {
    __shared__ float probs[PAGED_CHUNK];
    __shared__ float red[PAGED_WARPS];
    __shared__ float accs[PAGED_WARPS][32 * VEC * C];
    pdl_launch_dependents();
    pdl_wait();  // everything below reads activations or the cache (common.cuh: programmatic dependent launch)
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x, h = blockIdx.y, split = blockIdx.z;
    int kv_dim = kv_heads * head_dim;
    int len = positions[i] + 1;
    int per = (len + splits - 1) / splits;
    per = (per + PAGED_SPLIT_ALIGN - 1) / PAGED_SPLIT_ALIGN * PAGED_SPLIT_ALIGN;
    int start = split * per, end = min(len, start + per);

    float qr[C][VEC], acc[C][VEC];
#pragma unroll
    for (int c = 0; c < C; c++)
#pragma unroll
        for (int e = 0; e < VEC; e++) {
            int d = (lane + 32 * c) * VEC + e;
            qr[c][e] = d < head_dim ? q[(size_t)i * q_stride + (size_t)h * head_dim + d] * scale : 0.f;
            acc[c][e] = 0.f;
        }
    const int *table = tables + (size_t)i * table_stride;
    int kvh = h / (heads / kv_heads);
    const CT *head = pages + (size_t)kvh * head_dim;
    NewRows fresh = {nullptr, nullptr, len - 1};
    if (k_new != nullptr) {
        fresh.k = k_new + (size_t)i * kv_stride + (size_t)kvh * head_dim;
        fresh.v = v_new + (size_t)i * kv_stride + (size_t)kvh * head_dim;
        // One block per (token, kv head) stores the new rows; no block of this launch reads that page slot.
        if (split == 0 && h % (heads / kv_heads) == 0) {
            CT *kp = pages + page_offset(page_new[i], layer, 0, slot_new[i], layers, page_size, kv_dim) +
                     (size_t)kvh * head_dim;
            CT *vp = pages + page_offset(page_new[i], layer, 1, slot_new[i], layers, page_size, kv_dim) +
                     (size_t)kvh * head_dim;
            for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
                kp[d] = from_f32<CT>(fresh.k[d]);
                vp[d] = from_f32<CT>(fresh.v[d]);
            }
        }
    }
    float m = -INFINITY, l = 0.f;

    if constexpr (SHORT) {
        static_assert(C == 1, "the short path holds eight key and eight value rows per lane");
        if (end - start <= SHORT_KEYS) {
            // The split's page-table entries, once; then every key and value row of the warp's keys at once.
            __shared__ int short_pages[SHORT_KEYS];
            int count = max(end - start, 0), p0 = start / page_size;
            int np = count > 0 ? (end - 1) / page_size - p0 + 1 : 0;
            if (threadIdx.x < np) short_pages[threadIdx.x] = table[p0 + threadIdx.x];
            __syncthreads();
            float k[SHORT_UNROLL][1][VEC], v[SHORT_UNROLL][1][VEC];
            int d = lane * VEC;
#pragma unroll
            for (int u = 0; u < SHORT_UNROLL; u++) {
                int j = warp + u * PAGED_WARPS, key = start + j;
                const CT *kr = nullptr, *vr = nullptr;
                bool own = j < count && fresh.k != nullptr && key == fresh.position;
                if (j < count && !own) {
                    int page = short_pages[key / page_size - p0], slot = key % page_size;
                    kr = head + page_offset(page, layer, 0, slot, layers, page_size, kv_dim);
                    vr = head + page_offset(page, layer, 1, slot, layers, page_size, kv_dim);
                }
                if (kr != nullptr && d < head_dim) {
                    load_vec<VEC>(kr + d, k[u][0]);
                    load_vec<VEC>(vr + d, v[u][0]);
                } else if (own && d < head_dim) {
                    load_fresh<VEC, CT>(fresh.k + d, k[u][0]);
                    load_fresh<VEC, CT>(fresh.v + d, v[u][0]);
                } else {
#pragma unroll
                    for (int e = 0; e < VEC; e++) k[u][0][e] = v[u][0][e] = 0.f;
                }
            }
            // From here as the general path's one chunk: scores, probabilities, value rows (same order).
#pragma unroll
            for (int u = 0; u < SHORT_UNROLL; u++) store_score<VEC, 1>(qr, k[u], warp + u * PAGED_WARPS, count, probs);
            __syncthreads();
            float corr = softmax_chunk(probs, count, m, l, red);
#pragma unroll
            for (int e = 0; e < VEC; e++) acc[0][e] *= corr;
#pragma unroll
            for (int u = 0; u < SHORT_UNROLL; u++) {
                int j = warp + u * PAGED_WARPS;
                float p = j < count ? probs[j] : 0.f;
#pragma unroll
                for (int e = 0; e < VEC; e++) acc[0][e] += p * v[u][0][e];
            }
            end = start;  // the general loop below has nothing left to do
        }
    }

    for (int c0 = start; c0 < end; c0 += PAGED_CHUNK) {
        int count = min(end - c0, PAGED_CHUNK);
        // Scores of the chunk's keys, each by one warp.
        for (int j0 = warp; j0 < count; j0 += PAGED_WARPS * PAGED_UNROLL) {
            float k[PAGED_UNROLL][C][VEC];
            load_rows<VEC, C, CT>(k, head, table, 0, c0, j0, count, head_dim, layer, layers, page_size, kv_dim, fresh);
#pragma unroll
            for (int u = 0; u < PAGED_UNROLL; u++) store_score<VEC, C>(qr, k[u], j0 + u * PAGED_WARPS, count, probs);
        }
        __syncthreads();
        // Probabilities against the running maximum; the accumulator is rescaled to it.
        float corr = softmax_chunk(probs, count, m, l, red);
#pragma unroll
        for (int c = 0; c < C; c++)
#pragma unroll
            for (int e = 0; e < VEC; e++) acc[c][e] *= corr;
        // Probability-weighted value rows, each by one warp.
        for (int j0 = warp; j0 < count; j0 += PAGED_WARPS * PAGED_UNROLL) {
            float v[PAGED_UNROLL][C][VEC];
            load_rows<VEC, C, CT>(v, head, table, 1, c0, j0, count, head_dim, layer, layers, page_size, kv_dim, fresh);
#pragma unroll
            for (int u = 0; u < PAGED_UNROLL; u++) {
                int j = j0 + u * PAGED_WARPS;
                float p = j < count ? probs[j] : 0.f;
#pragma unroll
                for (int c = 0; c < C; c++)
#pragma unroll
                    for (int e = 0; e < VEC; e++) acc[c][e] += p * v[u][c][e];
            }
        }
        __syncthreads();  // probs is rewritten by the next chunk
    }

    // The four warps' accumulators summed into this split's partial.
#pragma unroll
    for (int c = 0; c < C; c++)
#pragma unroll
        for (int e = 0; e < VEC; e++) accs[warp][(lane + 32 * c) * VEC + e] = acc[c][e];
    __syncthreads();
    float *o = out + (size_t)i * out_stride + (size_t)h * head_dim;
    if (splits == 1) {
        for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
            float a = 0.f;
#pragma unroll
            for (int w = 0; w < PAGED_WARPS; w++) a += accs[w][d];
            o[d] = a / l;
        }
        return;
    }
    float *parts = ws + ((size_t)i * heads + h) * splits * (head_dim + 2);
    float *part = parts + (size_t)split * (head_dim + 2);
    if (threadIdx.x == 0) {
        part[0] = m;
        part[1] = l;
    }
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.f;
#pragma unroll
        for (int w = 0; w < PAGED_WARPS; w++) a += accs[w][d];
        part[2 + d] = a;
    }
    // The last block of this (token, head) combines: every block's partial is visible to it, since each thread
    // fenced its writes before the block's count was added.
    __threadfence();
    __syncthreads();
    __shared__ int last;
    if (threadIdx.x == 0) last = atomicAdd(&counters[i * heads + h], 1) == splits - 1;
    __syncthreads();
    if (!last) return;
    __threadfence();
    float mx = -INFINITY;
    for (int s = 0; s < splits; s++) mx = fmaxf(mx, __ldcg(parts + s * (head_dim + 2)));
    float sum = 0.f;
    for (int s = 0; s < splits; s++) {
        float ms = __ldcg(parts + s * (head_dim + 2));
        if (ms != -INFINITY) sum += __ldcg(parts + s * (head_dim + 2) + 1) * expf(ms - mx);
    }
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.f;
        for (int s = 0; s < splits; s++) {
            float ms = __ldcg(parts + s * (head_dim + 2));
            if (ms != -INFINITY) a += __ldcg(parts + s * (head_dim + 2) + 2 + d) * expf(ms - mx);
        }
        o[d] = a / sum;
    }
    if (threadIdx.x == 0) counters[i * heads + h] = 0;  // ready for the next launch
}

template <int VEC, int C, typename CT>
__global__ void __launch_bounds__(PAGED_WARPS * 32) attention_paged_kernel(ALMA_PAGED_PARAMS) {
    attention_paged<VEC, C, false, CT>(ALMA_PAGED_ARGS);
}

// The short-split variant; ptxas spills its 16 rows in flight under the plain bounds, not with four blocks per SM.
template <typename CT>
__global__ void __launch_bounds__(PAGED_WARPS * 32, 4) attention_paged_short_kernel(ALMA_PAGED_PARAMS) {
    attention_paged<4, 1, true, CT>(ALMA_PAGED_ARGS);
}

// alma_attention_paged for a cache of CT.
template <typename CT>
int launch_paged(const float *d_q, int q_stride, CT *d_pages, const int *d_tables, int table_stride,
                 const int *d_positions, float *d_out, int out_stride, float *d_workspace, int *d_counters, int n,
                 int heads, int kv_heads, int head_dim, int layer, int layers, int page_size, float scale, int splits,
                 const float *d_k, const float *d_v, int kv_stride, const int *d_page, const int *d_slot,
                 cudaStream_t s) {
    dim3 grid(n, heads, splits);
    int threads = PAGED_WARPS * 32;
    // Vector rows when the head dimension allows (every row then starts 16-byte aligned, 8 with f16), else one
    // element a lane.
    auto kernel = head_dim % 4 == 0 && head_dim <= 128 ? (paged_variant == 1 ? attention_paged_short_kernel<CT>
                                                                             : attention_paged_kernel<4, 1, CT>)
                  : head_dim % 4 == 0                  ? attention_paged_kernel<4, 2, CT>
                                                       : attention_paged_kernel<1, ALMA_MAX_HEAD_DIM / 32, CT>;
    ALMA_CHECK(alma_launch_pdl("attention_paged_kernel", kernel, grid, threads, 0, s, d_q, q_stride, d_pages, d_tables,
                               table_stride, d_positions, d_workspace, d_counters, d_out, out_stride, heads, kv_heads,
                               head_dim, layer, layers, page_size, scale, splits, d_k, d_v, kv_stride, d_page,
                               d_slot));
    return 0;
}
#undef ALMA_PAGED_PARAMS
#undef ALMA_PAGED_ARGS

extern "C" {

int alma_kv_store(const float *d_k, const float *d_v, int kv_stride, void *d_pages, int cache_type,
                  const int *d_page, const int *d_slot, int n, int layer, int layers, int page_size, int kv_dim,
                  void *stream) {
    ALMA_REQUIRE(n >= 0 && layer >= 0 && layer < layers && page_size > 0 && kv_dim > 0 && kv_stride >= kv_dim &&
                 (cache_type == ALMA_F32 || cache_type == ALMA_F16));
    if (n == 0) return 0;
    cudaStream_t s = alma_stream(stream);
    if (cache_type == ALMA_F32)
        kv_store_kernel<float><<<n, 128, 0, s>>>(d_k, d_v, kv_stride, (float *)d_pages, d_page, d_slot, layer, layers,
                                                 page_size, kv_dim);
    else
        kv_store_kernel<__half><<<n, 128, 0, s>>>(d_k, d_v, kv_stride, (__half *)d_pages, d_page, d_slot, layer,
                                                  layers, page_size, kv_dim);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_attention_paged_set_variant(int variant) {
    ALMA_REQUIRE(variant == 0 || variant == 1);
    paged_variant = variant;
    return 0;
}

int alma_attention_paged_variant(void) { return paged_variant; }

size_t alma_attention_paged_workspace(int n, int heads, int head_dim, int splits) {
    return (size_t)n * heads * splits * (head_dim + 2);
}

int alma_attention_paged(const float *d_q, int q_stride, void *d_pages, int cache_type, const int *d_tables,
                         int table_stride, const int *d_positions, float *d_out, int out_stride, float *d_workspace,
                         int *d_counters, int n, int heads, int kv_heads, int head_dim, int layer, int layers,
                         int page_size, float scale, int splits, const float *d_k, const float *d_v, int kv_stride,
                         const int *d_page, const int *d_slot, void *stream) {
    ALMA_REQUIRE(n >= 0 && heads > 0 && kv_heads > 0 && heads % kv_heads == 0 && head_dim > 0 &&
                 head_dim <= ALMA_MAX_HEAD_DIM && layer >= 0 && layer < layers && page_size > 0 &&
                 splits >= 1 && splits <= ALMA_MAX_SPLITS && q_stride >= heads * head_dim &&
                 out_stride >= heads * head_dim && heads <= 65535 && (splits == 1 || d_counters != nullptr) &&
                 (cache_type == ALMA_F32 || cache_type == ALMA_F16));
    ALMA_REQUIRE(d_k == nullptr || (d_v != nullptr && d_page != nullptr && d_slot != nullptr &&
                                    kv_stride >= kv_heads * head_dim && kv_stride % 4 == 0));
    if (n == 0) return 0;
    cudaStream_t s = alma_stream(stream);
    if (cache_type == ALMA_F32)
        return launch_paged(d_q, q_stride, (float *)d_pages, d_tables, table_stride, d_positions, d_out, out_stride,
                            d_workspace, d_counters, n, heads, kv_heads, head_dim, layer, layers, page_size, scale,
                            splits, d_k, d_v, kv_stride, d_page, d_slot, s);
    return launch_paged(d_q, q_stride, (__half *)d_pages, d_tables, table_stride, d_positions, d_out, out_stride,
                        d_workspace, d_counters, n, heads, kv_heads, head_dim, layer, layers, page_size, scale, splits,
                        d_k, d_v, kv_stride, d_page, d_slot, s);
}

}  // extern "C"
