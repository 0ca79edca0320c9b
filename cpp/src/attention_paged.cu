// Attention over the paged KV cache (decoding, beams, continued prompts): the key range of each query is split
// across blocks (flash-decoding); a block serves one token and one key/value head, with one warp per query head of
// that group, and writes a partial (max, sum, accumulator) that a second kernel combines. Also the store of new
// key/value rows into their pages.
#include "attention_tile.cuh"

__device__ __forceinline__ size_t page_offset(int page, int layer, int kv, int slot, int layers, int page_size,
                                              int kv_dim) {
    return (size_t)page * layers * 2 * page_size * kv_dim + ((size_t)(layer * 2 + kv) * page_size + slot) * kv_dim;
}

__global__ void kv_store_kernel(const float *k, const float *v, int kv_stride, float *pages, const int *page,
                                const int *slot, int layer, int layers, int page_size, int kv_dim) {
    int i = blockIdx.x;
    size_t ko = page_offset(page[i], layer, 0, slot[i], layers, page_size, kv_dim);
    size_t vo = page_offset(page[i], layer, 1, slot[i], layers, page_size, kv_dim);
    for (int d = threadIdx.x; d < kv_dim; d += blockDim.x) {
        pages[ko + d] = k[(size_t)i * kv_stride + d];
        pages[vo + d] = v[(size_t)i * kv_stride + d];
    }
}

__global__ void attention_paged_kernel(const float *q, int q_stride, const float *pages, const int *tables,
                                       int table_stride, const int *positions, float *ws, int heads, int kv_heads,
                                       int head_dim, int layer, int layers, int page_size, float scale, int splits) {
    extern __shared__ float smem[];
    int group = heads / kv_heads;
    float *qs = smem;
    float *ks = qs + group * head_dim;
    float *vs = ks + ATT_TILE * (head_dim + 1);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x, kvh = blockIdx.y, split = blockIdx.z;
    int h = kvh * group + warp;
    int kv_dim = kv_heads * head_dim;
    int len = positions[i] + 1;
    int per = (len + splits - 1) / splits;
    per = (per + ATT_TILE - 1) / ATT_TILE * ATT_TILE;
    int start = split * per, end = min(len, start + per);
    for (int e = threadIdx.x; e < group * head_dim; e += blockDim.x)
        qs[e] = q[(size_t)i * q_stride + (size_t)kvh * group * head_dim + e] * scale;
    const int *table = tables + (size_t)i * table_stride;
    OnlineSoftmax st;
    for (int j0 = start; j0 < end; j0 += ATT_TILE) {
        __syncthreads();
        for (int e = threadIdx.x; e < ATT_TILE * head_dim; e += blockDim.x) {
            int r = e / head_dim, d = e % head_dim;
            int key = j0 + r;
            float kv = 0.f, vv = 0.f;
            if (key < end) {
                int page = table[key / page_size], slot = key % page_size;
                size_t off = (size_t)kvh * head_dim + d;
                kv = pages[page_offset(page, layer, 0, slot, layers, page_size, kv_dim) + off];
                vv = pages[page_offset(page, layer, 1, slot, layers, page_size, kv_dim) + off];
            }
            ks[r * (head_dim + 1) + d] = kv;
            vs[r * head_dim + d] = vv;
        }
        __syncthreads();
        st.fold(qs + warp * head_dim, ks, vs, head_dim, j0 + lane < end);
    }
    float *part = ws + (((size_t)i * heads + h) * splits + split) * (head_dim + 2);
    if (lane == 0) {
        part[0] = st.m;
        part[1] = st.l;
    }
#pragma unroll
    for (int c = 0; c < ATT_DIMS; c++) {
        int d = lane + 32 * c;
        if (d < head_dim) part[2 + d] = st.acc[c];
    }
}

__global__ void attention_combine_kernel(const float *ws, float *out, int out_stride, int heads, int head_dim,
                                         int splits) {
    int i = blockIdx.x, h = blockIdx.y;
    const float *parts = ws + ((size_t)i * heads + h) * splits * (head_dim + 2);
    float m = -INFINITY;
    for (int s = 0; s < splits; s++) m = fmaxf(m, parts[s * (head_dim + 2)]);
    float l = 0.f;
    for (int s = 0; s < splits; s++) {
        float ms = parts[s * (head_dim + 2)];
        if (ms != -INFINITY) l += parts[s * (head_dim + 2) + 1] * expf(ms - m);
    }
    float *o = out + (size_t)i * out_stride + (size_t)h * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.f;
        for (int s = 0; s < splits; s++) {
            float ms = parts[s * (head_dim + 2)];
            if (ms != -INFINITY) a += parts[s * (head_dim + 2) + 2 + d] * expf(ms - m);
        }
        o[d] = a / l;
    }
}

extern "C" {

int alma_kv_store(const float *d_k, const float *d_v, int kv_stride, float *d_pages, const int *d_page,
                  const int *d_slot, int n, int layer, int layers, int page_size, int kv_dim, void *stream) {
    ALMA_REQUIRE(n >= 0 && layer >= 0 && layer < layers && page_size > 0 && kv_dim > 0 && kv_stride >= kv_dim);
    if (n == 0) return 0;
    kv_store_kernel<<<n, 128, 0, alma_stream(stream)>>>(d_k, d_v, kv_stride, d_pages, d_page, d_slot, layer, layers,
                                                         page_size, kv_dim);
    ALMA_CHECK_LAUNCH();
    return 0;
}

size_t alma_attention_paged_workspace(int n, int heads, int head_dim, int splits) {
    return (size_t)n * heads * splits * (head_dim + 2);
}

int alma_attention_paged(const float *d_q, int q_stride, const float *d_pages, const int *d_tables, int table_stride,
                         const int *d_positions, float *d_out, int out_stride, float *d_workspace, int n, int heads,
                         int kv_heads, int head_dim, int layer, int layers, int page_size, float scale, int splits,
                         void *stream) {
    ALMA_REQUIRE(n >= 0 && heads > 0 && kv_heads > 0 && heads % kv_heads == 0 && heads / kv_heads <= 32 &&
                 head_dim > 0 && head_dim <= ALMA_MAX_HEAD_DIM && layer >= 0 && layer < layers && page_size > 0 &&
                 splits >= 1 && splits <= ALMA_MAX_SPLITS && q_stride >= heads * head_dim &&
                 out_stride >= heads * head_dim && kv_heads <= 65535);
    if (n == 0) return 0;
    int group = heads / kv_heads;
    size_t smem = attention_smem(group, head_dim);
    cudaStream_t s = alma_stream(stream);
    if (smem > 48 * 1024)
        ALMA_CHECK(cudaFuncSetAttribute(attention_paged_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    attention_paged_kernel<<<dim3(n, kv_heads, splits), group * 32, smem, s>>>(
        d_q, q_stride, d_pages, d_tables, table_stride, d_positions, d_workspace, heads, kv_heads, head_dim, layer,
        layers, page_size, scale, splits);
    ALMA_CHECK_LAUNCH();
    attention_combine_kernel<<<dim3(n, heads), 128, 0, s>>>(d_workspace, d_out, out_stride, heads, head_dim, splits);
    ALMA_CHECK_LAUNCH();
    return 0;
}

}  // extern "C"
