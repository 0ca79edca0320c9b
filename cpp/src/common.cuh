// Helpers shared by the kernels: error checks, warp reductions, element loads of the three weight types.
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#include "alma_cuda.h"

// Returns the error of a CUDA call from the enclosing int-returning function, first clearing it from the runtime's
// last-error slot so that a later launch check does not report it again (sticky errors stay, as they must).
#define ALMA_CHECK(call)                                   \
    do {                                                   \
        cudaError_t alma_err_ = (call);                    \
        if (alma_err_ != cudaSuccess) {                    \
            (void)cudaGetLastError();                      \
            return (int)alma_err_;                         \
        }                                                  \
    } while (0)

// Returns the launch error (bad configuration, missing kernel image) of the kernel just launched.
#define ALMA_CHECK_LAUNCH() ALMA_CHECK(cudaGetLastError())

#define ALMA_REQUIRE(cond)                                           \
    do {                                                             \
        if (!(cond)) return (int)cudaErrorInvalidValue;              \
    } while (0)

static inline cudaStream_t alma_stream(void *s) { return (cudaStream_t)s; }

static inline unsigned alma_blocks(size_t count, unsigned threads) {
    size_t b = (count + threads - 1) / threads;
    return (unsigned)(b > 65535u * 32u ? 65535u * 32u : b);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// One element of a weight of type T as float.
__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// 16 bytes of a weight row as floats: 8 halves or 4 floats.
template <typename T> struct Vec16;
template <> struct Vec16<float> {
    static constexpr int N = 4;
    __device__ __forceinline__ static void load(const float *p, float *out) {
        float4 v = __ldg(reinterpret_cast<const float4 *>(p));
        out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
    }
};
template <typename H> struct Vec16Half {
    static constexpr int N = 8;
    __device__ __forceinline__ static void load(const H *p, float *out) {
        uint4 v = __ldg(reinterpret_cast<const uint4 *>(p));
        const H *h = reinterpret_cast<const H *>(&v);
#pragma unroll
        for (int i = 0; i < 8; i++) out[i] = to_f32(h[i]);
    }
};
template <> struct Vec16<__half> : Vec16Half<__half> {};
template <> struct Vec16<__nv_bfloat16> : Vec16Half<__nv_bfloat16> {};

// RoPE's rotation of pair d (0 .. head_dim/2 - 1) of a head at `position`: inv_freq and the angle rounded to float32
// as transformers computes them, cos and sin taken in double and rounded. alma_rope_qk and the GEMVs that fold RoPE
// in all use it, so their rotations agree bit for bit.
__device__ __forceinline__ void rope_cos_sin(int position, int d, int head_dim, double theta, float &c, float &s) {
    float exponent = (float)(2 * d) / (float)head_dim;
    float inv = 1.0f / (float)pow((double)(float)theta, (double)exponent);
    float angle = (float)position * inv;
    c = (float)cos((double)angle);
    s = (float)sin((double)angle);
}

// Dispatches a templated call on the weight type; returns cudaErrorInvalidValue for an unknown type.
#define ALMA_DISPATCH_TYPE(type, T, ...)                              \
    switch (type) {                                                   \
    case ALMA_F32: { typedef float T; __VA_ARGS__; } break;            \
    case ALMA_F16: { typedef __half T; __VA_ARGS__; } break;           \
    case ALMA_BF16: { typedef __nv_bfloat16 T; __VA_ARGS__; } break;   \
    default: return (int)cudaErrorInvalidValue;                       \
    }
