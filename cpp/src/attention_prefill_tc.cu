// Causal flash attention for a prompt on tensor cores (FlashAttention-2 style): bf16 Q, K, V, f32 accumulation and
// softmax. A block owns 64 query rows of one head (4 warps × 16 rows); tiles of 64 keys and values are copied to
// shared memory with cp.async; S = Q·Kᵀ and O += P·V are mma.sync m16n8k16, the probabilities P going from the
// S accumulators to the A operand in registers. Head dims 64 and 128. On Hopper, alma_attention_prefill_set_variant(1 or 2)
// switches head dim 128 to a wgmma kernel of attention_prefill_wgmma.cu.
#include "wgmma.cuh"

namespace {

constexpr int TQ = 64, TK = 64, TC_WARPS = 4;

__device__ __forceinline__ unsigned pack_raw(__nv_bfloat16 lo, __nv_bfloat16 hi) {
    return (unsigned)__bfloat16_as_ushort(lo) | ((unsigned)__bfloat16_as_ushort(hi) << 16);
}

template <int HD>
__global__ void __launch_bounds__(TC_WARPS * 32)
attention_prefill_tc_kernel(const __nv_bfloat16 *q, int q_stride, const __nv_bfloat16 *k, const __nv_bfloat16 *v,
                            int kv_stride, float *out, int out_stride, int n, int group, float scale_log2) {
    constexpr int LD = HD + 8;  // smem row length (halves): 16-byte aligned rows, no bank conflicts on fragments
    __shared__ __align__(16) __nv_bfloat16 ks[TK][LD];
    __shared__ __align__(16) __nv_bfloat16 vs[TK][LD];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int h = blockIdx.y, kvh = h / group;
    int q0 = blockIdx.x * TQ;
    int r0 = q0 + warp * 16 + g, r1 = r0 + 8;  // this thread's two query rows

    // Q fragments (A operand, row-major 16×HD) for the whole head dimension, kept in registers.
    unsigned qf[HD / 16][4];
#pragma unroll
    for (int s = 0; s < HD / 16; s++) {
        const __nv_bfloat16 *a = q + (size_t)r0 * q_stride + (size_t)h * HD + s * 16 + 2 * t;
        const __nv_bfloat16 *b = q + (size_t)r1 * q_stride + (size_t)h * HD + s * 16 + 2 * t;
        qf[s][0] = r0 < n ? *reinterpret_cast<const unsigned *>(a) : 0u;
        qf[s][1] = r1 < n ? *reinterpret_cast<const unsigned *>(b) : 0u;
        qf[s][2] = r0 < n ? *reinterpret_cast<const unsigned *>(a + 8) : 0u;
        qf[s][3] = r1 < n ? *reinterpret_cast<const unsigned *>(b + 8) : 0u;
    }
    float o[HD / 8][4];
#pragma unroll
    for (int d = 0; d < HD / 8; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;  // per row (l: this thread's partial sum)

    int last = min(n - 1, q0 + TQ - 1);
    for (int j0 = 0; j0 <= last; j0 += TK) {
        __syncthreads();  // the previous tile is consumed
        for (int c = threadIdx.x; c < TK * (HD / 8); c += blockDim.x) {
            int r = c / (HD / 8), col = (c % (HD / 8)) * 8;
            int key = j0 + r;
            bool ok = key < n;
            size_t off = (size_t)(ok ? key : 0) * kv_stride + (size_t)kvh * HD + col;
            cp_async16(&ks[r][col], k + off, ok);
            cp_async16(&vs[r][col], v + off, ok);
        }
        cp_async_commit();
        cp_async_wait_all();
        __syncthreads();

        // S = Q·Kᵀ for 16 rows × 64 keys: 8 tiles of 8 keys.
        float s[TK / 8][4];
#pragma unroll
        for (int j = 0; j < TK / 8; j++) {
            s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
            for (int d = 0; d < HD / 16; d++) {
                unsigned b[2];
                b[0] = *reinterpret_cast<const unsigned *>(&ks[j * 8 + g][d * 16 + 2 * t]);
                b[1] = *reinterpret_cast<const unsigned *>(&ks[j * 8 + g][d * 16 + 2 * t + 8]);
                Mma<__nv_bfloat16>::run(s[j], qf[d], b);
            }
        }
        // Causal mask, scale (to log2 units), running max per row.
        float mx0 = m0, mx1 = m1;
#pragma unroll
        for (int j = 0; j < TK / 8; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int key = j0 + j * 8 + 2 * t + (e & 1);
                int row = e < 2 ? r0 : r1;
                float val = key <= row && key < n ? s[j][e] * scale_log2 : -INFINITY;
                s[j][e] = val;
                if (e < 2) mx0 = fmaxf(mx0, val);
                else mx1 = fmaxf(mx1, val);
            }
        }
        mx0 = quad_max(mx0);  // the 4 threads of a quad share a row
        mx1 = quad_max(mx1);
        // Rows past n may see only masked keys; keep their arithmetic finite.
        float base0 = mx0 == -INFINITY ? 0.f : mx0, base1 = mx1 == -INFINITY ? 0.f : mx1;
        float c0 = exp2f(m0 - base0), c1 = exp2f(m1 - base1);  // m = -inf on the first tile: 0
        m0 = mx0;
        m1 = mx1;
        l0 *= c0;
        l1 *= c1;
#pragma unroll
        for (int d = 0; d < HD / 8; d++) {
            o[d][0] *= c0;
            o[d][1] *= c0;
            o[d][2] *= c1;
            o[d][3] *= c1;
        }
        // P = exp2(S - m), summed per row, packed as bf16 A fragments (16 keys per k-step).
        unsigned pf[TK / 16][4];
#pragma unroll
        for (int j = 0; j < TK / 8; j++) {
            float p0 = exp2f(s[j][0] - base0), p1 = exp2f(s[j][1] - base0);
            float p2 = exp2f(s[j][2] - base1), p3 = exp2f(s[j][3] - base1);
            l0 += p0 + p1;
            l1 += p2 + p3;
            pf[j / 2][(j & 1) * 2 + 0] = pack_bf16(p0, p1);
            pf[j / 2][(j & 1) * 2 + 1] = pack_bf16(p2, p3);
        }
        // O += P·V: B operand (k = key, n = dim) gathered from the row-major V tile.
#pragma unroll
        for (int d = 0; d < HD / 8; d++) {
#pragma unroll
            for (int kk = 0; kk < TK / 16; kk++) {
                unsigned b[2];
                int key = kk * 16 + 2 * t, col = d * 8 + g;
                b[0] = pack_raw(vs[key][col], vs[key + 1][col]);
                b[1] = pack_raw(vs[key + 8][col], vs[key + 9][col]);
                Mma<__nv_bfloat16>::run(o[d], pf[kk], b);
            }
        }
    }
    float i0 = 1.f / quad_sum(l0), i1 = 1.f / quad_sum(l1);
#pragma unroll
    for (int d = 0; d < HD / 8; d++) {
        int col = h * HD + d * 8 + 2 * t;
        if (r0 < n) {
            out[(size_t)r0 * out_stride + col] = o[d][0] * i0;
            out[(size_t)r0 * out_stride + col + 1] = o[d][1] * i0;
        }
        if (r1 < n) {
            out[(size_t)r1 * out_stride + col] = o[d][2] * i1;
            out[(size_t)r1 * out_stride + col + 1] = o[d][3] * i1;
        }
    }
}

// 0: mma.sync (above), 1: wgmma for head dim 128 (attention_prefill_wgmma.cu, compute capability 9.0 only).
int prefill_variant = 0;

}  // namespace

