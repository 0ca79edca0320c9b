// Tests of the emulator itself (cpp/emu/build.sh runs them after building): conversions, barriers, shuffles, the
// mma.sync fragment layout, error detection (divergent barriers, shuffles after lanes exited, bad launches, captures)
// and the guard page after each allocation. Prints one line per failed check and exits non-zero if any failed.
#include "alma_emu.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            failures++;                                    \
            fprintf(stderr, "selftest: FAILED %s: ", #cond); \
            fprintf(stderr, __VA_ARGS__);                  \
            fprintf(stderr, "\n");                         \
        }                                                  \
    } while (0)

extern "C" unsigned long long alma_emu_launches();
#define LAUNCH(grid, block, kernel, ...) \
    alma_emu::launch(alma_emu::Config(grid, block), #kernel, kernel, __VA_ARGS__)

// Each warp's lanes exchange values: out[i] = sum of the lane numbers of the warp, and lane i's neighbour (i ^ 1).
__global__ void shuffles(float *out) {
    float v = (float)(threadIdx.x & 31);
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int neighbour = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 1);
    int from7 = __shfl_sync(0xffffffffu, (int)threadIdx.x, 7);
    out[3 * threadIdx.x] = v;
    out[3 * threadIdx.x + 1] = (float)neighbour;
    out[3 * threadIdx.x + 2] = (float)from7;
}

