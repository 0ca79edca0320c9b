// Causal flash attention for a prompt on Hopper (sm_90a) through wgmma: bf16 Q, K, V, head dim 128, f32
// accumulation and softmax; alma_attention_prefill_set_variant(1) selects it on a compute capability 9.0 device
// (other head dims keep the mma.sync kernel of attention_prefill_tc.cu, whose contract this one shares).
//  - A block owns 128 query rows of one head, two warpgroups of 64 rows; blocks with the most keys start first.
//  - Per 128-key tile: S = Q·Kᵀ is eight m64n128k16 wgmmas from shared memory (Q and K in the 128-byte swizzled
//    layout, dims 0-63 and 64-127 in two column blocks); the online softmax (base 2) runs on the S accumulators;
//    O += P·V is eight m64n128k16 wgmmas with P in registers (the S accumulator layout is the A fragment's) and V
//    from shared memory: variant 2 (N_MAJOR) reads the V tile, loaded swizzled like K, as an N-major operand
//    (imm-trans-b); variant 1 transposes it in shared memory first (a pass over the tile by every thread, and a
//    second barrier per tile) and reads Vᵀ K-major.
//  - K and V tiles are double-buffered: tile j + 1 loads while tile j is multiplied. Tiles wholly below a warp's
//    diagonal skip the causal mask.
#include "wgmma.cuh"

namespace {

constexpr int WQ = 128, WKV = 128, WHD = 128, WTHREADS = 256;
constexpr int ATOM = 128 * SWIZZLE_ROW;  // 128 rows × 64 columns of a swizzled tile: 16 KB
constexpr int VROW = WHD * 2 + 16;       // bytes per row of the row-major V stage (padded: no bank conflicts)
constexpr int Q_BYTES = 2 * ATOM, K_BYTES = 2 * ATOM, VRAW_BYTES = WKV * VROW, VT_BYTES = 2 * ATOM;
// Shared memory: Q, two K stages, then two V stages (N_MAJOR: swizzled like K) or two row-major V stages and Vᵀ.
template <bool N_MAJOR> struct Layout {
    static constexpr int OFF_Q = 0, OFF_K = OFF_Q + Q_BYTES, OFF_V = OFF_K + 2 * K_BYTES;
    static constexpr int V_STAGE = N_MAJOR ? K_BYTES : VRAW_BYTES;
    static constexpr int OFF_VT = OFF_V + 2 * V_STAGE;
    static constexpr int BYTES = OFF_VT + (N_MAJOR ? 0 : VT_BYTES) + 1024;  // + the alignment of the first tile
    static_assert(OFF_V % 1024 == 0 && OFF_VT % 1024 == 0 && (!N_MAJOR || V_STAGE % 1024 == 0),
                  "swizzled tiles start 1024-byte aligned");
};

#if defined(ALMA_EMU) || defined(ALMA_HAVE_WGMMA)  // the device code of the sm_90a pass (and the emulator's)
// 128 rows from row0 (rows past `limit` zero) × 128 columns from col0 of a row-major bf16 matrix, as 16-byte chunks:
// chunk ch (0..15) of row r goes to put(r, ch). Consecutive threads take consecutive chunks of a row.
template <typename Put>
__device__ __forceinline__ void load_tile(const __nv_bfloat16 *src, size_t stride, int row0, int limit, int col0,
                                          Put put) {
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int c = threadIdx.x + i * WTHREADS;
        int r = c >> 4, ch = c & 15;
        int gr = row0 + r;
        bool ok = gr < limit;
        cp_async16(put(r, ch), src + (size_t)(ok ? gr : 0) * stride + col0 + ch * 8, ok);
    }
}

// Vᵀ from the row-major V stage: element (dim d, key j) in column block j / 64, row d, chunk (j % 64) / 8, place
// j % 8. A warp takes 32 consecutive keys of one 8-dim chunk: its reads hit distinct banks (padded rows) and its
// writes land in one row.
__device__ __forceinline__ void transpose_v(unsigned char *vt, const unsigned char *vraw) {
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int c = threadIdx.x + i * WTHREADS;
        int key = c & (WKV - 1), ch = c >> 7;
        uint4 v = *reinterpret_cast<const uint4 *>(vraw + key * VROW + ch * 16);
        const unsigned short *e = reinterpret_cast<const unsigned short *>(&v);
        unsigned char *block = vt + (key >> 6) * ATOM;
        int kc = (key & 63) >> 3, kp = key & 7;
#pragma unroll
        for (int q = 0; q < 8; q++)
            *reinterpret_cast<unsigned short *>(block + swizzled_offset(ch * 8 + q, kc) + kp * 2) = e[q];
    }
}

#endif

