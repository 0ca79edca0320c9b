// Hopper's asynchronous copies (sm_90): mbarriers in shared memory, and the tensor memory accelerator (TMA) loading
// 2-D boxes of a tensor map into shared memory in the 128-byte swizzled layout that wgmma reads (wgmma.cuh).
//
// mbarrier: a 64-bit object in shared memory that counts arrivals and transaction bytes per phase. Initialised with
// the number of arrivals a phase expects; a phase completes when all of them came and every byte announced with
// arrive.expect_tx was written by a TMA copy naming the barrier. Waiters name the phase by its parity (0 for the
// first, 1 for the second, ...); waiting on the parity of the phase before the first (1) returns at once.
#pragma once
#include "common.cuh"

#ifdef ALMA_EMU
// The emulator's stand-in: its own tensor-map layout in the same 128 bytes (cpp/emu/emu.cpp).
struct alignas(64) CUtensorMap {
    unsigned long long opaque[16];
};
#else
#include <cuda.h>  // CUtensorMap and its enums (types only: the encoder is reached through the runtime)
#endif

/**
 * Host: fills `map` for a row-major matrix of 16-bit elements (`type` ALMA_BF16 or ALMA_F16), `rows` rows of `cols`
 * elements from `base` (16-byte aligned, cols % 8 == 0), read in boxes of 64 columns × `box_rows` rows with the
 * 128-byte swizzle, elements outside the matrix read as zero. 0 or a CUDA error (cudaErrorNotSupported where the
 * driver has no cuTensorMapEncodeTiled). tma.cu.
 */
int alma_tensor_map_16bit(CUtensorMap *map, const void *base, int type, int rows, int cols, int box_rows);

#ifdef ALMA_EMU
__device__ __forceinline__ void mbar_init(uint64_t *bar, unsigned count) {
    alma_emu::mbarrier_init(alma_emu::shared_offset(bar), count);
}
__device__ __forceinline__ void mbar_init_fence() {}
__device__ __forceinline__ void mbar_arrive(uint64_t *bar) { alma_emu::mbarrier_arrive(alma_emu::shared_offset(bar), 0); }
__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t *bar, unsigned bytes) {
    alma_emu::mbarrier_arrive(alma_emu::shared_offset(bar), bytes);
}
__device__ __forceinline__ void mbar_wait(uint64_t *bar, unsigned parity) {
    alma_emu::mbarrier_wait(alma_emu::shared_offset(bar), parity);
    __asm__ __volatile__("" ::: "memory");  // shared memory changed while this fiber slept
}
__device__ __forceinline__ void tma_load_2d(void *dst, const CUtensorMap *map, int c0, int c1, uint64_t *bar) {
    alma_emu::tma_load_2d(alma_emu::shared_offset(dst), map, c0, c1, alma_emu::shared_offset(bar));
}
__device__ __forceinline__ void bulk_load(void *dst, const void *src, unsigned bytes, uint64_t *bar) {
    alma_emu::bulk_load(alma_emu::shared_offset(dst), src, bytes, alma_emu::shared_offset(bar));
}
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define ALMA_HAVE_TMA 1
__device__ __forceinline__ void mbar_init(uint64_t *bar, unsigned count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_address(bar)), "r"(count) : "memory");
}
// Makes initialised barriers visible to the async proxy (the TMA unit) and the other threads (with a __syncthreads).
__device__ __forceinline__ void mbar_init_fence() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t *bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_address(bar)) : "memory");
}
__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t *bar, unsigned bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_address(bar)), "r"(bytes)
                 : "memory");
}
// One try (the hardware may suspend the thread a while before it answers no): whether the phase of that parity is
// complete.
__device__ __forceinline__ bool mbar_try_wait(uint64_t *bar, unsigned parity) {
    unsigned done;
    asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done)
                 : "r"(smem_address(bar)), "r"(parity)
                 : "memory");
    return done != 0;
}
__device__ __forceinline__ uint64_t global_ns() {
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}
// Waits for the phase of that parity. A wait that lasts ALMA_MBAR_TIMEOUT_NS (a kernel waiting for bytes or arrivals
// that never come) traps: the launch fails with an error instead of hanging the process. No printf here: a call
// between a consumer's wgmma instructions (this wait sits between them) makes ptxas serialize every wgmma of the
// kernel (warning C7510, "wgmma pipeline crossing function boundary"); __trap is an instruction, not a call.
#ifndef ALMA_MBAR_TIMEOUT_NS
#define ALMA_MBAR_TIMEOUT_NS 10000000000ull
#endif
__device__ __forceinline__ void mbar_wait(uint64_t *bar, unsigned parity) {
    if (mbar_try_wait(bar, parity)) return;
    uint64_t start = global_ns();
    while (!mbar_try_wait(bar, parity)) {
        if (global_ns() - start > ALMA_MBAR_TIMEOUT_NS) __trap();
    }
}
// The box at (c0 columns, c1 rows) of the tensor map (a __grid_constant__ kernel parameter) into shared memory at dst
// (1024-byte aligned), completing the box's bytes on `bar`.
__device__ __forceinline__ void tma_load_2d(void *dst, const CUtensorMap *map, int c0, int c1, uint64_t *bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], "
                 "[%4];\n" ::"r"(smem_address(dst)),
                 "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(smem_address(bar))
                 : "memory");
}
// `bytes` contiguous bytes from global memory at src into shared memory at dst (cp.async.bulk, no tensor map; both
// 16-byte aligned, bytes a multiple of 16), completing them on `bar`.
__device__ __forceinline__ void bulk_load(void *dst, const void *src, unsigned bytes, uint64_t *bar) {
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(
                     smem_address(dst)),
                 "l"(reinterpret_cast<uint64_t>(src)), "r"(bytes), "r"(smem_address(bar))
                 : "memory");
}
#endif
