// Streamed one-token GEMVs (alma_gemv_set_variant 1-7, compute capability 9.0): the decode products of gemv.cu for a
// single token, with the weight rows streamed into shared memory by bulk copies instead of loaded by the warps.
//
// Why: a warp-per-row GEMV keeps only the loads its warps have issued in flight, and a launch starts with none, so a
// 4096-wide matrix (32 MiB, ~7 µs of bytes on an H200) pays a few µs of ramp and tail (cpp/PERF.md: 72% of copy in a
// graph). Here each block is persistent over a contiguous share of the rows (one share per block, blocks = SMs ×
// blocks per SM), and one lane of its producer warp issues a cp.async.bulk per row into a ring of shared-memory
// stages (tma.cuh) — as many rows as fit in the variant's shared memory at once, before the kernel waits for its
// predecessor (PDL): weights are never written by a kernel. The variants (Shape below) differ in how an SM's
// shared memory is spent: ~200 KB by one to four blocks, or less, which leaves room for the next kernel's blocks
// (under PDL, the next streamed GEMV's) to become resident beside them and stream their own first rows while these
// finish. Two blocks in ~100 KB each (variant 2) gave the fastest decode step on an H100 and H200s (cpp/PERF.md,
// runs 18-20): one block per SM is a single row-by-row pipeline, too slow to draw the full bandwidth. The eight
// consumer warps wait for a stage on its `full` mbarrier, take their dot products and release it on its `empty`
// mbarrier (one arrival per warp), and the producer refills it with the next row.
//
// Consumer thread t owns the 16-byte chunks t, t + 256, ... of every row (CPT of them at most), so it keeps its
// part of x (γ ⊙ x with the RMSNorm folded in) in registers for the whole kernel and reads only weights from shared
// memory. A row's dot product is summed over each warp, the eight warps' sums stored in shared memory, and after the
// last row the block adds them up in a fixed order and writes its outputs: y = (or +=) the product, the RMSNorm's
// 1 / rms applied, pairs of rows rotated by RoPE or combined by SwiGLU. The logical rows are ordered so that a
// pair is two adjacent rows of one block's share (shares are whole pairs).
//
// Rows must be whole 16-byte chunks (cols % 8 == 0, 16-byte aligned matrices and x) and 16-bit; other shapes, and
// more than one token, take gemv.cu's kernels. With alma_gemv_stream_beams on, gemv_tc.cu's entry points send the
// products of 2 to 5 tokens (beam search) here too where rows have at most 4,096 columns: a consumer then keeps each
// token's part of x as pairs of the weights' type (rounded as the tensor-core kernels round it) and takes every
// token's dot product with each row it reads from shared memory.
#include "gemv_fold.cuh"
#include "tma.cuh"

int alma_gemv_variant_ = 0;  // alma_gemv_set_variant; read by gemv.cu

