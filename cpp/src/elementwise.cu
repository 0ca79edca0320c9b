// Element-wise kernels: type conversion, deterministic random fill, residual add, SwiGLU.
#include "common.cuh"

template <typename T>
__global__ void convert_from_f32_kernel(const float *src, T *dst, size_t count) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = from_f32<T>(src[i]);
}

template <typename T>
__global__ void convert_to_f32_kernel(const T *src, float *dst, size_t count) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = to_f32(src[i]);
}

// splitmix64 of seed + i; the top 24 bits give a uniform float in [0, 1).
__device__ __forceinline__ float uniform01(unsigned long long seed, size_t i) {
    unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (unsigned long long)(i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

template <typename T>
__global__ void fill_uniform_kernel(T *dst, size_t count, unsigned long long seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = from_f32<T>((uniform01(seed, i) * 2.0f - 1.0f) * scale);
}

__global__ void add_scaled_kernel(float *x, const float *y, float scale, size_t count) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        x[i] += scale * y[i];
}

__global__ void swiglu_kernel(float *gate, const float *up, size_t count) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

extern "C" {

int alma_convert_f32(const float *d_src, void *d_dst, int type, size_t count, void *stream) {
    if (count == 0) return 0;
    ALMA_DISPATCH_TYPE(type, T,
        convert_from_f32_kernel<T><<<alma_blocks(count, 256), 256, 0, alma_stream(stream)>>>(d_src, (T *)d_dst, count));
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_convert_to_f32(const void *d_src, int type, float *d_dst, size_t count, void *stream) {
    if (count == 0) return 0;
    ALMA_DISPATCH_TYPE(type, T,
        convert_to_f32_kernel<T><<<alma_blocks(count, 256), 256, 0, alma_stream(stream)>>>((const T *)d_src, d_dst, count));
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_fill_uniform(void *d_dst, int type, size_t count, unsigned long long seed, float scale, void *stream) {
    if (count == 0) return 0;
    ALMA_DISPATCH_TYPE(type, T,
        fill_uniform_kernel<T><<<alma_blocks(count, 256), 256, 0, alma_stream(stream)>>>((T *)d_dst, count, seed, scale));
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_add_scaled(float *d_x, const float *d_y, float scale, size_t count, void *stream) {
    if (count == 0) return 0;
    add_scaled_kernel<<<alma_blocks(count, 256), 256, 0, alma_stream(stream)>>>(d_x, d_y, scale, count);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_swiglu(float *d_gate, const float *d_up, size_t count, void *stream) {
    if (count == 0) return 0;
    swiglu_kernel<<<alma_blocks(count, 256), 256, 0, alma_stream(stream)>>>(d_gate, d_up, count);
    ALMA_CHECK_LAUNCH();
    return 0;
}

}  // extern "C"
