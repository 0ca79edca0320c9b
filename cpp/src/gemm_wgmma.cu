// Prefill matrix product on Hopper: C[m, n] = A[m, k] · W[n, k]ᵀ for 16-bit A and W through wgmma (sm_90a), the
// variants alma_gemm_set_variant(1..10) select on a compute capability 9.0 device. Two kernels:
//
// gemm_wgmma_kernel (variants 1-6): every thread loads with cp.async.
//  - Block tile 128 tokens × BN weight rows × 64 k; two warpgroups, each owning 64 tokens × BN rows with one
//    m64nBNk16 per k16 slice (BN / 2 f32 accumulators per thread).
//  - STAGES shared-memory stages filled by cp.async in the 128-byte swizzled layout (wgmma.cuh), AHEAD tiles loading
//    while one is multiplied; with STAGES = AHEAD + 2 the previous tile's products drain meanwhile (wgmma_wait<1>),
//    with STAGES = AHEAD + 1 each tile's products complete before the next tile starts (wgmma_wait<0>).
//  - GROUP > 0: blocks walk the output in groups of GROUP tile rows (all column tiles of a group, then the next
//    group), so that the blocks running together share A and W panels in L2; 0: row by row.
//  - Edges zero-filled: m and n arbitrary, k % 8 == 0 (16-byte chunks all in or all out).
//
// gemm_tma_kernel (variants 7-9): warp-specialised and persistent. One producer warp (the block's ninth) loads the
// A and W tiles of each k step with TMA (tma.cuh) into STAGES swizzled stages; the two consumer warpgroups wait for
// a stage on its `full` mbarrier, issue its four k16 products, and once the products of the step before have
// completed (wgmma_wait<1>: one step's products always in flight) release that step's stage on its `empty` mbarrier
// (one arrival per consumer warp), so the producer refills it while they multiply. Each block walks output tiles
// blockIdx.x, blockIdx.x + gridDim.x, ... (grid: MIN_BLOCKS per SM), its producer loading the next tile's first
// stages while the consumers store the last tile. Edges: TMA reads zeros outside the matrices.
//
// The shapes, swept on an H100 and an H200 in cpp/PERF.md, are the variants of launch_variant.
#include "tma.cuh"
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

// Output tile (tile_m, tile_n) of the block tile numbered `id` in the walk: GROUP > 0, groups of GROUP tile rows (all
// column tiles of a group, then the next group); 0, row by row.
template <int GROUP>
__device__ __forceinline__ void walk_tile(int id, int tiles_m, int tiles_n, int &tile_m, int &tile_n) {
    if (GROUP > 0) {
        int per_group = GROUP * tiles_n, first = id / per_group * GROUP, rows = min(GROUP, tiles_m - first);
        int in = id % per_group;
        tile_m = first + in % rows;
        tile_n = in / rows;
    } else {
        tile_m = id / tiles_n;
        tile_n = id % tiles_n;
    }
}

// Stores a warpgroup's accumulators (64 rows from row0, BN columns from col0; the layout of wgmma.cuh) into C.
template <int BN>
__device__ __forceinline__ void store_accumulators(const float *d, float *C, int M, int N, int row0, int col0) {
    int t = threadIdx.x & 127, lane = t & 31;
    int ra = row0 + (t >> 5) * 16 + (lane >> 2), rb = ra + 8;
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
    unsigned char *smem = swizzle_aligned(smem_raw);
    unsigned smem0 = smem_address(smem);
    int wg = threadIdx.x >> 7;  // warpgroup: tokens 64 wg .. 64 wg + 63 of the block tile
    int tile_m, tile_n;
    walk_tile<GROUP>(blockIdx.y * gridDim.x + blockIdx.x, gridDim.y, gridDim.x, tile_m, tile_n);
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
    store_accumulators<BN>(d, C, M, N, row0 + wg * 64, col0);
#endif
}

constexpr int TMA_THREADS = 288;  // two consumer warpgroups, then the producer warp

template <int BN, int STAGES> struct TmaSmem {
    static constexpr int BARRIERS = STAGES * Stage<BN>::BYTES;  // offset of the 2 × STAGES mbarriers
    static constexpr int BYTES = BARRIERS + 2 * STAGES * 8 + 1024;
};

