// Prefill matrix product C[m, n] = A[m, k] · W[n, k]ᵀ.
//  - bf16/f16: tensor cores through mma.sync.m16n8k16 (sm_80 and later), 128×128×32 block tiles, 8 warps of 64×32,
//    cp.async double buffering, f32 accumulation. k % 8 == 0 (16-byte chunks); m and n arbitrary (zero-filled edges).
//    On Hopper, alma_gemm_set_variant(1..10) switches to a shape of the wgmma kernels of gemm_wgmma.cu (same
//    contract; 7-9 load with TMA).
//  - float32 activations: a CUDA-core tiled kernel (64×64×16, 4×4 outputs per thread) over f32, f16 or bf16
//    weights, any shape; exact float32 products (what the CPU backend computes).
#include "wgmma.cuh"

namespace {

constexpr int BM = 128, BN = 128, BK = 32, PAD = 8, LDS = BK + PAD;  // LDS: smem row length in halves (80 bytes)
constexpr int GEMM_THREADS = 256;

// Loads the BM×BK tile of A at (row0, k0) and the BN×BK tile of W at (col0, k0): 512 16-byte chunks each.
template <typename T>
__device__ __forceinline__ void load_tiles(T (*as)[LDS], T (*bs)[LDS], const T *A, const T *W, int M, int N, int K,
                                           int row0, int col0, int k0) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
        int chunk = threadIdx.x + i * GEMM_THREADS;  // 0..511
        int r = chunk >> 2, c = (chunk & 3) * 8;
        int gk = k0 + c;
        bool kin = gk < K;  // K % 8 == 0: a chunk is all in or all out
        int ar = row0 + r, br = col0 + r;
        bool aok = kin && ar < M, bok = kin && br < N;
        cp_async16(&as[r][c], aok ? (const void *)(A + (size_t)ar * K + gk) : (const void *)A, aok);
        cp_async16(&bs[r][c], bok ? (const void *)(W + (size_t)br * K + gk) : (const void *)W, bok);
    }
}

