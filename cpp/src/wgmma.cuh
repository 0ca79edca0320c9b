// Hopper warpgroup matrix products (wgmma.mma_async, sm_90a) for the prefill GEMM and attention: operands in shared
// memory K-major (k contiguous) in the 128-byte swizzled layout (A may instead come from registers), f32
// accumulators in registers.
//
// The layout: an operand tile is rows of 64 16-bit elements (128 bytes each), stored one after another from a
// 1024-byte aligned address; within each group of 8 rows (1024 bytes) the 16-byte chunk c of row r sits at chunk
// position c ^ r. The hardware applies that XOR to address bits 4-6 from bits 7-9, so a descriptor may start 32 bytes
// into the rows (the second k16 slice) and still see the same tile.
// The accumulator of m64nNk16 for thread t of the warpgroup: warp w = t / 32 owns rows 16w..16w+15; register i holds
// row 16w + (t % 32) / 4 + 8 ((i / 2) % 2), column 8 (i / 4) + 2 (t % 4) + i % 2 (the m16n8 C fragment, repeated
// along N). A from registers: warp w supplies rows 16w..16w+15 in the mma.sync m16n8k16 A-fragment layout (register
// r of lane l: row l / 4 + 8 (r % 2), columns 2 (l % 4) + 8 (r / 2) and the next one, the lower column in the low half).
#pragma once
#include "mma.cuh"
#include <type_traits>

// 0 when the current device runs the sm_90a kernels (compute capability 9.0), else cudaErrorInvalidDeviceFunction
// (or the error of the query). Host code; gemm_wgmma.cu.
int alma_wgmma_device_check();

// Sets a kernel choice among `count`: 0 the mma.sync kernel, 1.. the wgmma ones (refused unless the current device
// runs sm_90a code).
static inline int alma_set_wgmma_variant(int variant, int *slot, int count = 2) {
    if (variant < 0 || variant >= count) return (int)cudaErrorInvalidValue;
    if (variant >= 1) {
        int rc = alma_wgmma_device_check();
        if (rc != 0) return rc;
    }
    *slot = variant;
    return 0;
}

// The first 1024-byte aligned address at or after dynamic shared memory `raw` (16-byte aligned): where swizzled tiles
// start, so that the swizzle's XOR of address bits 7-9 into bits 4-6 matches the layout below. Kernels reserve 1024
// bytes more than their tiles for it.
__device__ __forceinline__ unsigned char *swizzle_aligned(unsigned char *raw) {
    return raw + ((1024 - (smem_address(raw) & 1023)) & 1023);
}

// Bytes of one 128-byte-swizzled row of 64 16-bit elements, and the offset of its chunk c (16 bytes, 8 elements).
constexpr int SWIZZLE_ROW = 128;
__device__ __forceinline__ int swizzled_offset(int row, int chunk) {
    return row * SWIZZLE_ROW + ((chunk ^ (row & 7)) << 4);
}

// A shared-memory matrix descriptor: start address, leading byte offset (unused by swizzled K-major operands, 16),
// stride byte offset (1024: from one 8-row group to the next) and the 128-byte swizzle mode, each address >> 4.
__device__ __forceinline__ uint64_t wgmma_desc(unsigned smem_addr) {
    return (uint64_t)((smem_addr & 0x3FFFF) >> 4) | ((uint64_t)(16 >> 4) << 16) | ((uint64_t)(1024 >> 4) << 32) |
           (1ull << 62);
}
// The descriptor of an N-major (MN-major) operand in the same swizzled rows: row r holds 64 consecutive N-elements
// of k = r, 8-row (8-k) groups 1024 bytes apart (stride byte offset), 64-wide N blocks `block` bytes apart (leading
// byte offset). A K-major tile of [k][n] rows (V as loaded: one row per key) read this way is its transpose.
__device__ __forceinline__ uint64_t wgmma_desc_mn(unsigned smem_addr, unsigned block) {
    return (uint64_t)((smem_addr & 0x3FFFF) >> 4) | ((uint64_t)((block & 0x3FFFF) >> 4) << 16) |
           ((uint64_t)(1024 >> 4) << 32) | (1ull << 62);
}
// The descriptor of the k16 slice kk (0..3) of a tile: 32 bytes further along the rows.
__device__ __forceinline__ uint64_t wgmma_desc_k(uint64_t desc, int kk) { return desc + (uint64_t)(2 * kk); }

#ifdef ALMA_EMU
// cpp/emu: the products are computed when wgmma_wait requires them, from shared memory as it is then.
__device__ __forceinline__ void fence_proxy_async() {}
__device__ __forceinline__ void wgmma_fence() {}
__device__ __forceinline__ void wgmma_commit() { alma_emu::wgmma_commit(); }
template <int N> __device__ __forceinline__ void wgmma_wait() { alma_emu::wgmma_wait(N); }
template <typename T>
__device__ __forceinline__ void wgmma_m64n256k16(float *d, uint64_t da, uint64_t db) {
    alma_emu::wgmma_m64k16(std::is_same<T, __nv_bfloat16>::value, 256, d, da, db);
}
template <typename T>
__device__ __forceinline__ void wgmma_m64n128k16(float *d, uint64_t da, uint64_t db) {
    alma_emu::wgmma_m64k16(std::is_same<T, __nv_bfloat16>::value, 128, d, da, db);
}
__device__ __forceinline__ void wgmma_m64n128k16_bf16(float *d, uint64_t da, uint64_t db) {
    alma_emu::wgmma_m64k16(true, 128, d, da, db);
}
__device__ __forceinline__ void wgmma_m64n128k16_bf16_rs(float *d, const unsigned *a, uint64_t db) {
    alma_emu::wgmma_m64k16_rs(true, 128, d, a, db);
}
__device__ __forceinline__ void wgmma_m64n128k16_bf16_rs_nb(float *d, const unsigned *a, uint64_t db) {
    alma_emu::wgmma_m64k16_rs(true, 128, d, a, db, true);
}
#elif defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define ALMA_HAVE_WGMMA 1
// Makes this thread's completed generic-proxy writes to shared memory (cp.async included) visible to wgmma.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