template <typename T, int BN, int STAGES, int GROUP, int MIN_BLOCKS>
__global__ void __launch_bounds__(TMA_THREADS, MIN_BLOCKS)
    gemm_tma_kernel(const __grid_constant__ CUtensorMap tm_a, const __grid_constant__ CUtensorMap tm_w, float *C,
                    int M, int N, int K) {
#if defined(ALMA_EMU) || defined(ALMA_HAVE_WGMMA)
    static_assert(BN == 128 || BN == 256, "m64n128 or m64n256 products");
    static_assert(STAGES >= 2, "a stage multiplied while the next one loads");
    constexpr int STAGE = Stage<BN>::BYTES, ACC = BN / 2, CONSUMER_WARPS = 8;
    extern __shared__ unsigned char smem_raw[];  // 16-byte aligned
    unsigned char *smem = swizzle_aligned(smem_raw);
    unsigned smem0 = smem_address(smem);
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + TmaSmem<BN, STAGES>::BARRIERS), *empty = full + STAGES;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&full[s], 1);                // the producer's arrive.expect_tx; the bytes come from TMA
            mbar_init(&empty[s], CONSUMER_WARPS);  // one arrival per consumer warp
        }
        mbar_init_fence();
    }
    __syncthreads();  // the last barrier of the kernel: the producer warp leaves early
    int tiles_m = (M + HM - 1) / HM, tiles_n = (N + BN - 1) / BN, tiles = tiles_m * tiles_n;
    int steps = (K + HK - 1) / HK;

    if (warp == CONSUMER_WARPS) {  // the producer: one lane issues every copy
        if (lane == 0) {
            unsigned it = 0;  // k steps so far over all of this block's tiles: stage it % STAGES
            for (int id = blockIdx.x; id < tiles; id += gridDim.x) {
                int tile_m, tile_n;
                walk_tile<GROUP>(id, tiles_m, tiles_n, tile_m, tile_n);
                for (int kt = 0; kt < steps; kt++, it++) {
                    int s = it % STAGES;
                    // The stage's previous use (step it - STAGES) has been released by every consumer warp.
                    if (it >= (unsigned)STAGES) mbar_wait(&empty[s], (it / STAGES - 1) & 1);
                    unsigned char *st = smem + s * STAGE;
                    mbar_arrive_expect_tx(&full[s], STAGE);
                    tma_load_2d(st, &tm_a, kt * HK, tile_m * HM, &full[s]);
                    tma_load_2d(st + A_TILE, &tm_w, kt * HK, tile_n * BN, &full[s]);
                }
            }
        }
        return;
    }

    int wg = threadIdx.x >> 7;  // consumer warpgroup: tokens 64 wg .. 64 wg + 63 of the block tile
    unsigned it = 0;
    for (int id = blockIdx.x; id < tiles; id += gridDim.x) {
        int tile_m, tile_n;
        walk_tile<GROUP>(id, tiles_m, tiles_n, tile_m, tile_n);
        float d[ACC];
#pragma unroll
        for (int i = 0; i < ACC; i++) d[i] = 0.f;
        for (int kt = 0; kt < steps; kt++, it++) {
            int s = it % STAGES;
            mbar_wait(&full[s], (it / STAGES) & 1);
            uint64_t da = wgmma_desc(smem0 + s * STAGE + wg * 64 * SWIZZLE_ROW);
            uint64_t db = wgmma_desc(smem0 + s * STAGE + A_TILE);
            wgmma_fence();
#pragma unroll
            for (int kk = 0; kk < HK / 16; kk++) wgmma_tile<T, BN>(d, wgmma_desc_k(da, kk), wgmma_desc_k(db, kk));
            wgmma_commit();
            wgmma_wait<1>();  // the previous step's products are done: its stage can be refilled
            if (kt > 0) {
                __syncwarp();
                if (lane == 0) mbar_arrive(&empty[(it - 1) % STAGES]);
            }
        }
        wgmma_wait<0>();
        __syncwarp();
        if (lane == 0) mbar_arrive(&empty[(it - 1) % STAGES]);  // the tile's last stage, before the stores
        store_accumulators<BN>(d, C, M, N, tile_m * HM + wg * 64, tile_n * BN);
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

// The persistent TMA kernel on a grid of MIN_BLOCKS blocks per SM (sms of them), or fewer where there are fewer tiles.
template <typename T, int BN, int STAGES, int GROUP, int MIN_BLOCKS>
int launch_tma(const T *a, const T *w, float *c, int m, int n, int k, int type, int sms, cudaStream_t s) {
    CUtensorMap tm_a, tm_w;
    int rc = alma_tensor_map_16bit(&tm_a, a, type, m, k, HM);
    if (rc == 0) rc = alma_tensor_map_16bit(&tm_w, w, type, n, k, BN);
    if (rc != 0) return rc;
    auto kernel = gemm_tma_kernel<T, BN, STAGES, GROUP, MIN_BLOCKS>;
    constexpr int SMEM = TmaSmem<BN, STAGES>::BYTES;
    ALMA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM));
    long long tiles = (long long)((m + HM - 1) / HM) * ((n + BN - 1) / BN);
    ALMA_REQUIRE(tiles <= 0x7fffffff);
    int grid = (int)min(tiles, (long long)sms * MIN_BLOCKS);
    kernel<<<grid, TMA_THREADS, SMEM, s>>>(tm_a, tm_w, c, m, n, k);
    ALMA_CHECK_LAUNCH();
    return 0;
}