namespace {

constexpr int CONSUMER_WARPS = 8, CONSUMERS = 32 * CONSUMER_WARPS, THREADS = CONSUMERS + 32;
constexpr int MAX_STAGES = 32;
// The most rows a block's share may have: its warps' sums take 32 bytes of shared memory per row.
constexpr int MAX_SHARE = 1024;

enum Mode { PLAIN = 0, ROPE = 1, SWIGLU = 2 };

struct StreamArgs {
    const void *w[3];  // PLAIN, ROPE: the stacked matrices (Q, K, V); SWIGLU: gate, up
    float *y[3];       // SWIGLU: y[0]
    int rows[3];       // SWIGLU: rows[0] rows each
    int logical;       // rows in all: rows[0] + rows[1] + rows[2], or 2 rows[0] for SWIGLU
    int cols;
    int stages;
    int accumulate;    // PLAIN: y += W x
    int n;             // tokens (x [n][cols], each y [n][its rows]); the kernel's NT or fewer
};

// The matrix and row of logical row l: PLAIN and ROPE stack the matrices (ROPE's queries and keys in pair order);
// SWIGLU interleaves gate (even) and up (odd) rows.
template <int MODE>
__device__ __forceinline__ void locate(const StreamArgs &a, int l, const RopeArgs &ra, int &m, int &r) {
    if (MODE == SWIGLU) {
        m = l & 1;
        r = l >> 1;
        return;
    }
    if (l < a.rows[0]) {
        m = 0; r = l;
    } else if ((l -= a.rows[0]) < a.rows[1]) {
        m = 1; r = l;
    } else {
        m = 2; r = l - a.rows[1];
    }
    if (MODE == ROPE && m < 2) r = rope_row(r, ra);
}

// Element m of an argument array, by conditionals (dynamic indexing would put the arguments in local memory).
template <typename P> __device__ __forceinline__ P pick(P const v[3], int m) {
    return m == 0 ? v[0] : m == 1 ? v[1] : v[2];
}

// Block b's share of the logical rows: [begin, end), whole pairs where MODE pairs rows.
template <int MODE>
__device__ __forceinline__ void share(const StreamArgs &a, int &begin, int &end) {
    constexpr int UNIT = MODE == PLAIN ? 1 : 2;
    long long units = (a.logical + UNIT - 1) / UNIT;
    begin = (int)(units * blockIdx.x / gridDim.x) * UNIT;
    end = min((int)(units * (blockIdx.x + 1) / gridDim.x) * UNIT, a.logical);
}

// Dynamic shared memory: the stages (row_bytes each), their 2 × stages mbarriers, the warps' sums [share][nt][8], and
// the RMSNorm's per-warp sums of squares [8][nt].
struct Layout {
    int barriers, sums, norm, bytes;
    __host__ __device__ Layout(int row_bytes, int stages, int share_rows, int nt) {
        barriers = stages * row_bytes;
        sums = barriers + 16 * stages;
        norm = sums + 4 * CONSUMER_WARPS * share_rows * nt;
        bytes = norm + 4 * (CONSUMER_WARPS + 1) * nt;
    }
};

// NT tokens at most (a.n of them): with NT == 1 a consumer keeps its part of x in float32 registers; with more (beam
// search, alma_gemv_stream_beams) as pairs of T, rounded as the tensor-core GEMVs round x, NT × CPT × 4 registers.
template <typename T, int CPT, int MODE, bool NORM, int NT>
__device__ __forceinline__ void stream_products(const StreamArgs &a, const float *x, const NormArgs &nm,
                                                const RopeArgs &ra, int share_rows) {
#if defined(ALMA_EMU) || defined(ALMA_HAVE_TMA)
    constexpr int V = Vec16<T>::N;
    pdl_launch_dependents();
    extern __shared__ unsigned char smem[];  // 16-byte aligned
    const int cols = a.cols, chunks = cols / V, row_bytes = cols * (int)sizeof(T), S = a.stages;
    Layout lay(row_bytes, S, share_rows, NT);
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + lay.barriers), *empty = full + S;
    float *sums = reinterpret_cast<float *>(smem + lay.sums), *norm = reinterpret_cast<float *>(smem + lay.norm);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int begin, end;
    share<MODE>(a, begin, end);
    int count = end - begin;
    if (threadIdx.x == 0) {
        for (int s = 0; s < S; s++) {
            mbar_init(&full[s], 1);                // the producer's arrive.expect_tx; the bytes come from the copy
            mbar_init(&empty[s], CONSUMER_WARPS);  // one arrival per consumer warp
        }
        mbar_init_fence();
    }
    __syncthreads();
    bool producer = warp == CONSUMER_WARPS && lane == 0;
    // The producer's copy of logical row begin + i into stage i % S.
    auto issue = [&](int i) {
        int m, r;
        locate<MODE>(a, begin + i, ra, m, r);
        const T *src = reinterpret_cast<const T *>(pick(a.w, m)) + (size_t)r * cols;
        int s = i % S;
        mbar_arrive_expect_tx(&full[s], row_bytes);
        bulk_load(smem + (size_t)s * row_bytes, src, row_bytes, &full[s]);
    };
    // Before the wait for the predecessor: the first S rows, weights only.
    if (producer)
        for (int i = 0; i < min(S, count); i++) issue(i);
    pdl_wait();

