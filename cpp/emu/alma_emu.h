// alma_emu.h: a CPU emulation of the small part of CUDA that alma's kernels use, so that the kernels of cpp/src
// compile with g++ and run on a machine without a GPU (cpp/emu/build.sh, alma-native's "cuda-emu" profile).
//
// Every CUDA thread of a block is a fiber (its own 256 KB stack; on x86-64 a hand-written stack switch, elsewhere
// ucontext) on the calling OS thread. A fiber runs until it reaches __syncthreads() or a warp operation (shuffle,
// mma.sync), where it waits and hands over to the next ready fiber; a barrier is released when every thread of the
// block (or all 32 lanes of the warp) has arrived, and one that can never complete (a divergent barrier, lanes that
// exited before a shuffle) fails the launch, with the kernel, block and threads named on stderr. A thread waiting on an
// mbarrier phase sleeps until the arrivals and TMA bytes that complete it came; a wait nothing can complete fails the
// launch the same way. Blocks run one after
// another, one launch at a time. Device memory is host memory: every allocation ends at a PROT_NONE page, so a read
// or write past its end faults, and freed memory stays mapped inaccessible for the next 8,192 frees, so a use after
// free faults too (rather than reaching a later allocation at the same address). Shared memory, dynamic and static,
// is filled with NaN bytes at the start of every block.
//
// What it does not emulate: timing, concurrency between blocks or streams (work runs when it is queued, except while a
// stream is captured into a graph), register or shared-memory limits, and races inside a barrier interval (threads run
// one after the other; ALMA_EMU_ORDER=reverse reverses the order to expose them).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- the kernel language ---------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __grid_constant__
#define __shared__ static  // blocks run one at a time, under a lock
#define warpSize 32

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }

// 16-bit floats: bit patterns with the CUDA conversion functions (round to nearest even).
struct __half { unsigned short x; };
struct __nv_bfloat16 { unsigned short x; };
struct __half2 { __half x, y; };
struct __nv_bfloat162 { __nv_bfloat16 x, y; };
typedef __half half;

namespace alma_emu {
unsigned short f32_to_f16(float f);
float f16_to_f32(unsigned short h);
unsigned short f32_to_bf16(float f);
float bf16_to_f32(unsigned short b);
}  // namespace alma_emu

inline __half __float2half_rn(float f) { return __half{alma_emu::f32_to_f16(f)}; }
inline __half __float2half(float f) { return __float2half_rn(f); }
inline float __half2float(__half h) { return alma_emu::f16_to_f32(h.x); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16{alma_emu::f32_to_bf16(f)}; }
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline float __bfloat162float(__nv_bfloat16 b) { return alma_emu::bf16_to_f32(b.x); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.x; }
inline unsigned short __half_as_ushort(__half h) { return h.x; }
inline __half __ushort_as_half(unsigned short u) { return __half{u}; }
inline float __uint_as_float(unsigned u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
    return __nv_bfloat162{__float2bfloat16_rn(a), __float2bfloat16_rn(b)};
}
inline __half2 __floats2half2_rn(float a, float b) { return __half2{__float2half_rn(a), __float2half_rn(b)}; }

template <typename T> inline T __ldg(const T *p) { return *p; }
template <typename T> inline T __ldcg(const T *p) { return *p; }
// Blocks run one at a time and a block's threads one after another: a read-modify-write is atomic as it is, and
// every write is visible to the blocks that run after it.
inline int atomicAdd(int *p, int v) {
    int old = *p;
    *p = old + v;
    return old;
}
inline void __threadfence() { __asm__ __volatile__("" ::: "memory"); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float rsqrtf(float v) { return 1.0f / sqrtf(v); }
inline float __expf(float v) { return expf(v); }
inline float __fdividef(float a, float b) { return a / b; }

// ---- the runtime API (the subset runtime.cu and graph.cu use) -----------------------------------------------
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidDeviceFunction = 98,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchFailure = 719,
    cudaErrorStreamCaptureUnsupported = 900,
    cudaErrorStreamCaptureInvalidated = 901,
    cudaErrorStreamCaptureWrongThread = 908,
    cudaErrorIllegalState = 401,
    cudaErrorNotSupported = 801,
};
typedef struct alma_emu_stream *cudaStream_t;
typedef struct alma_emu_event *cudaEvent_t;
typedef struct alma_emu_graph *cudaGraph_t;
typedef struct alma_emu_graph *cudaGraphExec_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice,
                      cudaMemcpyDefault };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal,
                             cudaStreamCaptureModeRelaxed };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrComputeCapabilityMajor = 75,
                      cudaDevAttrComputeCapabilityMinor = 76, cudaDevAttrMaxSharedMemoryPerBlockOptin = 97 };
