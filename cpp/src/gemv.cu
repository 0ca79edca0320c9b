// Batch-1 (up to ALMA_GEMV_MAX_ROWS tokens) matrix-vector products for decoding: one warp per weight row, 16-byte
// weight loads, every weight read once for all tokens. Fused variants: three matrices sharing x (Q, K, V), the
// product added to its output (the residual connection after the o and down projections), gate/up with SwiGLU, and
// the RMSNorm that precedes the Q/K/V, gate/up and LM-head products folded in (NORM): y = inv · W (γ ⊙ x) with
// inv = 1 / sqrt(mean(x²) + eps), the sum of squares taken from the same loads of x by every warp (each reads all
// of x), and h = γ ⊙ x · inv written by the first warp for the operations that read the normalised rows (LoRA).
#include "gemv_fold.cuh"

constexpr int GEMV_WARPS = 4;
// 16-byte chunks of its weight row a lane loads before the kernel waits for its predecessor (pdl_wait, common.cuh)
// in the kernels launched while programmatic dependent launch is on (alma_set_pdl) for one token; otherwise none,
// and the kernels are the ones measured in cpp/PERF.md's runs 8-13.
constexpr int GEMV_PRELOAD = 4;

// The first PRE chunks of a lane's share of a weight row (raw 16-byte loads; 16-byte rows only).
template <int PRE> struct RowHead {
    uint4 v[PRE > 0 ? PRE : 1];
};

// Loads a lane's head of weight row w: weights are never written by a kernel, so this may run before pdl_wait.
template <typename T, int PRE>
__device__ __forceinline__ void preload_row(const T *w, int cols, bool vec, RowHead<PRE> &head) {
    if (!vec) return;
    int lane = threadIdx.x & 31, chunks = cols / Vec16<T>::N;
#pragma unroll
    for (int p = 0; p < PRE; p++) {
        int c = lane + 32 * p;
        if (c < chunks) head.v[p] = __ldg(reinterpret_cast<const uint4 *>(w + (size_t)c * Vec16<T>::N));
    }
}

// Adds chunk c (V weights in wv, elements c V ..) to the dot products with the N rows of x (with NORM: of γ ⊙ x;
// with SUMSQ: and to the sums of squares of x).
template <int V, int N, bool NORM, bool SUMSQ>
__device__ __forceinline__ void dot_chunk(float wv[V], const float *x, int cols, int c, const float *gamma,
                                          float acc[N], float ss[N]) {
    if (NORM) {
        const float4 *gp = reinterpret_cast<const float4 *>(gamma + (size_t)c * V);
#pragma unroll
        for (int q = 0; q < V / 4; q++) {
            float4 gv = __ldg(gp + q);
            wv[4 * q] *= gv.x; wv[4 * q + 1] *= gv.y; wv[4 * q + 2] *= gv.z; wv[4 * q + 3] *= gv.w;
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        const float4 *xp = reinterpret_cast<const float4 *>(x + (size_t)t * cols + (size_t)c * V);
#pragma unroll
        for (int q = 0; q < V / 4; q++) {
            float4 xv = __ldg(xp + q);
            acc[t] += wv[4 * q] * xv.x + wv[4 * q + 1] * xv.y + wv[4 * q + 2] * xv.z + wv[4 * q + 3] * xv.w;
            if (SUMSQ) ss[t] += xv.x * xv.x + xv.y * xv.y + xv.z * xv.z + xv.w * xv.w;
        }
    }
}

// Dot products of weight row w (cols elements; its head already loaded by preload_row) with the N rows of x (with
// NORM: of γ ⊙ x; with SUMSQ: and the sums of squares of x in ss), reduced over the warp (every lane gets them).
// Each lane adds its chunks in order (head first), so the sums do not depend on the preload.
template <typename T, int N, bool NORM, bool SUMSQ = NORM, int PRE>
__device__ __forceinline__ void row_dots(const T *w, const RowHead<PRE> &head, const float *x, int cols, bool vec,
                                         const float *gamma, float acc[N], float ss[N]) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = ss[t] = 0.f;
    int tail = 0;
    if (vec) {
        constexpr int V = Vec16<T>::N;
        int chunks = cols / V;
#pragma unroll
        for (int p = 0; p < PRE; p++) {
            int c = lane + 32 * p;
            if (c < chunks) {
                float wv[V];
                Vec16<T>::unpack(head.v[p], wv);
                dot_chunk<V, N, NORM, SUMSQ>(wv, x, cols, c, gamma, acc, ss);
            }
        }
#pragma unroll 4
        for (int c = lane + 32 * PRE; c < chunks; c += 32) {
            float wv[V];
            Vec16<T>::load(w + (size_t)c * V, wv);
            dot_chunk<V, N, NORM, SUMSQ>(wv, x, cols, c, gamma, acc, ss);
        }
        tail = chunks * V;
    }
    for (int j = tail + lane; j < cols; j += 32) {
        float wv = to_f32(w[j]);
        if (NORM) wv *= gamma[j];
#pragma unroll
        for (int t = 0; t < N; t++) {
            float xv = x[(size_t)t * cols + j];
            acc[t] += wv * xv;
            if (SUMSQ) ss[t] += xv * xv;
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        acc[t] = warp_sum(acc[t]);
        if (SUMSQ) ss[t] = warp_sum(ss[t]);
    }
}

// The normalised rows h = γ ⊙ x · inv, written by the first warp of the grid.
template <int N>
__device__ __forceinline__ void write_normalised(const float *x, int cols, const float inv[N], NormArgs nm) {
    if (blockIdx.x != 0 || threadIdx.x >= 32) return;
#pragma unroll
    for (int t = 0; t < N; t++)
        for (int j = threadIdx.x; j < cols; j += 32)
            nm.h[(size_t)t * cols + j] = nm.gamma[j] * (x[(size_t)t * cols + j] * inv[t]);
}

// Up to three matrices stacked along rows: global row r belongs to matrix 0 when r < rows0, etc.
struct Gemv3Args {
    const void *w[3];
    float *y[3];
    int rows[3];
    int accumulate;  // y += W x instead of y = W x
};

// Rotates the N products `acc` of this warp's row with its partner's (warp ^ 1 of the block: the block's four warps
// are two pairs of rows a rotation mixes), exchanged through shared memory, in place.
template <int N>
__device__ __forceinline__ void rope_pair(float acc[N], int row, RopeArgs ra) {
    __shared__ float partner[GEMV_WARPS][N];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) {
#pragma unroll
        for (int t = 0; t < N; t++) partner[warp][t] = acc[t];
    }
    __syncthreads();
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = rope_rotate(acc[t], partner[warp ^ 1][t], row, warp & 1, ra.positions[t], ra);
}