    // Consumer thread t's part of x (with the RMSNorm: γ ⊙ x, and each token's 1 / rms).
    constexpr int XR = NT == 1 ? CPT * V : 1, XP = NT == 1 ? 1 : CPT * V / 2;
    float xr[XR];
    unsigned xp[NT][XP];
    float inv[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) inv[t] = 1.f;
    if constexpr (NT == 1) {
        if (warp < CONSUMER_WARPS) {
            float ss = 0.f;
#pragma unroll
            for (int k = 0; k < CPT; k++) {
                int c = threadIdx.x + CONSUMERS * k;
#pragma unroll
                for (int q = 0; q < V; q += 4) {
                    float4 v = c < chunks ? __ldg(reinterpret_cast<const float4 *>(x + (size_t)c * V + q))
                                          : make_float4(0.f, 0.f, 0.f, 0.f);
                    xr[k * V + q] = v.x; xr[k * V + q + 1] = v.y; xr[k * V + q + 2] = v.z; xr[k * V + q + 3] = v.w;
                    if (NORM) ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
                }
            }
            if (NORM) {
                ss = warp_sum(ss);
                if (lane == 0) norm[warp] = ss;
            }
        }
        if (NORM) {
            __syncthreads();  // every thread, the producer's lane 0 included (it issued its first rows above)
            float total = 0.f;
            for (int w = 0; w < CONSUMER_WARPS; w++) total += norm[w];
            float ss1[1] = {total};
            rms_inv<1>(ss1, cols, nm.eps, inv);
            if (warp < CONSUMER_WARPS) {
#pragma unroll
                for (int k = 0; k < CPT; k++) {
                    int c = threadIdx.x + CONSUMERS * k;
                    if (c >= chunks) continue;
#pragma unroll
                    for (int q = 0; q < V; q++) {
                        float g = nm.gamma[(size_t)c * V + q];
                        if (blockIdx.x == 0) nm.h[(size_t)c * V + q] = g * (xr[k * V + q] * inv[0]);
                        xr[k * V + q] *= g;
                    }
                }
            }
        }
    } else {
        // Several tokens: the sums of squares first (x read once for them), then x read again, γ ⊙ x rounded to
        // pairs of T, and block 0 writes the normalised rows.
        if (NORM) {
            if (warp < CONSUMER_WARPS) {
#pragma unroll
                for (int t = 0; t < NT; t++) {
                    float ss = 0.f;
#pragma unroll
                    for (int k = 0; k < CPT; k++) {
                        int c = threadIdx.x + CONSUMERS * k;
#pragma unroll
                        for (int q = 0; q < V; q += 4) {
                            float4 v = c < chunks && t < a.n ? __ldg(reinterpret_cast<const float4 *>(
                                                                   x + (size_t)t * cols + (size_t)c * V + q))
                                                             : make_float4(0.f, 0.f, 0.f, 0.f);
                            ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
                        }
                    }
                    ss = warp_sum(ss);
                    if (lane == 0) norm[warp * NT + t] = ss;
                }
            }
            __syncthreads();  // every thread, the producer's lane 0 included
            float total[NT];
#pragma unroll
            for (int t = 0; t < NT; t++) {
                total[t] = 0.f;
                for (int w = 0; w < CONSUMER_WARPS; w++) total[t] += norm[w * NT + t];
            }
            rms_inv<NT>(total, cols, nm.eps, inv);
        }
        if (warp < CONSUMER_WARPS) {
#pragma unroll
            for (int t = 0; t < NT; t++)
#pragma unroll
                for (int k = 0; k < CPT; k++) {
                    int c = threadIdx.x + CONSUMERS * k;
#pragma unroll
                    for (int q = 0; q < V; q += 2) {
                        float v0 = 0.f, v1 = 0.f;
                        if (c < chunks && t < a.n) {
                            float2 v = __ldg(reinterpret_cast<const float2 *>(x + (size_t)t * cols + (size_t)c * V + q));
                            v0 = v.x;
                            v1 = v.y;
                            if (NORM) {
                                float g0 = nm.gamma[(size_t)c * V + q], g1 = nm.gamma[(size_t)c * V + q + 1];
                                if (blockIdx.x == 0) {
                                    nm.h[(size_t)t * cols + (size_t)c * V + q] = g0 * (v0 * inv[t]);
                                    nm.h[(size_t)t * cols + (size_t)c * V + q + 1] = g1 * (v1 * inv[t]);
                                }
                                v0 *= g0;
                                v1 *= g1;
                            }
                        }
                        xp[t][(k * V + q) / 2] = pack2<T>(v0, v1);
                    }
                }
        }
    }

