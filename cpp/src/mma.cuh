// Tensor-core building blocks shared by the GEMM and the tensor-core attention: cp.async copies into shared memory
// and the mma.sync m16n8k16 instruction (f32 accumulators) for bf16 and f16 operands.
#pragma once
#include "common.cuh"

#ifdef ALMA_EMU
// cpp/emu: the copies happen at once, the matrix product is computed by the emulator from the 32 lanes' fragments.
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
    if (valid) memcpy(smem, gmem, 16);
    else memset(smem, 0, 16);
}
__device__ __forceinline__ void cp_async_commit() {}
__device__ __forceinline__ void cp_async_wait_1() {}
__device__ __forceinline__ void cp_async_wait_all() {}
template <int N> __device__ __forceinline__ void cp_async_wait() {}
#define ALMA_MMA_16816(OPS, c, a, b) alma_emu::mma_16816(OPS[0] == 'b', c, a, b)
#else
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
    unsigned s = smem_address(smem);
    int bytes = valid ? 16 : 0;  // 0: fill the 16 bytes with zeros
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_1() { asm volatile("cp.async.wait_group 1;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::); }
// Waits until at most N of this thread's cp.async groups are pending.
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// D = A·B + D for one m16n8k16 tile; OPS is the PTX operand type (bf16 or f16).
#define ALMA_MMA_16816(OPS, c, a, b)                                                                        \
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." OPS "." OPS ".f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, " \
                 "{%8,%9}, {%0,%1,%2,%3};\n"                                                               \
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])                                           \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]))

#endif

// Two floats as a bf16 pair (lo in the low half), rounded to nearest: a P fragment register of the attentions.
__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&v);
}

// Sum and max over the 4 threads of a quad (lanes 4g..4g+3), which share the rows of an mma accumulator fragment.
__device__ __forceinline__ float quad_sum(float v) {
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    return v + __shfl_xor_sync(0xffffffffu, v, 2);
}
__device__ __forceinline__ float quad_max(float v) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
    return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

template <typename T> struct Mma;
template <> struct Mma<__nv_bfloat16> {
    __device__ __forceinline__ static void run(float *c, const unsigned *a, const unsigned *b) {
        ALMA_MMA_16816("bf16", c, a, b);
    }
};
template <> struct Mma<__half> {
    __device__ __forceinline__ static void run(float *c, const unsigned *a, const unsigned *b) {
        ALMA_MMA_16816("f16", c, a, b);
    }
};