// Thread i writes shared[i], then (after the barrier) reads its mirror: wrong without a working __syncthreads.
__global__ void mirror(int *out) {
    __shared__ int s[256];
    s[threadIdx.x] = (int)(threadIdx.x * 3 + blockIdx.x);
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

// Only half of the block reaches the barrier: a divergent __syncthreads.
__global__ void divergent(int *out) {
    if (threadIdx.x < 32) __syncthreads();
    out[threadIdx.x] = 1;
}

// Lanes 16..31 exit before the others shuffle.
__global__ void early_exit(float *out) {
    if ((threadIdx.x & 31) >= 16) return;
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

// m16n8k16 products from fragments loaded by the PTX layout: D = C + sum over reps of A · (B * (rep + 1)), with
// A 16x16 row-major and B[k][n] 16x8; every warp of the block does the same.
__global__ void mma(const float *a, const float *b, float *d, int bf16, int reps) {
    unsigned lane = threadIdx.x & 31, g = lane / 4, t = lane % 4;
    auto pack = [&](float lo, float hi) {
        unsigned short l = bf16 ? __bfloat16_as_ushort(__float2bfloat16_rn(lo)) : __half_as_ushort(__float2half_rn(lo));
        unsigned short h = bf16 ? __bfloat16_as_ushort(__float2bfloat16_rn(hi)) : __half_as_ushort(__float2half_rn(hi));
        return (unsigned)l | ((unsigned)h << 16);
    };
    float c[4] = {1, 1, 1, 1};
    for (int rep = 0; rep < reps; rep++) {
        unsigned ar[4], br[2];
        for (int r = 0; r < 4; r++) {
            unsigned row = g + 8 * (r & 1), col = 2 * t + 8 * (r >> 1);
            ar[r] = pack(a[row * 16 + col], a[row * 16 + col + 1]);
        }
        for (int r = 0; r < 2; r++) {
            unsigned k = 2 * t + 8 * r;
            br[r] = pack(b[k * 8 + g] * (rep + 1), b[(k + 1) * 8 + g] * (rep + 1));
        }
        alma_emu::mma_16816(bf16 != 0, c, ar, br);
    }
    for (int i = 0; i < 4; i++) d[threadIdx.x / 32 * 128 + (g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = c[i];
}

__global__ void touch(const float *p, int index, float *out) { out[0] = p[index]; }

// Thread i writes s[i] for even i only, then every thread reads its own s[i]: odd elements were never written by
// this block (the previous block's values must not show either).
__global__ void half_written(float *out) {
    __shared__ float s[64];
    alma_emu::poison_shared(s, sizeof s);  // what build.sh adds after each static __shared__ declaration
    if (threadIdx.x % 2 == 0) s[threadIdx.x] = (float)blockIdx.x;
    __syncthreads();
    out[blockIdx.x * 64 + threadIdx.x] = s[threadIdx.x];
}

__global__ void dynamic_smem(float *out) {
    float *smem = (float *)alma_emu::current_block->dynamic_smem;
    out[threadIdx.x] = smem[threadIdx.x];  // never written: NaN
}

// A tensor map's 128 bytes, as a kernel parameter.
struct alignas(64) Map {
    unsigned char bytes[128];
};

// TMA through two stages: one producer thread (warp 1, lane 0) copies the boxes of 64 columns × 8 rows of a 16-bit
// matrix, row of boxes after row of boxes, each stage reused once warp 0 released it; warp 0 waits for each box,
// reads it back through the 128-byte swizzle into out (boxes_c × 64 columns), and releases the stage (32 arrivals).
__global__ void tma_ring(Map map, unsigned short *out, int boxes_c, int boxes_r) {
    unsigned char *smem = alma_emu::current_block->dynamic_smem;
    size_t full = 2048, empty = 2064;  // two mbarriers each, after the two 1 KB stages
    if (threadIdx.x == 0)
        for (int s = 0; s < 2; s++) {
            alma_emu::mbarrier_init(full + 8 * s, 1);
            alma_emu::mbarrier_init(empty + 8 * s, 32);
        }
    __syncthreads();
    int n = boxes_c * boxes_r;
    if (threadIdx.x >= 32) {
        if (threadIdx.x == 32)
            for (int i = 0; i < n; i++) {
                int s = i % 2;
                if (i >= 2) alma_emu::mbarrier_wait(empty + 8 * s, (i / 2 - 1) & 1);
                alma_emu::mbarrier_arrive(full + 8 * s, 1024);
                alma_emu::tma_load_2d(1024 * s, &map, (i % boxes_c) * 64, (i / boxes_c) * 8, full + 8 * s);
            }
        return;
    }
    for (int i = 0; i < n; i++) {
        int s = i % 2, bc = i % boxes_c, br = i / boxes_c;
        alma_emu::mbarrier_wait(full + 8 * s, (i / 2) & 1);
        for (int r = 0; r < 8; r++)
            for (int h = 0; h < 2; h++) {
                int c = 2 * threadIdx.x + h;
                size_t linear = 1024 * s + r * 128 + c * 2, at = linear ^ (((linear >> 7) & 7) << 4);
                unsigned short v;
                memcpy(&v, smem + at, 2);
                out[(br * 8 + r) * boxes_c * 64 + bc * 64 + c] = v;
            }
        __syncwarp();
        alma_emu::mbarrier_arrive(empty + 8 * s, 0);
    }
}

// Waits on a barrier nobody arrives at (a deadlock the emulator must report), or one never initialised.
__global__ void mbarrier_stuck(int init) {
    if (init) alma_emu::mbarrier_init(0, 1);
    alma_emu::mbarrier_wait(0, 0);
}

enum Outcome { OK = 0, OTHER_ERROR = 1, LAUNCH_FAILURE = 2, CRASHED = -1 };
/** Runs fn in a child process and says how it ended (by the child's cudaGetLastError(), or a crash). */
template <typename F> static int in_child(F fn) {
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
        fn();
        cudaError_t e = cudaGetLastError();
        _exit(e == cudaSuccess ? OK : e == cudaErrorLaunchFailure ? LAUNCH_FAILURE : OTHER_ERROR);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : CRASHED;
}

int main() {
    // 16-bit conversions, round to nearest even, specials.
    CHECK(__half_as_ushort(__float2half_rn(1.0f)) == 0x3c00, "half 1.0");
    CHECK(__half_as_ushort(__float2half_rn(65504.f)) == 0x7bff, "half max");
    CHECK(__half_as_ushort(__float2half_rn(65520.f)) == 0x7c00, "half overflow to inf");
    CHECK(__half_as_ushort(__float2half_rn(5.9604645e-8f)) == 0x0001, "smallest half subnormal");
    CHECK(__half_as_ushort(__float2half_rn(1.0f + 1.0f / 2048)) == 0x3c00, "half tie to even (down)");
    CHECK(__half_as_ushort(__float2half_rn(1.0f + 3.0f / 2048)) == 0x3c02, "half tie to even (up)");
    CHECK(__half2float(__half{0xc000}) == -2.0f, "half -2");
    CHECK(__half2float(__half{0x0001}) == 5.9604645e-8f, "half subnormal to float");
    CHECK(__bfloat16_as_ushort(__float2bfloat16_rn(1.0f + 1.0f / 256)) == 0x3f80, "bf16 tie to even");
    CHECK(__bfloat16_as_ushort(__float2bfloat16_rn(1.0f + 3.0f / 256)) == 0x3f82, "bf16 tie to even (up)");
    CHECK(__bfloat162float(__nv_bfloat16{0x4049}) == 3.140625f, "bf16 to float");
    CHECK(isnan(__bfloat162float(__float2bfloat16_rn(NAN))), "bf16 NaN stays NaN");

    float *f;
    int *ints;
    CHECK(cudaMalloc((void **)&f, 4096 * sizeof(float)) == cudaSuccess, "malloc");
    CHECK(cudaMalloc((void **)&ints, 4096 * sizeof(int)) == cudaSuccess, "malloc");

    LAUNCH(1, 64, shuffles, f);
    CHECK(cudaGetLastError() == cudaSuccess, "shuffle launch");
    for (int i = 0; i < 64; i++) {
        CHECK(f[3 * i] == 496.f, "warp sum at %d: %g", i, f[3 * i]);
        CHECK(f[3 * i + 1] == (float)(i ^ 1), "xor shuffle at %d: %g", i, f[3 * i + 1]);
        CHECK(f[3 * i + 2] == (float)((i & ~31) + 7), "indexed shuffle at %d: %g", i, f[3 * i + 2]);
    }

    LAUNCH(3, 256, mirror, ints);
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 256; i++)
            CHECK(ints[b * 256 + i] == (255 - i) * 3 + b, "mirror block %d thread %d: %d", b, i, ints[b * 256 + i]);

    // mma.sync against a float64 product of the rounded operands: one and three products in a row, 1 and 3 warps.
    float *a = f, *bm = f + 256, *d = f + 512;
    for (int i = 0; i < 256; i++) a[i] = (float)((i * 37) % 17 - 8) / 8;
    for (int i = 0; i < 128; i++) bm[i] = (float)((i * 11) % 13 - 6) / 4;
    for (int bf16 = 0; bf16 < 2; bf16++)
        for (int reps = 1; reps <= 3; reps += 2)
            for (int warps = 1; warps <= 3; warps += 2) {
                LAUNCH(1, 32 * warps, mma, (const float *)a, (const float *)bm, d, bf16, reps);
                for (int w = 0; w < warps; w++)
                    for (int r = 0; r < 16; r++)
                        for (int n = 0; n < 8; n++) {
                            double want = 1;
                            for (int rep = 1; rep <= reps; rep++)
                                for (int k = 0; k < 16; k++) want += (double)a[r * 16 + k] * bm[k * 8 + n] * rep;
                            float got = d[w * 128 + r * 8 + n];
                            CHECK(got == (float)want, "mma %s x%d warp %d D[%d][%d] = %g, want %g",
                                  bf16 ? "bf16" : "f16", reps, w, r, n, got, want);
                        }
            }

    // Launch configuration errors are reported by cudaGetLastError and are not sticky.
    LAUNCH(1, 2048, touch, (const float *)f, 0, f);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration, "2048 threads per block");
    CHECK(cudaGetLastError() == cudaSuccess, "launch errors are not sticky");
    alma_emu::launch(alma_emu::Config(1, 32, 64 * 1024), "dynamic_smem", dynamic_smem, f);
    CHECK(cudaGetLastError() == cudaErrorInvalidValue, "64 KB of dynamic shared memory without the attribute");
    CHECK(cudaFuncSetAttribute(dynamic_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024) == cudaSuccess,
          "attribute");
    alma_emu::launch(alma_emu::Config(1, 32, 64 * 1024), "dynamic_smem", dynamic_smem, f);
    CHECK(cudaGetLastError() == cudaSuccess && isnan(f[5]), "dynamic shared memory starts as NaN: %g", f[5]);

    // Static shared memory starts as NaN in every block.
    LAUNCH(2, 64, half_written, f);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 64; i++) {
            float v = f[b * 64 + i];
            CHECK(i % 2 == 0 ? v == (float)b : isnan(v), "block %d thread %d read %g from shared memory", b, i, v);
        }

    // Graph capture: launches are recorded, not run, and replay reads memory as it is at replay time.
    cudaStream_t s;
    cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    f[100] = 7;
    unsigned long long before = alma_emu_launches();
    CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) == cudaSuccess, "begin capture");
    alma_emu::launch(alma_emu::Config(1, 1, 0, s), "touch", touch, (const float *)f, 100, f + 101);
    CHECK(f[101] != 7, "a captured launch does not run");
    void *p;
    CHECK(cudaMalloc(&p, 16) == cudaErrorStreamCaptureUnsupported, "cudaMalloc during capture");
    cudaGraph_t g;
    CHECK(cudaStreamEndCapture(s, &g) == cudaErrorStreamCaptureInvalidated, "capture invalidated by cudaMalloc");
    CHECK(cudaGetLastError() != cudaSuccess, "capture error reported");
    CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal) == cudaSuccess, "begin capture again");
    alma_emu::launch(alma_emu::Config(1, 1, 0, s), "touch", touch, (const float *)f, 100, f + 101);
    CHECK(cudaStreamEndCapture(s, &g) == cudaSuccess, "end capture");
    cudaGraphExec_t e;
    CHECK(cudaGraphInstantiate(&e, g, 0) == cudaSuccess, "instantiate");
    f[100] = 9;
    CHECK(cudaGraphLaunch(e, s) == cudaSuccess && f[101] == 9, "replay reads memory at replay time: %g", f[101]);
    CHECK(alma_emu_launches() == before + 2, "two launches recorded");
    cudaGraphExecDestroy(e);
    cudaGraphDestroy(g);

    // Copies must stay inside device allocations.
    CHECK(cudaMemcpyAsync(f + 4090, f, 64, cudaMemcpyDeviceToDevice, nullptr) == cudaErrorInvalidValue,
          "copy past the end of an allocation");
    cudaGetLastError();

    // Faults: reading one float past an allocation hits its guard page (in a child process).
    CHECK(in_child([&] { LAUNCH(1, 1, touch, (const float *)f, 4096, f); }) == CRASHED, "a read past an allocation faults");
    CHECK(in_child([&] { LAUNCH(1, 1, touch, (const float *)f, 4095, f); }) == OK, "the last float can be read");
    // ... and freed memory stays inaccessible, even after another allocation of the same size.
    CHECK(in_child([&] {
              float *g = nullptr, *h = nullptr;
              if (cudaMalloc((void **)&g, 4096 * sizeof(float)) != cudaSuccess || cudaFree(g) != cudaSuccess ||
                  cudaMalloc((void **)&h, 4096 * sizeof(float)) != cudaSuccess)
                  _exit(OTHER_ERROR);
              LAUNCH(1, 1, touch, (const float *)g, 0, h);
          }) == CRASHED,
          "a read after cudaFree faults");

    // Kernel failures are reported and sticky (as on a GPU, they poison the context): each in a child process.
    CHECK(in_child([&] { LAUNCH(1, 64, early_exit, f); }) == LAUNCH_FAILURE, "shuffle after lanes exited");
    CHECK(in_child([&] { LAUNCH(1, 64, divergent, ints); }) == LAUNCH_FAILURE, "divergent __syncthreads");
    CHECK(in_child([&] {
              LAUNCH(1, 64, divergent, ints);
              cudaGetLastError();
              LAUNCH(3, 256, mirror, ints);
          }) == LAUNCH_FAILURE,
          "the failure is sticky");

    // mbarriers and TMA: a 13 × 72 matrix through a two-stage ring of 64 × 8 boxes; outside it, zeros.
    {
        const int rows = 13, cols = 72, bc = 2, br = 2;
        unsigned short *m = nullptr, *out = nullptr;
        CHECK(cudaMalloc((void **)&m, rows * cols * 2) == cudaSuccess, "malloc");
        CHECK(cudaMalloc((void **)&out, bc * 64 * br * 8 * 2) == cudaSuccess, "malloc");
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m[r * cols + c] = (unsigned short)(r * 1000 + c + 1);
        Map map;
        CHECK(alma_emu::encode_tensor_map_2d(&map, m, cols, rows, cols * 2, 64, 8) == cudaSuccess, "encode");
        CHECK(alma_emu::encode_tensor_map_2d(&map, m, cols, rows, cols * 2 + 2, 64, 8) == cudaErrorInvalidValue,
              "a pitch that is not a multiple of 16 bytes is refused");
        cudaGetLastError();
        CHECK(cudaFuncSetAttribute(tma_ring, cudaFuncAttributeMaxDynamicSharedMemorySize, 4096) == cudaSuccess, "attr");
        alma_emu::launch(alma_emu::Config(1, 64, 4096), "tma_ring", tma_ring, map, out, bc, br);
        CHECK(cudaGetLastError() == cudaSuccess, "tma_ring launch");
        int wrong = 0;
        for (int r = 0; r < br * 8; r++)
            for (int c = 0; c < bc * 64; c++) {
                unsigned short want = r < rows && c < cols ? (unsigned short)(r * 1000 + c + 1) : 0;
                if (out[r * bc * 64 + c] != want && wrong++ < 3)
                    CHECK(false, "TMA element (%d, %d) = %u, want %u", r, c, out[r * bc * 64 + c], want);
            }
        CHECK(wrong == 0, "%d TMA elements wrong", wrong);
        cudaFree(m);
        cudaFree(out);
    }
    CHECK(in_child([&] { alma_emu::launch(alma_emu::Config(1, 32, 64), "mbarrier_stuck", mbarrier_stuck, 1); }) ==
              LAUNCH_FAILURE,
          "a wait on an mbarrier that never completes fails the launch");
    CHECK(in_child([&] { alma_emu::launch(alma_emu::Config(1, 32, 64), "mbarrier_stuck", mbarrier_stuck, 0); }) ==
              CRASHED,
          "a wait on an uninitialised mbarrier aborts");

    if (failures == 0) printf("alma-emu selftest: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