int alma_attention_prefill_wgmma(int variant, const void *d_q, int q_stride, const void *d_k, const void *d_v,
                                 int kv_stride, float *d_out, int out_stride, int n, int heads, int kv_heads,
                                 float scale_log2, cudaStream_t s);

extern "C" int alma_attention_prefill_set_variant(int variant) {
    return alma_set_wgmma_variant(variant, &prefill_variant, 3);
}

extern "C" int alma_attention_prefill_tc(const void *d_q, int q_stride, const void *d_k, const void *d_v,
                                         int kv_stride, float *d_out, int out_stride, int n, int heads, int kv_heads,
                                         int head_dim, float scale, void *stream) {
    ALMA_REQUIRE(n >= 0 && heads > 0 && kv_heads > 0 && heads % kv_heads == 0 && heads <= 65535 &&
                 (head_dim == 64 || head_dim == 128) && q_stride >= heads * head_dim && q_stride % 2 == 0 &&
                 kv_stride >= kv_heads * head_dim && kv_stride % 8 == 0 && out_stride >= heads * head_dim &&
                 ((uintptr_t)d_k & 15) == 0 && ((uintptr_t)d_v & 15) == 0 && ((uintptr_t)d_q & 3) == 0);
    if (n == 0) return 0;
    dim3 grid((n + TQ - 1) / TQ, heads);
    float scale_log2 = scale * 1.4426950408889634f;
    const __nv_bfloat16 *q = (const __nv_bfloat16 *)d_q, *k = (const __nv_bfloat16 *)d_k, *v = (const __nv_bfloat16 *)d_v;
    int group = heads / kv_heads;
    cudaStream_t s = alma_stream(stream);
    if (prefill_variant >= 1 && head_dim == 128 && q_stride % 8 == 0 && ((uintptr_t)d_q & 15) == 0)
        return alma_attention_prefill_wgmma(prefill_variant, d_q, q_stride, d_k, d_v, kv_stride, d_out, out_stride, n, heads, kv_heads,
                                            scale_log2, s);
    if (head_dim == 64)
        attention_prefill_tc_kernel<64><<<grid, TC_WARPS * 32, 0, s>>>(q, q_stride, k, v, kv_stride, d_out, out_stride,
                                                                       n, group, scale_log2);
    else
        attention_prefill_tc_kernel<128><<<grid, TC_WARPS * 32, 0, s>>>(q, q_stride, k, v, kv_stride, d_out,
                                                                        out_stride, n, group, scale_log2);
    ALMA_CHECK_LAUNCH();
    return 0;
}