template <bool N_MAJOR>
__global__ void __launch_bounds__(WTHREADS, 1)
    attention_prefill_wgmma_kernel(const __nv_bfloat16 *q, int q_stride, const __nv_bfloat16 *k,
                                   const __nv_bfloat16 *v, int kv_stride, float *out, int out_stride, int n,
                                   int group, float scale_log2) {
#if defined(ALMA_EMU) || defined(ALMA_HAVE_WGMMA)
    using L = Layout<N_MAJOR>;
    extern __shared__ unsigned char smem_raw[];  // 16-byte aligned
    unsigned char *smem = swizzle_aligned(smem_raw);
    unsigned smem0 = smem_address(smem);
    int qb = gridDim.x - 1 - blockIdx.x;  // the blocks with the most keys first
    int h = blockIdx.y, kvh = h / group;
    int q0 = qb * WQ;
    int wg = threadIdx.x >> 7, warp = (threadIdx.x & 127) >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int r0 = q0 + wg * 64 + warp * 16 + g, r1 = r0 + 8;  // this thread's two query rows
    int last = min(n - 1, q0 + WQ - 1);
    int tiles = last / WKV + 1;

    auto swizzled = [](unsigned char *tile) {
        return [tile](int r, int ch) { return (void *)(tile + (ch >> 3) * ATOM + swizzled_offset(r, ch & 7)); };
    };
    auto plain = [](unsigned char *tile) { return [tile](int r, int ch) { return (void *)(tile + r * VROW + ch * 16); }; };
    auto v_stage = [&](int stage) {
        unsigned char *base = smem + L::OFF_V + stage * L::V_STAGE;
        return [=](int r, int ch) { return N_MAJOR ? swizzled(base)(r, ch) : plain(base)(r, ch); };
    };
    load_tile(q, q_stride, q0, n, h * WHD, swizzled(smem + L::OFF_Q));
    load_tile(k, kv_stride, 0, n, kvh * WHD, swizzled(smem + L::OFF_K));
    load_tile(v, kv_stride, 0, n, kvh * WHD, v_stage(0));
    cp_async_commit();
    int diag = q0 + wg * 64 + warp * 16;  // this warp's first query row: keys up to it are visible to all its rows

    float o[64];
#pragma unroll
    for (int i = 0; i < 64; i++) o[i] = 0.f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;  // per row (l: this thread's partial sum)
    for (int j = 0; j < tiles; j++) {
        int st = j & 1;
        cp_async_wait_all();
        if (N_MAJOR) fence_proxy_async();  // this thread's copies of tile j, visible to wgmma
        __syncthreads();  // tile j has landed everywhere; tile j - 1 (its stages, Vᵀ) is consumed
        if (j + 1 < tiles) {
            load_tile(k, kv_stride, (j + 1) * WKV, n, kvh * WHD, swizzled(smem + L::OFF_K + (st ^ 1) * K_BYTES));
            load_tile(v, kv_stride, (j + 1) * WKV, n, kvh * WHD, v_stage(st ^ 1));
        }
        cp_async_commit();
        if (!N_MAJOR) {
            transpose_v(smem + L::OFF_VT, smem + L::OFF_V + st * L::V_STAGE);
            fence_proxy_async();
            __syncthreads();
        }

        // S = Q·Kᵀ: 64 rows × 128 keys per warpgroup, k over the head dimension.
        float s[64];
#pragma unroll
        for (int i = 0; i < 64; i++) s[i] = 0.f;
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < WHD / 16; kk++) {
            int blk = kk >> 2;
            uint64_t da = wgmma_desc(smem0 + L::OFF_Q + blk * ATOM + wg * 64 * SWIZZLE_ROW);
            uint64_t db = wgmma_desc(smem0 + L::OFF_K + st * K_BYTES + blk * ATOM);
            wgmma_m64n128k16_bf16(s, wgmma_desc_k(da, kk & 3), wgmma_desc_k(db, kk & 3));
        }
        wgmma_commit();
        wgmma_wait<0>();

        // Causal mask, scale (to log2 units), running max per row; register i: key 8 (i / 4) + 2t + i % 2, row r0
        // or r1 by (i / 2) % 2.
        int j0 = j * WKV;
        float mx0 = m0, mx1 = m1;
        if (j0 + WKV - 1 <= diag && j0 + WKV <= n) {  // every key of the tile visible to every row of the warp
#pragma unroll
            for (int i = 0; i < 64; i++) {
                s[i] *= scale_log2;
                if ((i >> 1) & 1) mx1 = fmaxf(mx1, s[i]);
                else mx0 = fmaxf(mx0, s[i]);
            }
        } else {
#pragma unroll
            for (int i = 0; i < 64; i++) {
                int key = j0 + 8 * (i >> 2) + 2 * t + (i & 1);
                bool second = (i >> 1) & 1;
                int row = second ? r1 : r0;
                float val = key <= row && key < n ? s[i] * scale_log2 : -INFINITY;
                s[i] = val;
                if (second) mx1 = fmaxf(mx1, val);
                else mx0 = fmaxf(mx0, val);
            }
        }
        mx0 = quad_max(mx0);  // the 4 threads of a quad share a row
        mx1 = quad_max(mx1);
        float base0 = mx0 == -INFINITY ? 0.f : mx0, base1 = mx1 == -INFINITY ? 0.f : mx1;  // rows past n
        float c0 = exp2f(m0 - base0), c1 = exp2f(m1 - base1);  // 0 on the first tile (m = -inf)
        m0 = mx0;
        m1 = mx1;
        l0 *= c0;
        l1 *= c1;
#pragma unroll
        for (int i = 0; i < 64; i++) o[i] *= ((i >> 1) & 1) ? c1 : c0;
        // P = exp2(S - m) as bf16 A fragments: k step kk takes key groups 2kk and 2kk + 1.
        unsigned pf[WKV / 16][4];
#pragma unroll
        for (int jj = 0; jj < WKV / 8; jj++) {
            float p0 = exp2f(s[4 * jj] - base0), p1 = exp2f(s[4 * jj + 1] - base0);
            float p2 = exp2f(s[4 * jj + 2] - base1), p3 = exp2f(s[4 * jj + 3] - base1);
            l0 += p0 + p1;
            l1 += p2 + p3;
            pf[jj >> 1][(jj & 1) * 2] = pack_bf16(p0, p1);
            pf[jj >> 1][(jj & 1) * 2 + 1] = pack_bf16(p2, p3);
        }
        // O += P·V: B is dims × keys; N_MAJOR: V's rows (one per key, two 64-dim blocks ATOM apart) read N-major, the
        // k16 slice kk 16 rows (2,048 bytes) further; otherwise Vᵀ (keys contiguous) K-major.
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < WKV / 16; kk++) {
            if (N_MAJOR) {
                uint64_t db = wgmma_desc_mn(smem0 + L::OFF_V + st * L::V_STAGE + kk * 16 * SWIZZLE_ROW, ATOM);
                wgmma_m64n128k16_bf16_rs_nb(o, pf[kk], db);
            } else {
                uint64_t db = wgmma_desc(smem0 + L::OFF_VT + (kk >> 2) * ATOM);
                wgmma_m64n128k16_bf16_rs(o, pf[kk], wgmma_desc_k(db, kk & 3));
            }
        }
        wgmma_commit();
        wgmma_wait<0>();
    }
    float i0 = 1.f / quad_sum(l0), i1 = 1.f / quad_sum(l1);