#define ALMA_WGMMA_D8(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), \
                         "+f"(d[i + 6]), "+f"(d[i + 7])
#define ALMA_WGMMA_D128                                                                                              \
    ALMA_WGMMA_D8(0), ALMA_WGMMA_D8(8), ALMA_WGMMA_D8(16), ALMA_WGMMA_D8(24), ALMA_WGMMA_D8(32), ALMA_WGMMA_D8(40), \
        ALMA_WGMMA_D8(48), ALMA_WGMMA_D8(56), ALMA_WGMMA_D8(64), ALMA_WGMMA_D8(72), ALMA_WGMMA_D8(80),             \
        ALMA_WGMMA_D8(88), ALMA_WGMMA_D8(96), ALMA_WGMMA_D8(104), ALMA_WGMMA_D8(112), ALMA_WGMMA_D8(120)
#define ALMA_WGMMA_REGS128                                                                                    \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, "     \
    "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, "     \
    "%42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, "     \
    "%62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, "     \
    "%82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, "         \
    "%101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, "         \
    "%117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
// D (64×256, f32) += A (64×16) · B (256×16)ᵀ, both K-major in shared memory; OPS is bf16 or f16.
// scale-d (a predicate) is set: the product is added to D (the kernel starts from zeroed registers).
// One macro for both widths: N, the accumulator operand list and placeholders, and the placeholders of the two
// descriptors and of the scale-d flag that follow them.
#define ALMA_WGMMA_SS(N, OPS, REGS, DREGS, DA, DB, SCALE, da, db)                                       \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " SCALE ", 0;\n"                                  \
                 "wgmma.mma_async.sync.aligned.m64n" N "k16.f32." OPS "." OPS " {" REGS "}, " DA ", " DB  \
                 ", p, 1, 1, 0, 0;\n}\n"                                                               \
                 : DREGS                                                                                 \
                 : "l"(da), "l"(db), "r"(1))
#define ALMA_WGMMA_64N256K16(OPS, d, da, db) \
    ALMA_WGMMA_SS("256", OPS, ALMA_WGMMA_REGS128, ALMA_WGMMA_D128, "%128", "%129", "%130", da, db)
#define ALMA_WGMMA_D64                                                                                          \
    ALMA_WGMMA_D8(0), ALMA_WGMMA_D8(8), ALMA_WGMMA_D8(16), ALMA_WGMMA_D8(24), ALMA_WGMMA_D8(32), ALMA_WGMMA_D8(40), \
        ALMA_WGMMA_D8(48), ALMA_WGMMA_D8(56)
#define ALMA_WGMMA_REGS64                                                                                     \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, "     \
    "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, "     \
    "%42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, "     \
    "%62, %63"
// D (64×128, f32) += A (64×16) · B (128×16)ᵀ, both K-major in shared memory; OPS is bf16 or f16.
#define ALMA_WGMMA_64N128K16(OPS, d, da, db) \
    ALMA_WGMMA_SS("128", OPS, ALMA_WGMMA_REGS64, ALMA_WGMMA_D64, "%64", "%65", "%66", da, db)
template <typename T> __device__ __forceinline__ void wgmma_m64n128k16(float *d, uint64_t da, uint64_t db) {
    if constexpr (std::is_same<T, __half>::value) ALMA_WGMMA_64N128K16("f16", d, da, db);
    else ALMA_WGMMA_64N128K16("bf16", d, da, db);
}
__device__ __forceinline__ void wgmma_m64n128k16_bf16(float *d, uint64_t da, uint64_t db) {
    wgmma_m64n128k16<__nv_bfloat16>(d, da, db);
}
// D (64×128, f32) += A (64×16, bf16 in registers: each warp's 16 rows in the m16n8k16 A-fragment layout) · B (128×16)ᵀ
// (bf16 in shared memory, K-major, or N-major with TRANS_B "1").
#define ALMA_WGMMA_64N128K16_RS(TRANS_B, d, a, db)                                                      \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"                                         \
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {" ALMA_WGMMA_REGS64 "}, "        \
                 "{%64, %65, %66, %67}, %68, p, 1, 1, " TRANS_B ";\n}\n"                               \
                 : ALMA_WGMMA_D64                                                                         \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(1))
__device__ __forceinline__ void wgmma_m64n128k16_bf16_rs(float *d, const unsigned *a, uint64_t db) {
    ALMA_WGMMA_64N128K16_RS("0", d, a, db);
}
// The same with B N-major in shared memory (imm-trans-b 1; descriptor from wgmma_desc_mn).
__device__ __forceinline__ void wgmma_m64n128k16_bf16_rs_nb(float *d, const unsigned *a, uint64_t db) {
    ALMA_WGMMA_64N128K16_RS("1", d, a, db);
}
template <typename T> __device__ __forceinline__ void wgmma_m64n256k16(float *d, uint64_t da, uint64_t db) {
    if constexpr (std::is_same<T, __half>::value) ALMA_WGMMA_64N256K16("f16", d, da, db);
    else ALMA_WGMMA_64N256K16("bf16", d, da, db);
}
#endif