    if (producer) {
        // The rest of the share: row i goes into stage i % S once every warp has released its previous row there.
        for (int i = S; i < count; i++) {
            mbar_wait(&empty[i % S], (i / S - 1) & 1);
            issue(i);
        }
    } else if (warp < CONSUMER_WARPS) {
        for (int i = 0; i < count; i++) {
            int s = i % S;
            mbar_wait(&full[s], (i / S) & 1);
            const uint4 *row = reinterpret_cast<const uint4 *>(smem + (size_t)s * row_bytes);
            float acc[NT];
#pragma unroll
            for (int t = 0; t < NT; t++) acc[t] = 0.f;
#pragma unroll
            for (int k = 0; k < CPT; k++) {
                int c = threadIdx.x + CONSUMERS * k;
                if (c < chunks) {
                    float wv[V];
                    Vec16<T>::unpack(row[c], wv);
                    if constexpr (NT == 1) {
#pragma unroll
                        for (int q = 0; q < V; q++) acc[0] += wv[q] * xr[k * V + q];
                    } else {
#pragma unroll
                        for (int t = 0; t < NT; t++)
#pragma unroll
                            for (int q = 0; q < V; q += 2) {
                                // Widened here, row by row: hoisted out of the loop, x would take NT × CPT × V
                                // float registers again (the empty asm keeps the compiler from doing so).
                                unsigned pair = xp[t][(k * V + q) / 2];
                                asm volatile("" : "+r"(pair));
                                float x0, x1;
                                unpack2<T>(pair, x0, x1);
                                acc[t] += wv[q] * x0 + wv[q + 1] * x1;
                            }
                    }
                }
            }
#pragma unroll
            for (int t = 0; t < NT; t++) acc[t] = warp_sum(acc[t]);  // after the first, every lane's reads are done
            if (lane == 0) {
                mbar_arrive(&empty[s]);
#pragma unroll
                for (int t = 0; t < NT; t++) sums[(i * NT + t) * CONSUMER_WARPS + warp] = acc[t];
            }
        }
    }
    __syncthreads();

    // The block's outputs: its rows' products per token (sums of the warps' sums in warp order), then what is folded
    // in. Entry j = i * NT + t is row i's product for token t.
    for (int j = threadIdx.x; j < count * NT; j += THREADS) {
        float p = 0.f, iv = inv[0];
        for (int w = 0; w < CONSUMER_WARPS; w++) p += sums[j * CONSUMER_WARPS + w];
#pragma unroll
        for (int t = 1; t < NT; t++)
            if (j % NT == t) iv = inv[t];
        sums[j * CONSUMER_WARPS] = p * iv;
    }
    __syncthreads();
    for (int j = threadIdx.x; j < count * NT; j += THREADS) {
        int i = j / NT, t = j % NT;
        if (t >= a.n) continue;
        int l = begin + i, m, r;
        locate<MODE>(a, l, ra, m, r);
        float p = sums[j * CONSUMER_WARPS];
        if (MODE == SWIGLU) {
            if ((l & 1) == 0) {
                float u = i + 1 < count ? sums[((i + 1) * NT + t) * CONSUMER_WARPS] : 0.f;
                a.y[0][(size_t)t * a.rows[0] + r] = p / (1.0f + expf(-p)) * u;
            }
            continue;
        }
        if (MODE == ROPE && m < 2)
            p = rope_rotate(p, sums[((i ^ 1) * NT + t) * CONSUMER_WARPS], r, l & 1, ra.positions[t], ra);
        float *y = pick(a.y, m) + (size_t)t * pick(a.rows, m) + r;
        *y = a.accumulate ? *y + p : p;
    }
#else
    __trap();  // launched only on compute capability 9.0 devices (alma_gemv_set_variant checks)
#endif
}

// One token, and two to five (two blocks of 288 threads per SM need ≤ 113 registers a thread; the compiler is held
// to it there, where it would otherwise keep x widened to float32 in registers).
template <typename T, int CPT, int MODE, bool NORM>
__global__ void __launch_bounds__(THREADS) gemv_stream_kernel(StreamArgs a, const float *x, NormArgs nm, RopeArgs ra,
                                                             int share_rows) {
    stream_products<T, CPT, MODE, NORM, 1>(a, x, nm, ra, share_rows);
}
template <typename T, int CPT, int MODE, bool NORM, int NT>
__global__ void __launch_bounds__(THREADS, 2) gemv_stream_tokens_kernel(StreamArgs a, const float *x, NormArgs nm,
                                                                        RopeArgs ra, int share_rows) {
    stream_products<T, CPT, MODE, NORM, NT>(a, x, nm, ra, share_rows);
}