#define cudaStreamNonBlocking 0x01
struct cudaDeviceProp {
    char name[256];
    int major, minor, multiProcessorCount;
    size_t totalGlobalMem, sharedMemPerBlockOptin;
};

const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int *device);
cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t bytes);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s = nullptr);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s = nullptr);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);

namespace alma_emu {
cudaError_t set_func_attribute(const void *func, cudaFuncAttribute attr, int value);
}
template <typename F> cudaError_t cudaFuncSetAttribute(F *func, cudaFuncAttribute attr, int value) {
    return alma_emu::set_func_attribute((const void *)func, attr, value);
}
// The blocks of blockSize threads an SM holds, by threads alone (the emulator has no registers to count): 2,048
// threads and 32 blocks per SM, as on an H100.
template <typename F>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, F *func, int blockSize, size_t dynamicSmem) {
    (void)func;
    (void)dynamicSmem;
    if (blocks == nullptr || blockSize <= 0 || blockSize > 1024) return cudaErrorInvalidValue;
    *blocks = 2048 / blockSize < 32 ? 2048 / blockSize : 32;
    return cudaSuccess;
}

// ---- threads, barriers and warp operations ----------------------------------------------------------------
namespace alma_emu {
struct Thread {
    uint3 idx;
    unsigned linear, lane, warp;
    unsigned warp_ops;  // warp operations so far: their parity picks one of two exchange buffers
};
struct Block {
    uint3 idx;
    dim3 dim, grid;
    unsigned char *dynamic_smem;
    size_t dynamic_bytes;
};
// The thread and block running now (blocks run one at a time: the emulator holds a lock while it runs a launch).
extern Thread *current_thread;
extern Block *current_block;
// The running block's shuffle buffers: [parity][thread] 8-byte slots, stride = threads rounded up to warps.
extern uint64_t *exchange_slots;
extern unsigned exchange_stride;

/** Waits until every thread of the block has reached this call. */
void syncthreads();
/** Waits until the 32 lanes of the calling thread's warp have reached a warp operation. */
void syncwarp();

template <typename T> T shuffle_from(T v, unsigned src_lane) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    // Two buffers used alternately: a lane that runs ahead into the next warp operation cannot overwrite a value
    // that a slower lane still has to read, since that operation's barrier waits for the slower lane.
    Thread *t = current_thread;
    uint64_t *slots = exchange_slots + (t->warp_ops++ & 1u) * exchange_stride + t->warp * 32;
    slots[t->lane] = bits;
    syncwarp();
    bits = slots[src_lane & 31u];
    T r;
    memcpy(&r, &bits, sizeof(T));
    return r;
}
void check_full_mask(unsigned mask, const char *what);
/**
 * Called (by build.sh's rewrite) after each static __shared__ array's declaration: the first thread of a block to get
 * there fills the array with 0xff bytes (NaN as floats), so that reading an element no thread of the block wrote
 * shows, as with dynamic shared memory.
 */
void poison_shared(void *array, size_t bytes);

/** D = A·B + D for one m16n8k16 tile (row-major A, column-major B, f32 accumulators); bf16 or f16 operands. */
void mma_16816(bool bf16, float *c, const unsigned *a, const unsigned *b);

/**
 * The offset of p in the block's dynamic shared memory: the emulated shared address space (the emulator has no
 * other; a pointer outside it fails the launch). Offset 0 is 1024-byte aligned, as wgmma's swizzle wants.
 */
size_t shared_offset(const void *p);
/**
 * wgmma.mma_async m64nNk16 (f32 accumulators; A and B K-major in shared memory, 128-byte swizzle) issued by the
 * calling thread for its share of the warpgroup's D (n / 2 registers). Queued: computed by wgmma_wait, from shared
 * memory as it is then, so that a stage refilled before its products completed shows up as wrong results.
 */
void wgmma_m64k16(bool bf16, int n, float *d, uint64_t desc_a, uint64_t desc_b);
/**
 * The same with A in registers (4 per thread: its warp's 16 rows in the mma.sync A-fragment layout); the warp's
 * fragments are exchanged at once (a warp operation), the product queued like the shared-memory form. trans_b: B
 * N-major (imm-trans-b 1): 128-byte rows of 64 N-elements, one per k, 8-row groups SBO apart, 64-wide N blocks LBO
 * apart.
 */
void wgmma_m64k16_rs(bool bf16, int n, float *d, const unsigned *a, uint64_t desc_b, bool trans_b = false);
/** wgmma.commit_group: the calling thread's queued products since the last commit form a group. */
void wgmma_commit();
/** wgmma.wait_group: computes the calling thread's groups but the newest `pending`. */
void wgmma_wait(int pending);