template <typename T>
__global__ void __launch_bounds__(GEMM_THREADS) gemm_tc_kernel(const T *A, const T *W, float *C, int M, int N, int K) {
    __shared__ __align__(16) T as[2][BM][LDS];
    __shared__ __align__(16) T bs[2][BN][LDS];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int g = lane >> 2, t = lane & 3;
    int wm = (warp >> 2) * 64;  // 2 warps along M
    int wn = (warp & 3) * 32;   // 4 warps along N
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[i][j][q] = 0.f;

    int tiles = (K + BK - 1) / BK;
    load_tiles<T>(as[0], bs[0], A, W, M, N, K, row0, col0, 0);
    cp_async_commit();
    for (int kt = 0; kt < tiles; kt++) {
        int buf = kt & 1;
        if (kt + 1 < tiles) load_tiles<T>(as[buf ^ 1], bs[buf ^ 1], A, W, M, N, K, row0, col0, (kt + 1) * BK);
        cp_async_commit();
        cp_async_wait_1();
        __syncthreads();
#pragma unroll
        for (int ks = 0; ks < BK; ks += 16) {
            unsigned af[4][4], bf[4][2];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int r = wm + i * 16 + g;
                af[i][0] = *reinterpret_cast<const unsigned *>(&as[buf][r][ks + 2 * t]);
                af[i][1] = *reinterpret_cast<const unsigned *>(&as[buf][r + 8][ks + 2 * t]);
                af[i][2] = *reinterpret_cast<const unsigned *>(&as[buf][r][ks + 2 * t + 8]);
                af[i][3] = *reinterpret_cast<const unsigned *>(&as[buf][r + 8][ks + 2 * t + 8]);
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int c = wn + j * 8 + g;
                bf[j][0] = *reinterpret_cast<const unsigned *>(&bs[buf][c][ks + 2 * t]);
                bf[j][1] = *reinterpret_cast<const unsigned *>(&bs[buf][c][ks + 2 * t + 8]);
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) Mma<T>::run(acc[i][j], af[i], bf[j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int r = row0 + wm + i * 16 + g;
            int c = col0 + wn + j * 8 + 2 * t;
#pragma unroll
            for (int q = 0; q < 4; q++) {
                int rr = r + (q >> 1) * 8, cc = c + (q & 1);
                if (rr < M && cc < N) C[(size_t)rr * N + cc] = acc[i][j][q];
            }
        }
    }
}

// f32 on CUDA cores: 64×64 block tile, 16×16 threads, 4×4 outputs each.
constexpr int FM = 64, FN = 64, FK = 16;

template <typename T>
__global__ void __launch_bounds__(256) gemm_f32_kernel(const float *A, const T *W, float *C, int M, int N, int K) {
    __shared__ float as[FK][FM + 1];
    __shared__ float bs[FK][FN + 1];
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int row0 = blockIdx.y * FM, col0 = blockIdx.x * FN;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += FK) {
        for (int e = threadIdx.x; e < FM * FK; e += 256) {
            int r = e / FK, c = e % FK;  // consecutive threads read consecutive k of one row
            int gk = k0 + c;
            as[c][r] = (row0 + r < M && gk < K) ? A[(size_t)(row0 + r) * K + gk] : 0.f;
            bs[c][r] = (col0 + r < N && gk < K) ? to_f32(W[(size_t)(col0 + r) * K + gk]) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < FK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = as[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int r = row0 + ty + 16 * i, c = col0 + tx + 16 * j;
            if (r < M && c < N) C[(size_t)r * N + c] = acc[i][j];
        }
}

// 0: mma.sync (any sm_80+ device), 1..10: the wgmma shapes of gemm_wgmma.cu (compute capability 9.0 only).
int gemm_variant = 0;
constexpr int GEMM_VARIANTS = 11;

}  // namespace

int alma_gemm_wgmma(int variant, const void *d_a, const void *d_w, int type, float *d_c, int m, int n, int k,
                    cudaStream_t s);

extern "C" int alma_gemm_set_variant(int variant) {
    return alma_set_wgmma_variant(variant, &gemm_variant, GEMM_VARIANTS);
}

extern "C" int alma_gemm_variant(void) { return gemm_variant; }

extern "C" int alma_gemm(const void *d_a, int a_type, const void *d_w, int w_type, float *d_c, int m, int n, int k,
                         void *stream) {
    ALMA_REQUIRE(m >= 0 && n >= 0 && k > 0);
    if (m == 0 || n == 0) return 0;
    cudaStream_t s = alma_stream(stream);
    if (a_type == ALMA_F32) {
        dim3 grid((n + FN - 1) / FN, (m + FM - 1) / FM);
        ALMA_REQUIRE(grid.y <= 65535);
        ALMA_DISPATCH_TYPE(w_type, T,
            gemm_f32_kernel<T><<<grid, 256, 0, s>>>((const float *)d_a, (const T *)d_w, d_c, m, n, k));
    } else {
        ALMA_REQUIRE(a_type == w_type && k % 8 == 0 && ((uintptr_t)d_a & 15) == 0 && ((uintptr_t)d_w & 15) == 0);
        if (gemm_variant >= 1) return alma_gemm_wgmma(gemm_variant, d_a, d_w, w_type, d_c, m, n, k, s);
        dim3 grid((n + BN - 1) / BN, (m + BM - 1) / BM);
        ALMA_REQUIRE(grid.y <= 65535);
        if (w_type == ALMA_BF16)
            gemm_tc_kernel<__nv_bfloat16><<<grid, GEMM_THREADS, 0, s>>>((const __nv_bfloat16 *)d_a,
                                                                       (const __nv_bfloat16 *)d_w, d_c, m, n, k);
        else if (w_type == ALMA_F16)
            gemm_tc_kernel<__half><<<grid, GEMM_THREADS, 0, s>>>((const __half *)d_a, (const __half *)d_w, d_c, m, n, k);
        else
            return (int)cudaErrorInvalidValue;
    }
    ALMA_CHECK_LAUNCH();
    return 0;
}
