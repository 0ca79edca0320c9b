// Prefill matrix product on Hopper: C[m, n] = A[m, k] · W[n, k]ᵀ for 16-bit A and W through wgmma (sm_90a), the
// variants alma_gemm_set_variant(1..6) select on a compute capability 9.0 device.
//  - Block tile 128 tokens × BN weight rows × 64 k; two warpgroups, each owning 64 tokens × BN rows with one
//    m64nBNk16 per k16 slice (BN / 2 f32 accumulators per thread).
//  - STAGES shared-memory stages filled by cp.async in the 128-byte swizzled layout (wgmma.cuh), AHEAD tiles loading
//    while one is multiplied; with STAGES = AHEAD + 2 the previous tile's products drain meanwhile (wgmma_wait<1>),
//    with STAGES = AHEAD + 1 each tile's products complete before the next tile starts (wgmma_wait<0>).
//  - GROUP > 0: blocks walk the output in groups of GROUP tile rows (all column tiles of a group, then the next
//    group), so that the blocks running together share A and W panels in L2; 0: row by row.
//  - Edges zero-filled: m and n arbitrary, k % 8 == 0 (16-byte chunks all in or all out).
// The shapes, swept on an H100 and an H200 in cpp/PERF.md, are the variants of GEMM_SHAPES.
#include "wgmma.cuh"

namespace {

constexpr int HM = 128, HK = 64, HTHREADS = 256;
constexpr int A_TILE = HM * SWIZZLE_ROW;
static_assert(HK * 2 == SWIZZLE_ROW, "a k tile is one swizzled row");

// Bytes of a stage (the A and W tiles) and of the dynamic shared memory (+ the alignment of the first stage).
template <int BN> struct Stage {
    static constexpr int BYTES = A_TILE + BN * SWIZZLE_ROW;
};
template <int BN, int STAGES> struct Smem {
    static constexpr int BYTES = STAGES * Stage<BN>::BYTES + 1024;
};

// Rows row0.. of src (ROWS of them, K elements each, `limit` in all) at k0.. into a swizzled tile: 8 chunks a row,
// consecutive threads on consecutive chunks of a row.
template <typename T, int ROWS>
__device__ __forceinline__ void load_tile(unsigned char *tile, const T *src, int limit, int K, int row0, int k0) {
#pragma unroll
    for (int i = 0; i < ROWS * 8 / HTHREADS; i++) {
        int c = threadIdx.x + i * HTHREADS;
        int r = c >> 3, ch = c & 7;
        int gr = row0 + r, gk = k0 + ch * 8;
        bool ok = gr < limit && gk < K;
        cp_async16(tile + swizzled_offset(r, ch), ok ? (const void *)(src + (size_t)gr * K + gk) : (const void *)src,
                   ok);
    }
}

template <typename T, int BN>
__device__ __forceinline__ void wgmma_tile(float *d, uint64_t da, uint64_t db) {
#if defined(ALMA_EMU) || defined(ALMA_HAVE_WGMMA)
    if constexpr (BN == 256) wgmma_m64n256k16<T>(d, da, db);
    else wgmma_m64n128k16<T>(d, da, db);
#endif
}

template <typename T, int BN, int STAGES, int AHEAD, int GROUP, int MIN_BLOCKS>
__global__ void __launch_bounds__(HTHREADS, MIN_BLOCKS)
    gemm_wgmma_kernel(const T *A, const T *W, float *C, int M, int N, int K) {
#if defined(ALMA_EMU) || defined(ALMA_HAVE_WGMMA)
    static_assert(BN == 128 || BN == 256, "m64n128 or m64n256 products");
    static_assert(AHEAD >= 1 && (STAGES == AHEAD + 1 || STAGES == AHEAD + 2), "a stage per tile in flight");
    constexpr int STAGE = Stage<BN>::BYTES, ACC = BN / 2, DRAIN = STAGES - AHEAD - 1;
    extern __shared__ unsigned char smem_raw[];  // 16-byte aligned
    unsigned raw = smem_address(smem_raw);
    unsigned char *smem = smem_raw + ((1024 - (raw & 1023)) & 1023);
    unsigned smem0 = smem_address(smem);
    int wg = threadIdx.x >> 7;  // warpgroup: tokens 64 wg .. 64 wg + 63 of the block tile
    int tile_m = blockIdx.y, tile_n = blockIdx.x;
    if (GROUP > 0) {  // the block's place in the grouped walk
        int tiles_n = gridDim.x, id = blockIdx.y * tiles_n + blockIdx.x, per_group = GROUP * tiles_n;
        int first = id / per_group * GROUP, rows = min(GROUP, (int)gridDim.y - first), in = id % per_group;
        tile_m = first + in % rows;
        tile_n = in / rows;
    }
    int row0 = tile_m * HM, col0 = tile_n * BN;
    float d[ACC];
#pragma unroll
    for (int i = 0; i < ACC; i++) d[i] = 0.f;

    int tiles = (K + HK - 1) / HK;
#pragma unroll
    for (int s = 0; s < AHEAD; s++) {
        if (s < tiles) {
            unsigned char *st = smem + s * STAGE;
            load_tile<T, HM>(st, A, M, K, row0, s * HK);
            load_tile<T, BN>(st + A_TILE, W, N, K, col0, s * HK);
        }
        cp_async_commit();
    }
    for (int kt = 0; kt < tiles; kt++) {
        // Tile kt has landed (AHEAD - 1 younger groups may still load); every warpgroup has finished the products of
        // tile kt + AHEAD - STAGES (each waited for all but DRAIN of its groups before this barrier), so that stage
        // can be refilled.
        cp_async_wait<AHEAD - 1>();
        fence_proxy_async();
        __syncthreads();
        int st = kt % STAGES;
        uint64_t da = wgmma_desc(smem0 + st * STAGE + wg * 64 * SWIZZLE_ROW);
        uint64_t db = wgmma_desc(smem0 + st * STAGE + A_TILE);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < HK / 16; kk++) wgmma_tile<T, BN>(d, wgmma_desc_k(da, kk), wgmma_desc_k(db, kk));
        wgmma_commit();
        int next = kt + AHEAD;
        if (next < tiles) {
            unsigned char *nst = smem + (next % STAGES) * STAGE;
            load_tile<T, HM>(nst, A, M, K, row0, next * HK);
            load_tile<T, BN>(nst + A_TILE, W, N, K, col0, next * HK);
        }
        cp_async_commit();
        wgmma_wait<DRAIN>();
    }
    wgmma_wait<0>();