#pragma unroll
    for (int i = 0; i < 64; i += 2) {
        bool second = (i >> 1) & 1;
        int row = second ? r1 : r0;
        if (row >= n) continue;
        float inv = second ? i1 : i0;
        float *dst = out + (size_t)row * out_stride + (size_t)h * WHD + 8 * (i >> 2) + 2 * t;
        dst[0] = o[i] * inv;
        dst[1] = o[i + 1] * inv;
    }
#endif
}

}  // namespace

// Called by alma_attention_prefill_tc (attention_prefill_tc.cu) when the wgmma variant is selected and the head
// dimension is 128; the arguments are checked there, plus q_stride % 8 == 0 and a 16-byte aligned q for the copies.
template <bool N_MAJOR>
static int launch(const void *d_q, int q_stride, const void *d_k, const void *d_v, int kv_stride, float *d_out,
                  int out_stride, int n, int heads, int kv_heads, float scale_log2, cudaStream_t s) {
    auto kernel = attention_prefill_wgmma_kernel<N_MAJOR>;
    constexpr int SMEM = Layout<N_MAJOR>::BYTES;
    ALMA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM));
    dim3 grid((n + WQ - 1) / WQ, heads);
    kernel<<<grid, WTHREADS, SMEM, s>>>((const __nv_bfloat16 *)d_q, q_stride, (const __nv_bfloat16 *)d_k,
                                        (const __nv_bfloat16 *)d_v, kv_stride, d_out, out_stride, n,
                                        heads / kv_heads, scale_log2);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_attention_prefill_wgmma(int variant, const void *d_q, int q_stride, const void *d_k, const void *d_v,
                                 int kv_stride, float *d_out, int out_stride, int n, int heads, int kv_heads,
                                 float scale_log2, cudaStream_t s) {
    return variant == 2 ? launch<true>(d_q, q_stride, d_k, d_v, kv_stride, d_out, out_stride, n, heads, kv_heads,
                                       scale_log2, s)
                        : launch<false>(d_q, q_stride, d_k, d_v, kv_stride, d_out, out_stride, n, heads, kv_heads,
                                        scale_log2, s);
}
