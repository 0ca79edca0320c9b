// Prefill matrix product on Hopper: C[m, n] = A[m, k] · W[n, k]ᵀ for 16-bit A and W through wgmma (sm_90a), the
// variant alma_gemm_set_variant(1) selects on a compute capability 9.0 device.
//  - Block tile 128 tokens × 256 weight rows × 64 k; two warpgroups, each owning 64 tokens × 256 rows with one
//    m64n256k16 per k16 slice (128 f32 accumulators per thread).
//  - Four shared-memory stages of 48 KB, filled by cp.async in the 128-byte swizzled layout (wgmma.cuh): two tiles
//    are loading while one is multiplied and the previous tile's products drain (wgmma_wait<1>).
//  - Edges zero-filled: m and n arbitrary, k % 8 == 0 (16-byte chunks all in or all out).
#include "wgmma.cuh"

namespace {

constexpr int HM = 128, HN = 256, HK = 64, HSTAGES = 4, HTHREADS = 256;
constexpr int A_TILE = HM * SWIZZLE_ROW, B_TILE = HN * SWIZZLE_ROW, STAGE_BYTES = A_TILE + B_TILE;
constexpr int HSMEM = HSTAGES * STAGE_BYTES + 1024;  // + the alignment of the first stage to 1024 bytes
static_assert(HK * 2 == SWIZZLE_ROW, "a k tile is one swizzled row");

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

template <typename T>
__global__ void __launch_bounds__(HTHREADS, 1)
    gemm_wgmma_kernel(const T *A, const T *W, float *C, int M, int N, int K) {
#if defined(ALMA_EMU) || defined(ALMA_HAVE_WGMMA)
    extern __shared__ unsigned char smem_raw[];  // 16-byte aligned
    unsigned raw = smem_address(smem_raw);
    unsigned char *smem = smem_raw + ((1024 - (raw & 1023)) & 1023);
    unsigned smem0 = smem_address(smem);
    int wg = threadIdx.x >> 7;  // warpgroup: tokens 64 wg .. 64 wg + 63 of the block tile
    int row0 = blockIdx.y * HM, col0 = blockIdx.x * HN;
    float d[128];
#pragma unroll
    for (int i = 0; i < 128; i++) d[i] = 0.f;

    int tiles = (K + HK - 1) / HK;
#pragma unroll
    for (int s = 0; s < HSTAGES - 2; s++) {
        if (s < tiles) {
            unsigned char *st = smem + s * STAGE_BYTES;
            load_tile<T, HM>(st, A, M, K, row0, s * HK);
            load_tile<T, HN>(st + A_TILE, W, N, K, col0, s * HK);
        }
        cp_async_commit();
    }
    for (int kt = 0; kt < tiles; kt++) {
        // Tile kt has landed (one younger group may still load); every warpgroup has finished the products of tile
        // kt - 2 (each waited for all but its latest before this barrier), so its stage can be refilled.
        cp_async_wait_1();
        fence_proxy_async();
        __syncthreads();
        int st = kt % HSTAGES;
        uint64_t da = wgmma_desc(smem0 + st * STAGE_BYTES + wg * 64 * SWIZZLE_ROW);
        uint64_t db = wgmma_desc(smem0 + st * STAGE_BYTES + A_TILE);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < HK / 16; kk++) wgmma_m64n256k16<T>(d, wgmma_desc_k(da, kk), wgmma_desc_k(db, kk));
        wgmma_commit();
        int next = kt + HSTAGES - 2;
        if (next < tiles) {
            unsigned char *nst = smem + (next % HSTAGES) * STAGE_BYTES;
            load_tile<T, HM>(nst, A, M, K, row0, next * HK);
            load_tile<T, HN>(nst + A_TILE, W, N, K, col0, next * HK);
        }
        cp_async_commit();
        wgmma_wait<1>();
    }
    wgmma_wait<0>();

    int t = threadIdx.x & 127, lane = t & 31;
    int ra = row0 + wg * 64 + (t >> 5) * 16 + (lane >> 2), rb = ra + 8;
    bool pairs = (N & 1) == 0;  // float2 stores stay 8-byte aligned
#pragma unroll
    for (int j = 0; j < 32; j++) {
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

template <typename T>
int launch_wgmma(const T *a, const T *w, float *c, int m, int n, int k, cudaStream_t s) {
    ALMA_CHECK(cudaFuncSetAttribute(gemm_wgmma_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, HSMEM));
    dim3 grid((n + HN - 1) / HN, (m + HM - 1) / HM);
    ALMA_REQUIRE(grid.y <= 65535);
    gemm_wgmma_kernel<T><<<grid, HTHREADS, HSMEM, s>>>(a, w, c, m, n, k);
    ALMA_CHECK_LAUNCH();
    return 0;
}

}  // namespace

int alma_wgmma_device_check() {
    int dev = 0, major = 0, minor = 0;
    ALMA_CHECK(cudaGetDevice(&dev));
    ALMA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    ALMA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    return major == 9 && minor == 0 ? 0 : (int)cudaErrorInvalidDeviceFunction;
}

// Called by alma_gemm (gemm.cu) for 16-bit operands when the wgmma variant is selected; arguments already checked
// there (k % 8 == 0, 16-byte aligned operands, m, n > 0).
int alma_gemm_wgmma(const void *d_a, const void *d_w, int type, float *d_c, int m, int n, int k, cudaStream_t s) {
    if (type == ALMA_BF16)
        return launch_wgmma<__nv_bfloat16>((const __nv_bfloat16 *)d_a, (const __nv_bfloat16 *)d_w, d_c, m, n, k, s);
    if (type == ALMA_F16) return launch_wgmma<__half>((const __half *)d_a, (const __half *)d_w, d_c, m, n, k, s);
    return (int)cudaErrorInvalidValue;
}