    int t = threadIdx.x & 127, lane = t & 31;
    int ra = row0 + wg * 64 + (t >> 5) * 16 + (lane >> 2), rb = ra + 8;
    bool pairs = (N & 1) == 0;  // float2 stores stay 8-byte aligned
#pragma unroll
    for (int j = 0; j < BN / 8; j++) {
        int c = col0 + 8 * j + 2 * (lane & 3);
#pragma unroll
        for (int h = 0; h < 2; h++) {
            int r = h ? rb : ra;
            if (r >= M) continue;
            float v0 = d[4 * j + 2 * h], v1 = d[4 * j + 2 * h + 1];
            float *out = C + (size_t)r * N + c;
            if (pairs && c + 1 < N) {
                *reinterpret_cast<float2 *>(out) = make_float2(v0, v1);
            } else {
                if (c < N) out[0] = v0;
                if (c + 1 < N) out[1] = v1;
            }
        }
    }
#endif
}

template <typename T, int BN, int STAGES, int AHEAD, int GROUP, int MIN_BLOCKS>
int launch_wgmma(const T *a, const T *w, float *c, int m, int n, int k, cudaStream_t s) {
    auto kernel = gemm_wgmma_kernel<T, BN, STAGES, AHEAD, GROUP, MIN_BLOCKS>;
    constexpr int SMEM = Smem<BN, STAGES>::BYTES;
    ALMA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM));
    dim3 grid((n + BN - 1) / BN, (m + HM - 1) / HM);
    ALMA_REQUIRE(grid.y <= 65535);
    kernel<<<grid, HTHREADS, SMEM, s>>>(a, w, c, m, n, k);
    ALMA_CHECK_LAUNCH();
    return 0;
}

// Variant v of alma_gemm_set_variant (1..6): {BN, STAGES, AHEAD, GROUP, blocks per SM}.
//  1: 128×256 tiles, 4 × 48 KB stages, 2 ahead, products draining, row-major walk (the first wgmma kernel)
//  2: as 1, grouped walk of 8 tile rows
//  3: 128×256, 4 stages, 3 ahead, no draining, grouped
//  4: 128×128 tiles, 3 × 32 KB stages, 2 ahead, two blocks per SM, grouped
//  5: 128×128, 3 stages, 1 ahead, draining, two blocks per SM, grouped
//  6: as 4, groups of 16 tile rows
template <typename T>
int launch_variant(int v, const T *a, const T *w, float *c, int m, int n, int k, cudaStream_t s) {
    switch (v) {
    case 2: return launch_wgmma<T, 256, 4, 2, 8, 1>(a, w, c, m, n, k, s);
    case 3: return launch_wgmma<T, 256, 4, 3, 8, 1>(a, w, c, m, n, k, s);
    case 4: return launch_wgmma<T, 128, 3, 2, 8, 2>(a, w, c, m, n, k, s);
    case 5: return launch_wgmma<T, 128, 3, 1, 8, 2>(a, w, c, m, n, k, s);
    case 6: return launch_wgmma<T, 128, 3, 2, 16, 2>(a, w, c, m, n, k, s);
    default: return launch_wgmma<T, 256, 4, 2, 0, 1>(a, w, c, m, n, k, s);
    }
}

}  // namespace

int alma_wgmma_device_check() {
    int dev = 0, major = 0, minor = 0;
    ALMA_CHECK(cudaGetDevice(&dev));
    ALMA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    ALMA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    return major == 9 && minor == 0 ? 0 : (int)cudaErrorInvalidDeviceFunction;
}

// Called by alma_gemm (gemm.cu) for 16-bit operands when a wgmma variant (1..6) is selected; arguments already
// checked there (k % 8 == 0, 16-byte aligned operands, m, n > 0).
int alma_gemm_wgmma(int variant, const void *d_a, const void *d_w, int type, float *d_c, int m, int n, int k,
                    cudaStream_t s) {
    if (type == ALMA_BF16)
        return launch_variant<__nv_bfloat16>(variant, (const __nv_bfloat16 *)d_a, (const __nv_bfloat16 *)d_w, d_c, m,
                                             n, k, s);
    if (type == ALMA_F16)
        return launch_variant<__half>(variant, (const __half *)d_a, (const __half *)d_w, d_c, m, n, k, s);
    return (int)cudaErrorInvalidValue;
}
