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

// ---- programmatic dependent launch (PDL, sm_90) ----------------------------------------------------------------
// With alma_set_pdl(1) the decode GEMVs and the paged attention are launched by alma_launch_pdl with programmatic
// stream serialization: such a kernel may start while the kernel before it in the stream still runs, once every
// block of that one has called pdl_launch_dependents (they do at the top). A kernel launched so calls pdl_wait —
// which returns when its predecessor has completed and its memory is visible — before it reads or writes anything a
// kernel writes; before it, it may only read what no kernel writes (the GEMVs load the first chunks of their weight
// rows into registers there). Elsewhere (sm_80, the CPU emulator) both are no-ops and launches are ordinary.
extern int alma_pdl;  // runtime.cu

__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// kernel<<<grid, block, smem, s>>>(args...), as a programmatic dependent launch while alma_pdl is set; `name` is the
// kernel's, for the emulator's messages. Returns the launch error.
template <typename... P, typename... A>
static inline cudaError_t alma_launch_pdl(const char *name, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem,
                                          cudaStream_t s, A... args) {
#ifdef ALMA_EMU
    alma_emu::launch(alma_emu::Config(grid, block, smem, s), name, kernel, args...);
    return cudaGetLastError();
#else
    (void)name;
    if (!alma_pdl) {
        kernel<<<grid, block, smem, s>>>(args...);
        return cudaGetLastError();
    }
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config = {};
    config.gridDim = grid;
    config.blockDim = block;
    config.dynamicSmemBytes = smem;
    config.stream = s;
    config.attrs = attr;
    config.numAttrs = 1;
    cudaError_t err = cudaLaunchKernelEx(&config, kernel, static_cast<P>(args)...);
    return err != cudaSuccess ? err : cudaGetLastError();
#endif
}

static inline unsigned alma_blocks(size_t count, unsigned threads) {
    size_t b = (count + threads - 1) / threads;
    return (unsigned)(b > 65535u * 32u ? 65535u * 32u : b);
}

// The shared-memory address of p (a generic pointer into shared memory), as PTX instructions take it.
__device__ __forceinline__ unsigned smem_address(const void *p) { return (unsigned)__cvta_generic_to_shared(p); }

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

// Two floats rounded to nearest in T (bf16 or f16) as one 32-bit word, low element first, and back.
template <typename T> __device__ __forceinline__ unsigned pack2(float lo, float hi);
template <> __device__ __forceinline__ unsigned pack2<__nv_bfloat16>(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&v);
}
template <> __device__ __forceinline__ unsigned pack2<__half>(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&v);
}
template <typename T> __device__ __forceinline__ void unpack2(unsigned v, float &lo, float &hi);
template <> __device__ __forceinline__ void unpack2<__nv_bfloat16>(unsigned v, float &lo, float &hi) {
    lo = __uint_as_float(v << 16);  // a bf16 is the upper half of its float32
    hi = __uint_as_float(v & 0xffff0000u);
}
template <> __device__ __forceinline__ void unpack2<__half>(unsigned v, float &lo, float &hi) {
    lo = __half2float(__ushort_as_half((unsigned short)(v & 0xffffu)));
    hi = __half2float(__ushort_as_half((unsigned short)(v >> 16)));
}

template <typename T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// 16 bytes of a weight row as floats: 8 halves or 4 floats (load), or loaded raw now and unpacked later.
template <typename T> struct Vec16;
template <> struct Vec16<float> {
    static constexpr int N = 4;
    __device__ __forceinline__ static void unpack(uint4 v, float *out) {
        const float *f = reinterpret_cast<const float *>(&v);
        out[0] = f[0]; out[1] = f[1]; out[2] = f[2]; out[3] = f[3];
    }
    __device__ __forceinline__ static void load(const float *p, float *out) {
        float4 v = __ldg(reinterpret_cast<const float4 *>(p));
        out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
    }
};
template <typename H> struct Vec16Half {
    static constexpr int N = 8;
    __device__ __forceinline__ static void unpack(uint4 v, float *out) {
        const H *h = reinterpret_cast<const H *>(&v);
#pragma unroll
        for (int i = 0; i < 8; i++) out[i] = to_f32(h[i]);
    }
    __device__ __forceinline__ static void load(const H *p, float *out) {
        unpack(__ldg(reinterpret_cast<const uint4 *>(p)), out);
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
