// Causal flash attention for a prompt (one sequence, positions 0..n-1): blocks of 4 query rows of one head share
// tiles of 32 keys and values in shared memory; grouped-query heads read their shared key/value head.
// Float32 on CUDA cores (a tensor-core version is future work).
#include "attention_tile.cuh"

constexpr int PREFILL_WARPS = 4;

__global__ void __launch_bounds__(PREFILL_WARPS * 32)
attention_prefill_kernel(const float *q, int q_stride, const float *k, const float *v, int kv_stride, float *out,
                         int out_stride, int n, int group, int head_dim, float scale) {
    extern __shared__ float smem[];
    float *qs = smem;
    float *ks = qs + PREFILL_WARPS * head_dim;
    float *vs = ks + ATT_TILE * (head_dim + 1);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int h = blockIdx.y, kvh = h / group;
    int first = blockIdx.x * PREFILL_WARPS;
    int qi = first + warp;
    for (int e = threadIdx.x; e < PREFILL_WARPS * head_dim; e += blockDim.x) {
        int r = e / head_dim, d = e % head_dim;
        int row = first + r;
        qs[e] = row < n ? q[(size_t)row * q_stride + (size_t)h * head_dim + d] * scale : 0.f;
    }
    int last = min(n - 1, first + PREFILL_WARPS - 1);  // keys beyond the block's last query are masked for all
    OnlineSoftmax st;
    for (int j0 = 0; j0 <= last; j0 += ATT_TILE) {
        __syncthreads();  // previous tile consumed (and qs written on the first pass)
        for (int e = threadIdx.x; e < ATT_TILE * head_dim; e += blockDim.x) {
            int r = e / head_dim, d = e % head_dim;
            int key = j0 + r;
            bool ok = key < n;
            size_t off = (size_t)key * kv_stride + (size_t)kvh * head_dim + d;
            ks[r * (head_dim + 1) + d] = ok ? k[off] : 0.f;
            vs[r * head_dim + d] = ok ? v[off] : 0.f;
        }
        __syncthreads();
        int key = j0 + lane;
        st.fold(qs + warp * head_dim, ks, vs, head_dim, qi < n && key <= qi);
    }
    if (qi < n) {
        float inv = 1.f / st.l;
        float *o = out + (size_t)qi * out_stride + (size_t)h * head_dim;
#pragma unroll
        for (int i = 0; i < ATT_DIMS; i++) {
            int d = lane + 32 * i;
            if (d < head_dim) o[d] = st.acc[i] * inv;
        }
    }
}

extern "C" int alma_attention_prefill(const float *d_q, int q_stride, const float *d_k, const float *d_v,
                                      int kv_stride, float *d_out, int out_stride, int n, int heads, int kv_heads,
                                      int head_dim, float scale, void *stream) {
    ALMA_REQUIRE(n >= 0 && heads > 0 && kv_heads > 0 && heads % kv_heads == 0 && head_dim > 0 &&
                 head_dim <= ALMA_MAX_HEAD_DIM && q_stride >= heads * head_dim &&
                 kv_stride >= kv_heads * head_dim && out_stride >= heads * head_dim && heads <= 65535);
    if (n == 0) return 0;
    size_t smem = attention_smem(PREFILL_WARPS, head_dim);
    if (smem > 48 * 1024)
        ALMA_CHECK(cudaFuncSetAttribute(attention_prefill_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    dim3 grid((n + PREFILL_WARPS - 1) / PREFILL_WARPS, heads);
    attention_prefill_kernel<<<grid, PREFILL_WARPS * 32, smem, alma_stream(stream)>>>(
        d_q, q_stride, d_k, d_v, kv_stride, d_out, out_stride, n, heads / kv_heads, head_dim, scale);
    ALMA_CHECK_LAUNCH();
    return 0;
}
