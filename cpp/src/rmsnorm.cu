// RMSNorm: one block per row, the sum of squares reduced in float32.
#include "common.cuh"

__global__ void rmsnorm_kernel(const float *x, const float *gamma, float *out, int cols, float eps) {
    const float *row = x + (size_t)blockIdx.x * cols;
    float *o = out + (size_t)blockIdx.x * cols;
    float ss = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) ss += row[j] * row[j];
    __shared__ float partial[32];
    ss = warp_sum(ss);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) partial[warp] = ss;
    __syncthreads();
    if (warp == 0) {
        float v = lane < (int)(blockDim.x >> 5) ? partial[lane] : 0.f;
        v = warp_sum(v);
        if (lane == 0) partial[0] = v;
    }
    __syncthreads();
    float ms = partial[0] / (float)cols + eps;  // float32 like the CPU backend
    float inv = (float)(1.0 / sqrt((double)ms));
    for (int j = threadIdx.x; j < cols; j += blockDim.x) o[j] = gamma[j] * (row[j] * inv);
}

extern "C" int alma_rmsnorm(const float *d_x, const float *d_gamma, float *d_out, int n, int cols, float eps,
                            void *stream) {
    ALMA_REQUIRE(n >= 0 && cols > 0);
    if (n == 0) return 0;
    rmsnorm_kernel<<<n, 256, 0, alma_stream(stream)>>>(d_x, d_gamma, d_out, cols, eps);
    ALMA_CHECK_LAUNCH();
    return 0;
}