template <typename T, int N, bool NORM, bool ROPE, int PRE>
__global__ void gemv3_kernel(Gemv3Args a, const float *x, int cols, bool vec, NormArgs nm, RopeArgs ra) {
    pdl_launch_dependents();
    int r = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    // Select the matrix with conditionals (dynamic indexing would put the arguments in local memory). With ROPE the
    // rows of matrices 0 and 1 are multiples of the head dimension (so of GEMV_WARPS): a block is all in one of them.
    const void *w;
    float *y;
    int rows;
    bool rotate = false;
    if (r < a.rows[0]) {
        w = a.w[0]; y = a.y[0]; rows = a.rows[0];
        rotate = ROPE;
    } else if ((r -= a.rows[0]) < a.rows[1]) {
        w = a.w[1]; y = a.y[1]; rows = a.rows[1];
        rotate = ROPE;
    } else if ((r -= a.rows[1]) < a.rows[2]) {
        w = a.w[2]; y = a.y[2]; rows = a.rows[2];
    } else {
        return;
    }
    if (rotate) r = rope_row(r, ra);
    const T *row = reinterpret_cast<const T *>(w) + (size_t)r * cols;
    RowHead<PRE> head;
    preload_row<T, PRE>(row, cols, vec, head);
    pdl_wait();
    float acc[N], ss[N];
    row_dots<T, N, NORM>(row, head, x, cols, vec, nm.gamma, acc, ss);
    if (NORM) {
        float inv[N];
        rms_inv<N>(ss, cols, nm.eps, inv);
#pragma unroll
        for (int t = 0; t < N; t++) acc[t] *= inv[t];
        write_normalised<N>(x, cols, inv, nm);
    }
    if (ROPE && rotate) rope_pair<N>(acc, r, ra);  // block-uniform: every warp of the block rotates
    if ((threadIdx.x & 31) == 0) {
#pragma unroll
        for (int t = 0; t < N; t++) {
            float *yt = y + (size_t)t * rows + r;
            *yt = a.accumulate ? *yt + acc[t] : acc[t];
        }
    }
}