// A variant's launch: blocks per SM, and the shared memory of an SM they take between them. 4 and 5 run more, smaller
// rings (more rows in flight at once in more pipelines); 6 leaves a third of the SM for one block of the next kernel,
// 7 half of it, for both of the next streamed GEMV's blocks (four resident: ≤ 56 registers a thread, which the
// 4096-wide plain products use). Where registers allow fewer blocks per SM than a variant asks for, the SM's shared
// memory is split among those.
struct Shape {
    int blocks_per_sm, smem_per_sm;
};
constexpr Shape SHAPES[] = {{0, 0},           {1, 200 * 1024}, {2, 200 * 1024}, {1, 100 * 1024},
                            {3, 200 * 1024}, {4, 200 * 1024}, {2, 150 * 1024}, {2, 112 * 1024}};
constexpr int VARIANTS = sizeof(SHAPES) / sizeof(SHAPES[0]);

template <typename T, int CPT, int MODE, bool NORM, int NT>
int launch(const StreamArgs &args, const float *x, NormArgs nm, RopeArgs ra, Shape shape, cudaStream_t s) {
    int dev = 0, sms = 0, smem_max = 0;
    ALMA_CHECK(cudaGetDevice(&dev));
    ALMA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    ALMA_CHECK(cudaDeviceGetAttribute(&smem_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    constexpr int UNIT = MODE == PLAIN ? 1 : 2, SHARE_UNITS = MAX_SHARE / NT / UNIT;
    void (*kernel)(StreamArgs, const float *, NormArgs, RopeArgs, int);
    if constexpr (NT == 1) kernel = gemv_stream_kernel<T, CPT, MODE, NORM>;
    else kernel = gemv_stream_tokens_kernel<T, CPT, MODE, NORM, NT>;
    int fit = 0;  // blocks of this kernel an SM's registers and threads hold
    ALMA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&fit, kernel, THREADS, 0));
    int per_sm = max(1, min(shape.blocks_per_sm, fit));
    StreamArgs a = args;
    int units = (int)(((long long)a.logical + UNIT - 1) / UNIT);
    // Persistent blocks, more of them only where a share's sums would exceed MAX_SHARE rows' (a large vocabulary).
    int blocks = min(units, sms * per_sm);
    blocks = max(blocks, (units + SHARE_UNITS - 1) / SHARE_UNITS);
    int share_rows = ((units + blocks - 1) / blocks) * UNIT;
    // Shared memory: the variant's share of an SM (of the 227 KB a block may have on Hopper) over its blocks, in
    // stages of a row, less the 1 KB the runtime reserves per block.
    int budget = min(smem_max, shape.smem_per_sm / per_sm) - 1024;
    int row_bytes = a.cols * (int)sizeof(T);
    Layout fixed(row_bytes, 0, share_rows, NT);
    a.stages = min(MAX_STAGES, (budget - fixed.bytes) / (row_bytes + 16));
    if (a.stages < 2) return -1;  // rows too long to double-buffer: gemv.cu's kernels
    Layout lay(row_bytes, a.stages, share_rows, NT);
    ALMA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, lay.bytes));
    ALMA_CHECK(alma_launch_pdl("gemv_stream_kernel", kernel, blocks, THREADS, lay.bytes, s, a, x, nm, ra, share_rows));
    return 0;
}

