// Skinny products for 2..8 tokens (beam search) on tensor cores: y[t] = W x[t] with 16-bit weights and
// activations. With 8 tokens a CUDA-core GEMV would need ~4 FLOPs per weight byte, more than an H100's float32 rate
// at full bandwidth; mma.sync does the arithmetic so the kernel stays memory-bound. A block owns 16 weight rows and
// splits K over 8 warps; each mma.sync m16n8k16 takes the 16 rows as A and the (up to 8) tokens as B. A lane loads
// 16 contiguous bytes of two weight rows and of its token; the k order inside a 32-wide chunk is permuted the same
// way for A and B, which leaves the dot products unchanged.
#include "mma.cuh"

namespace {

constexpr int SPLIT = 8;  // warps per block, splitting K

template <typename T>
__global__ void __launch_bounds__(SPLIT * 32)
gemv_tc_kernel(const T *W, const T *X, float *Y, int rows, int cols, int n) {
    __shared__ float red[SPLIT][16][8];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int r0 = blockIdx.x * 16;
    // Rows past the end and tokens past n read valid (clamped) memory; their results are dropped.
    const T *wa = W + (size_t)min(r0 + g, rows - 1) * cols;
    const T *wb = W + (size_t)min(r0 + g + 8, rows - 1) * cols;
    const T *xr = X + (size_t)min(g, n - 1) * cols;
    float c[4] = {0.f, 0.f, 0.f, 0.f};
    int chunks = (cols + 31) / 32;
    int per = (chunks + SPLIT - 1) / SPLIT;
    int begin = warp * per, end = min(chunks, begin + per);
#pragma unroll 2
    for (int ch = begin; ch < end; ch++) {
        int k = ch * 32 + 8 * t;
        uint4 va = make_uint4(0, 0, 0, 0), vb = va, vx = va;
        if (k < cols) {  // cols % 8 == 0: the 8 elements are all in range
            va = __ldg(reinterpret_cast<const uint4 *>(wa + k));
            vb = __ldg(reinterpret_cast<const uint4 *>(wb + k));
            vx = __ldg(reinterpret_cast<const uint4 *>(xr + k));
        }
        unsigned a[4] = {va.x, vb.x, va.y, vb.y}, b[2] = {vx.x, vx.y};
        Mma<T>::run(c, a, b);
        unsigned a2[4] = {va.z, vb.z, va.w, vb.w}, b2[2] = {vx.z, vx.w};
        Mma<T>::run(c, a2, b2);
    }
    red[warp][g][2 * t] = c[0];
    red[warp][g][2 * t + 1] = c[1];
    red[warp][g + 8][2 * t] = c[2];
    red[warp][g + 8][2 * t + 1] = c[3];
    __syncthreads();
    if (threadIdx.x < 128) {
        int row = threadIdx.x >> 3, tok = threadIdx.x & 7;
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < SPLIT; w++) sum += red[w][row][tok];
        if (r0 + row < rows && tok < n) Y[(size_t)tok * rows + r0 + row] = sum;
    }
}

}  // namespace

extern "C" int alma_gemv_tc(const void *d_w, int type, const void *d_x, float *d_y, int rows, int cols, int n,
                            void *stream) {
    ALMA_REQUIRE(rows >= 0 && cols > 0 && cols % 8 == 0 && n >= 0 && n <= ALMA_GEMV_MAX_ROWS &&
                 ((uintptr_t)d_w & 15) == 0 && ((uintptr_t)d_x & 15) == 0);
    if (n == 0 || rows == 0) return 0;
    unsigned blocks = (unsigned)((rows + 15) / 16);
    cudaStream_t s = alma_stream(stream);
    if (type == ALMA_BF16)
        gemv_tc_kernel<__nv_bfloat16><<<blocks, SPLIT * 32, 0, s>>>((const __nv_bfloat16 *)d_w,
                                                                   (const __nv_bfloat16 *)d_x, d_y, rows, cols, n);
    else if (type == ALMA_F16)
        gemv_tc_kernel<__half><<<blocks, SPLIT * 32, 0, s>>>((const __half *)d_w, (const __half *)d_x, d_y, rows, cols, n);
    else
        return (int)cudaErrorInvalidValue;
    ALMA_CHECK_LAUNCH();
    return 0;
}