/**
 * mbarrier (sm_90) in the block's dynamic shared memory at `offset`: init with an arrival count; arrive (after adding
 * `expect_tx` bytes to the transaction count, 0 for a plain arrive); wait until the phase of parity `parity` has
 * completed (the fiber sleeps until then, so a producer and its consumers take turns). A phase completes when every
 * expected arrival came and the transaction count is back at zero. Using a barrier before its init fails the launch.
 */
void mbarrier_init(size_t offset, unsigned count);
void mbarrier_arrive(size_t offset, unsigned expect_tx);
void mbarrier_wait(size_t offset, unsigned parity);
/**
 * A 2-D tensor map (what cuTensorMapEncodeTiled makes, in the emulator's own layout, in CUtensorMap's 128 bytes):
 * 16-bit elements, `inner` × `rows` from `base` with `pitch` bytes between rows, boxes of `box_inner` × `box_rows`,
 * the 128-byte swizzle. Refuses (cudaErrorInvalidValue, with the reason on stderr) what the driver refuses: unaligned
 * base or pitch, boxes over 256, and anything the emulator does not model (box rows other than 128 bytes).
 */
cudaError_t encode_tensor_map_2d(void *map, const void *base, uint64_t inner, uint64_t rows, uint64_t pitch,
                                 unsigned box_inner, unsigned box_rows);
/**
 * cp.async.bulk.tensor.2d (TMA) of the box at (c0 inner, c1 row) into shared memory at `dst` (1024-byte aligned),
 * 128-byte swizzled, elements outside the tensor zero; then the box's bytes complete the transaction count of the
 * mbarrier at `mbar`. Done at once (the copy cannot be observed early: consumers wait on the mbarrier).
 */
void tma_load_2d(size_t dst, const void *map, int c0, int c1, size_t mbar);
/**
 * cp.async.bulk (no tensor map) of `bytes` contiguous bytes from `src` into shared memory at `dst` (both 16-byte
 * aligned, bytes a multiple of 16, inside the block's dynamic shared memory), then completing them on the mbarrier at
 * `mbar`. Done at once, as tma_load_2d.
 */
void bulk_load(size_t dst, const void *src, unsigned bytes, size_t mbar);

// ---- launches -----------------------------------------------------------------------------------------------
struct Config {
    dim3 grid, block;
    size_t smem;
    cudaStream_t stream;
    Config(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = nullptr) : grid(g), block(b), smem(s), stream(st) {}
};
/** Runs (or, while the stream is captured, records) a launch of body on every thread of the grid. */
void submit(const Config &c, const char *name, const void *func, std::function<void()> body);

template <typename... P, typename... A>
void launch(const Config &c, const char *name, void (*kernel)(P...), A &&...args) {
    static_assert(sizeof...(P) == sizeof...(A), "kernel launched with a different number of arguments");
    std::tuple<std::decay_t<P>...> bound(static_cast<std::decay_t<P>>(args)...);
    submit(c, name, (const void *)kernel, [kernel, bound]() { std::apply(kernel, bound); });
}
}  // namespace alma_emu

inline size_t __cvta_generic_to_shared(const void *p) { return alma_emu::shared_offset(p); }

#define threadIdx (alma_emu::current_thread->idx)
#define blockIdx (alma_emu::current_block->idx)
#define blockDim (alma_emu::current_block->dim)
#define gridDim (alma_emu::current_block->grid)
// The compiler must not keep shared-memory values in registers across a barrier (other fibers write them while this
// one waits); with kernels' __shared__ arrays as statics whose address never escapes, a plain call would not say so.
inline __attribute__((always_inline)) void __syncthreads() {
    alma_emu::syncthreads();
    __asm__ __volatile__("" ::: "memory");
}
inline __attribute__((always_inline)) void __syncwarp(unsigned = 0xffffffffu) {
    alma_emu::syncwarp();
    __asm__ __volatile__("" ::: "memory");
}

template <typename T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    alma_emu::check_full_mask(mask, "__shfl_sync");
    unsigned lane = alma_emu::current_thread->lane;
    unsigned base = lane & ~(unsigned)(width - 1);
    return alma_emu::shuffle_from(v, base + ((unsigned)src & (unsigned)(width - 1)));
}
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    alma_emu::check_full_mask(mask, "__shfl_xor_sync");
    unsigned lane = alma_emu::current_thread->lane;
    unsigned src = lane ^ (unsigned)lane_mask;
    if ((src & ~(unsigned)(width - 1)) != (lane & ~(unsigned)(width - 1))) src = lane;
    return alma_emu::shuffle_from(v, src);
}
template <typename T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    alma_emu::check_full_mask(mask, "__shfl_down_sync");
    unsigned lane = alma_emu::current_thread->lane;
    unsigned in_seg = lane & (unsigned)(width - 1);
    unsigned src = in_seg + delta < (unsigned)width ? lane + delta : lane;
    return alma_emu::shuffle_from(v, src);
}