// One token: a kernel per width bucket (x in float32 registers). Two to five (five beams): rows of up to 512 16-byte
// chunks (4,096 16-bit columns: the decode products but the MLP's down projection), the tokens rounded up to 2 or 5.
template <typename T, int MODE, bool NORM>
int launch_cpt(const StreamArgs &a, const float *x, NormArgs nm, RopeArgs ra, Shape shape, cudaStream_t s) {
    int cpt = (a.cols / Vec16<T>::N + CONSUMERS - 1) / CONSUMERS;
    if (a.n > 1) {
        if (cpt > 2) return -1;
        if (a.n <= 2) return launch<T, 2, MODE, NORM, 2>(a, x, nm, ra, shape, s);
        if (a.n <= 5) return launch<T, 2, MODE, NORM, 5>(a, x, nm, ra, shape, s);
        return -1;  // 6 to 8 tokens: the tensor-core GEMVs
    }
    if (cpt <= 2) return launch<T, 2, MODE, NORM, 1>(a, x, nm, ra, shape, s);
    if (cpt <= 4) return launch<T, 4, MODE, NORM, 1>(a, x, nm, ra, shape, s);
    if (cpt <= 6) return launch<T, 6, MODE, NORM, 1>(a, x, nm, ra, shape, s);
    if (cpt <= 8) return launch<T, 8, MODE, NORM, 1>(a, x, nm, ra, shape, s);
    return -1;  // over 16,384 columns: gemv.cu's kernels
}

template <typename T>
int dispatch(const StreamArgs &a, const float *x, NormArgs nm, RopeArgs ra, bool swiglu, Shape shape,
             cudaStream_t s) {
    bool norm = nm.gamma != nullptr;
    if (swiglu)
        return norm ? launch_cpt<T, SWIGLU, true>(a, x, nm, ra, shape, s)
                    : launch_cpt<T, SWIGLU, false>(a, x, nm, ra, shape, s);
    if (ra.positions != nullptr) return launch_cpt<T, ROPE, true>(a, x, nm, ra, shape, s);
    return norm ? launch_cpt<T, PLAIN, true>(a, x, nm, ra, shape, s)
                : launch_cpt<T, PLAIN, false>(a, x, nm, ra, shape, s);
}

}  // namespace

int alma_gemv_stream_beams_ = 0;  // alma_gemv_stream_beams; read by gemv_tc.cu

// Called by gemv.cu (one token) and gemv_tc.cu (2..5 tokens, alma_gemv_stream_beams) while a streamed variant is
// selected: the products of gemv3 (up to three stacked matrices; swiglu: gate w0 and up w1 into y0), arguments
// checked there. -1 where the shape does not suit (the caller then launches its own kernels), else 0 or a CUDA error.
int alma_gemv_stream(const void *w0, const void *w1, const void *w2, int type, int rows0, int rows1, int rows2,
                     const float *x, float *y0, float *y1, float *y2, int cols, int n, int accumulate, bool swiglu,
                     NormArgs nm, RopeArgs ra, cudaStream_t s) {
    if (type != ALMA_BF16 && type != ALMA_F16) return -1;
    if (n < 1 || n > 8) return -1;
    if (!vectorizable<__nv_bfloat16>(cols, w0, w1, w2, x, nm.gamma)) return -1;  // f16 rows: the same 8-element chunks
    long long logical = swiglu ? 2LL * rows0 : (long long)rows0 + rows1 + rows2;
    if (logical == 0) return 0;
    if (logical > 0x7fffffff) return -1;
    StreamArgs a;
    a.w[0] = w0; a.w[1] = w1; a.w[2] = w2;
    a.y[0] = y0; a.y[1] = y1; a.y[2] = y2;
    a.rows[0] = rows0; a.rows[1] = swiglu ? rows0 : rows1; a.rows[2] = swiglu ? 0 : rows2;
    a.logical = (int)logical;
    a.cols = cols;
    a.stages = 0;
    a.accumulate = accumulate;
    a.n = n;
    Shape shape = SHAPES[alma_gemv_variant_];
    if (type == ALMA_BF16) return dispatch<__nv_bfloat16>(a, x, nm, ra, swiglu, shape, s);
    return dispatch<__half>(a, x, nm, ra, swiglu, shape, s);
}

extern "C" {

int alma_gemv_set_variant(int variant) {
    if (variant < 0 || variant >= VARIANTS) return (int)cudaErrorInvalidValue;
    if (variant > 0) {
        int dev = 0, major = 0;
        ALMA_CHECK(cudaGetDevice(&dev));
        ALMA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
        if (major < 9) return (int)cudaErrorInvalidDeviceFunction;
    }
    alma_gemv_variant_ = variant;
    return 0;
}

int alma_gemv_variant(void) { return alma_gemv_variant_; }

int alma_gemv_stream_beams(int on) {
    if (on != 0 && on != 1) return (int)cudaErrorInvalidValue;
    alma_gemv_stream_beams_ = on;
    return 0;
}

}  // extern "C"