template <typename T, int N, bool NORM, int PRE>
__global__ void gemv_swiglu_kernel(const T *wg, const T *wu, const float *x, float *y, int rows, int cols, bool vec,
                                   NormArgs nm) {
    pdl_launch_dependents();
    int r = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    if (r >= rows) return;
    RowHead<PRE> gate_head, up_head;
    preload_row<T, PRE>(wg + (size_t)r * cols, cols, vec, gate_head);
    preload_row<T, PRE>(wu + (size_t)r * cols, cols, vec, up_head);
    pdl_wait();
    float g[N], u[N], ss[N];
    row_dots<T, N, NORM>(wg + (size_t)r * cols, gate_head, x, cols, vec, nm.gamma, g, ss);
    float unused[N];  // the sums of squares of x, taken once (with the gate row)
    row_dots<T, N, NORM, false>(wu + (size_t)r * cols, up_head, x, cols, vec, nm.gamma, u, unused);
    if (NORM) {
        float inv[N];
        rms_inv<N>(ss, cols, nm.eps, inv);
#pragma unroll
        for (int t = 0; t < N; t++) {
            g[t] *= inv[t];
            u[t] *= inv[t];
        }
        write_normalised<N>(x, cols, inv, nm);
    }
    if ((threadIdx.x & 31) == 0) {
#pragma unroll
        for (int t = 0; t < N; t++) y[(size_t)t * rows + r] = g[t] / (1.0f + expf(-g[t])) * u[t];
    }
}

template <typename T, int N>
static int launch_gemv3(Gemv3Args a, const float *x, int cols, NormArgs nm, RopeArgs ra, cudaStream_t s) {
    int total = a.rows[0] + a.rows[1] + a.rows[2];
    bool vec = vectorizable<T>(cols, a.w[0], a.w[1], a.w[2], x, nm.gamma);
    unsigned blocks = (total + GEMV_WARPS - 1) / GEMV_WARPS;
    // PRE: one token under PDL preloads weight chunks; the rest are the kernels measured before PDL.
    constexpr int PRE = N == 1 ? GEMV_PRELOAD : 0;
    auto kernel = ra.positions != nullptr
                      ? (alma_pdl ? gemv3_kernel<T, N, true, true, PRE> : gemv3_kernel<T, N, true, true, 0>)
                  : nm.gamma != nullptr
                      ? (alma_pdl ? gemv3_kernel<T, N, true, false, PRE> : gemv3_kernel<T, N, true, false, 0>)
                      : (alma_pdl ? gemv3_kernel<T, N, false, false, PRE> : gemv3_kernel<T, N, false, false, 0>);
    ALMA_CHECK(alma_launch_pdl("gemv3_kernel", kernel, blocks, 32 * GEMV_WARPS, 0, s, a, x, cols, vec, nm, ra));
    return 0;
}

template <typename T, int N>
static int launch_swiglu(const void *wg, const void *wu, const float *x, float *y, int rows, int cols, NormArgs nm,
                         cudaStream_t s) {
    bool vec = vectorizable<T>(cols, wg, wu, wg, x, nm.gamma);
    unsigned blocks = (rows + GEMV_WARPS - 1) / GEMV_WARPS;
    constexpr int PRE = N == 1 ? GEMV_PRELOAD : 0;  // as in launch_gemv3
    auto kernel = nm.gamma != nullptr
                      ? (alma_pdl ? gemv_swiglu_kernel<T, N, true, PRE> : gemv_swiglu_kernel<T, N, true, 0>)
                      : (alma_pdl ? gemv_swiglu_kernel<T, N, false, PRE> : gemv_swiglu_kernel<T, N, false, 0>);
    ALMA_CHECK(alma_launch_pdl("gemv_swiglu_kernel", kernel, blocks, 32 * GEMV_WARPS, 0, s, (const T *)wg,
                               (const T *)wu, x, y, rows, cols, vec, nm));
    return 0;
}

#define ALMA_DISPATCH_N(n, N, ...)                      \
    switch (n) {                                        \
    case 1: { constexpr int N = 1; __VA_ARGS__; } break; \
    case 2: { constexpr int N = 2; __VA_ARGS__; } break; \
    case 3: { constexpr int N = 3; __VA_ARGS__; } break; \
    case 4: { constexpr int N = 4; __VA_ARGS__; } break; \
    case 5: { constexpr int N = 5; __VA_ARGS__; } break; \
    case 6: { constexpr int N = 6; __VA_ARGS__; } break; \
    case 7: { constexpr int N = 7; __VA_ARGS__; } break; \
    case 8: { constexpr int N = 8; __VA_ARGS__; } break; \
    default: return (int)cudaErrorInvalidValue;         \
    }