// Variant v of alma_gemm_set_variant (1..10): {BN, STAGES, AHEAD, GROUP, blocks per SM} (1-6), {BN, STAGES, GROUP,
// blocks per SM} of the TMA kernel (7-9).
//  1: 128×256 tiles, 4 × 48 KB stages, 2 ahead, products draining, row-major walk (the first wgmma kernel)
//  2: as 1, grouped walk of 8 tile rows
//  3: 128×256, 4 stages, 3 ahead, no draining, grouped
//  4: 128×128 tiles, 3 × 32 KB stages, 2 ahead, two blocks per SM, grouped
//  5: 128×128, 3 stages, 1 ahead, draining, two blocks per SM, grouped
//  6: as 4, groups of 16 tile rows
//  7: TMA, 128×128 tiles, 3 × 32 KB stages, groups of 8, two blocks per SM
//  8: TMA, 128×256 tiles, 4 × 48 KB stages, groups of 8, one block per SM
//  9: TMA, 128×128 tiles, 6 × 32 KB stages, groups of 8, one block per SM
// 10: 8 or 9 by the product's size (auto_variant)
//
// Variant 10 takes 9's 128×128 tiles while they fit in one wave (one tile per SM or fewer: a short prompt's
// products), else 8's 128×256 tiles, the fastest once there are enough of them (cpp/PERF.md runs 16-17, H200:
// 512 × 4,096 × 4,096, 128 tiles of 9, 84% of cuBLAS against 8's 67%; 1,024 × 4,096 × 4,096, 256 tiles of 9, 8
// 98% against 9's 81%).
int auto_variant(int m, int n, int sms) {
    long long tiles = (long long)((m + HM - 1) / HM) * ((n + 127) / 128);
    return tiles > sms ? 8 : 9;
}

template <typename T>
int launch_variant(int v, const T *a, const T *w, float *c, int m, int n, int k, int type, cudaStream_t s) {
    if (v >= 7) {  // the TMA kernels: persistent, their grids sized by the SMs
        int dev = 0, sms = 0;
        ALMA_CHECK(cudaGetDevice(&dev));
        ALMA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
        if (v == 10) v = auto_variant(m, n, sms);
        if (v == 7) return launch_tma<T, 128, 3, 8, 2>(a, w, c, m, n, k, type, sms, s);
        if (v == 8) return launch_tma<T, 256, 4, 8, 1>(a, w, c, m, n, k, type, sms, s);
        return launch_tma<T, 128, 6, 8, 1>(a, w, c, m, n, k, type, sms, s);
    }
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

// Called by alma_gemm (gemm.cu) for 16-bit operands when a wgmma variant (1..10) is selected; arguments already
// checked there (k % 8 == 0, 16-byte aligned operands, m, n > 0).
int alma_gemm_wgmma(int variant, const void *d_a, const void *d_w, int type, float *d_c, int m, int n, int k,
                    cudaStream_t s) {
    if (type == ALMA_BF16)
        return launch_variant<__nv_bfloat16>(variant, (const __nv_bfloat16 *)d_a, (const __nv_bfloat16 *)d_w, d_c, m,
                                             n, k, type, s);
    if (type == ALMA_F16)
        return launch_variant<__half>(variant, (const __half *)d_a, (const __half *)d_w, d_c, m, n, k, type, s);
    return (int)cudaErrorInvalidValue;
}