extern "C" {

static const RopeArgs NO_ROPE = {nullptr, 0, 0, 0.0};

static int gemv3(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
                 const float *d_x, float *d_y0, float *d_y1, float *d_y2, int cols, int n, int accumulate,
                 NormArgs nm, void *stream, RopeArgs ra = NO_ROPE) {
    ALMA_REQUIRE(rows0 >= 0 && rows1 >= 0 && rows2 >= 0 && cols > 0 && n >= 0 && n <= ALMA_GEMV_MAX_ROWS);
    ALMA_REQUIRE(nm.gamma == nullptr || (rows0 > 0 && nm.h != nullptr));  // block 0, warp 0 (a row of W0) writes h
    if (n == 0 || rows0 + rows1 + rows2 == 0) return 0;
    Gemv3Args a;
    a.w[0] = d_w0; a.w[1] = rows1 ? d_w1 : d_w0; a.w[2] = rows2 ? d_w2 : d_w0;
    a.y[0] = d_y0; a.y[1] = d_y1; a.y[2] = d_y2;
    a.rows[0] = rows0; a.rows[1] = rows1; a.rows[2] = rows2;
    a.accumulate = accumulate;
    int rc = 0;
    if (n == 1 && alma_gemv_variant_ > 0) {
        rc = alma_gemv_stream(a.w[0], a.w[1], a.w[2], type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, 1,
                              accumulate, false, nm, ra, alma_stream(stream));
        if (rc >= 0) return rc;
    }
    ALMA_DISPATCH_TYPE(type, T, ALMA_DISPATCH_N(n, N, rc = (launch_gemv3<T, N>(a, d_x, cols, nm, ra, alma_stream(stream)))));
    return rc;
}

static int gemv_swiglu(const void *d_wg, const void *d_wu, int type, const float *d_x, float *d_y, int rows, int cols,
                       int n, NormArgs nm, void *stream) {
    ALMA_REQUIRE(rows >= 0 && cols > 0 && n >= 0 && n <= ALMA_GEMV_MAX_ROWS);
    ALMA_REQUIRE(nm.gamma == nullptr || nm.h != nullptr);
    if (n == 0 || rows == 0) return 0;
    int rc = 0;
    if (n == 1 && alma_gemv_variant_ > 0) {
        rc = alma_gemv_stream(d_wg, d_wu, d_wg, type, rows, rows, 0, d_x, d_y, nullptr, nullptr, cols, 1, 0, true,
                              nm, NO_ROPE, alma_stream(stream));
        if (rc >= 0) return rc;
    }
    ALMA_DISPATCH_TYPE(type, T,
        ALMA_DISPATCH_N(n, N, rc = (launch_swiglu<T, N>(d_wg, d_wu, d_x, d_y, rows, cols, nm, alma_stream(stream)))));
    return rc;
}

static const NormArgs NO_NORM = {nullptr, nullptr, 0.f};

int alma_gemv3(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
               const float *d_x, float *d_y0, float *d_y1, float *d_y2, int cols, int n, void *stream) {
    return gemv3(d_w0, d_w1, d_w2, type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, n, 0, NO_NORM, stream);
}

int alma_gemv3_norm(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
                    const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0, float *d_y1,
                    float *d_y2, int cols, int n, void *stream) {
    ALMA_REQUIRE(d_gamma != nullptr);
    return gemv3(d_w0, d_w1, d_w2, type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, n, 0,
                 NormArgs{d_gamma, d_h, eps}, stream);
}

int alma_gemv3_norm_rope(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1,
                         int rows2, const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0,
                         float *d_y1, float *d_y2, int cols, int n, const int *d_positions, int head_dim,
                         double theta, int interleaved, void *stream) {
    ALMA_REQUIRE(d_gamma != nullptr && d_positions != nullptr && head_dim > 0 && head_dim % 4 == 0 &&
                 rows0 % head_dim == 0 && rows1 % head_dim == 0);
    return gemv3(d_w0, d_w1, d_w2, type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, n, 0,
                 NormArgs{d_gamma, d_h, eps}, stream, RopeArgs{d_positions, head_dim, interleaved, theta});
}

int alma_gemv(const void *d_w, int type, const float *d_x, float *d_y, int rows, int cols, int n, void *stream) {
    return gemv3(d_w, nullptr, nullptr, type, rows, 0, 0, d_x, d_y, nullptr, nullptr, cols, n, 0, NO_NORM, stream);
}

int alma_gemv_add(const void *d_w, int type, const float *d_x, float *d_y, int rows, int cols, int n, void *stream) {
    return gemv3(d_w, nullptr, nullptr, type, rows, 0, 0, d_x, d_y, nullptr, nullptr, cols, n, 1, NO_NORM, stream);
}

int alma_gemv_swiglu(const void *d_wg, const void *d_wu, int type, const float *d_x, float *d_y, int rows, int cols,
                     int n, void *stream) {
    return gemv_swiglu(d_wg, d_wu, type, d_x, d_y, rows, cols, n, NO_NORM, stream);
}

int alma_gemv_swiglu_norm(const void *d_wg, const void *d_wu, int type, const float *d_x, const float *d_gamma,
                          float eps, float *d_h, float *d_y, int rows, int cols, int n, void *stream) {
    ALMA_REQUIRE(d_gamma != nullptr);
    return gemv_swiglu(d_wg, d_wu, type, d_x, d_y, rows, cols, n, NormArgs{d_gamma, d_h, eps}, stream);
}

}  // extern "C"
