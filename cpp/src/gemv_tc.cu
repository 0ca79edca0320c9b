// Skinny products for 2..8 tokens (beam search) on tensor cores: y[t] = W x[t] with 16-bit weights; the float32
// activations are rounded to the weights' type as they are loaded. With 8 tokens a CUDA-core GEMV would need ~4
// FLOPs per weight byte, more than an H100's float32 rate at full bandwidth; mma.sync does the arithmetic so the
// kernel stays memory-bound. A block owns 16 weight rows and splits K over 8 warps; each mma.sync m16n8k16 takes
// the 16 rows as A and the (up to 8) tokens as B. A lane loads 16 contiguous bytes of two weight rows and 8 floats
// of its token; the k order inside a 32-wide chunk is permuted the same way for A and B, which leaves the dot
// products unchanged.
// One launch serves up to three matrices sharing x (Q, K, V; blocks are assigned to the matrices in order), may add
// the product to y (the residual connection), or computes gate and up rows together and writes silu(gate) * up.
// With NORM the RMSNorm before the products is folded in: the lanes load γ ⊙ x (rounded to the weights' type) and
// sum x² on the way, the block adds those partial sums up per token and scales each product by 1 / rms at the end
// (W (γ ⊙ x) / rms = W h), and block 0 also writes h. Rounding γ ⊙ x rather than h changes only which bf16 neighbour
// an element rounds to, not the size of the rounding error.
// With alma_gemv_stream_beams and a streamed variant on, the entry points hand rows of up to 4,096 columns and up to
// 5 tokens to gemv_stream.cu instead.
#include "gemv_fold.cuh"
#include "mma.cuh"

namespace {

// Shapes of the kernel (warps per block splitting K, chunks whose loads are issued together), picked by
// alma_gemv_tc_set_variant for benchmarks; variant 0 is the default.
struct TcVariant {
    int split, unroll;
};
// Measured on an H200 (cpp/PERF.md): {8, 4} reads 2x11008x4096 bf16 gate/up weights for 5 tokens at 77% of the
// copy bandwidth, {8, 2} at 59%, {16, 2} 66%, {16, 1} 65%. {4, 8} and {8, 6} (more loads in flight per warp) were
// added after run 13 for the next sweep.
constexpr TcVariant TC_VARIANTS[] = {{8, 4}, {8, 2}, {16, 2}, {16, 1}, {4, 8}, {8, 6}};
constexpr int TC_VARIANT_COUNT = sizeof(TC_VARIANTS) / sizeof(TC_VARIANTS[0]);
int tc_variant = 0;

struct TcArgs {
    const void *w[3];
    float *y[3];
    int rows[3];
    int blocks[3];   // 16-row blocks of each matrix
    int accumulate;  // y += W x instead of y = W x
    const float *gamma;  // NORM: the RMSNorm weights (cols), eps, and the normalised rows h [n, cols] to write
    float *h;
    float eps;
    // RoPE of matrices 0 and 1 (queries, keys) after the products (positions != nullptr; NORM kernels only): a block
    // takes 8 rows d.. and their partners d + head_dim / 2 (rotate-half; interleaved partners are adjacent anyway)
    const int *positions;
    int head_dim;
    int interleaved;
    double theta;
};

// 8 consecutive floats at p (16-byte aligned) as four pairs of T, rounded to nearest.
template <typename T> __device__ __forceinline__ uint4 load_x8(const float *p) {
    float4 a = __ldg(reinterpret_cast<const float4 *>(p)), b = __ldg(reinterpret_cast<const float4 *>(p + 4));
    return make_uint4(pack2<T>(a.x, a.y), pack2<T>(a.z, a.w), pack2<T>(b.x, b.y), pack2<T>(b.z, b.w));
}

// As load_x8, of γ ⊙ x (γ at g), adding the squares of the 8 elements of x to ss.
template <typename T> __device__ __forceinline__ uint4 load_x8_norm(const float *p, const float *g, float &ss) {
    float4 a = __ldg(reinterpret_cast<const float4 *>(p)), b = __ldg(reinterpret_cast<const float4 *>(p + 4));
    float4 ga = __ldg(reinterpret_cast<const float4 *>(g)), gb = __ldg(reinterpret_cast<const float4 *>(g + 4));
    ss += a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w + b.x * b.x + b.y * b.y + b.z * b.z + b.w * b.w;
    return make_uint4(pack2<T>(ga.x * a.x, ga.y * a.y), pack2<T>(ga.z * a.z, ga.w * a.w),
                      pack2<T>(gb.x * b.x, gb.y * b.y), pack2<T>(gb.z * b.z, gb.w * b.w));
}

// The two m16n8k16 products of one 32-wide chunk: rows (ra, rb) of A against the token chunk vx.
template <typename T> __device__ __forceinline__ void chunk_mma(float *c, uint4 ra, uint4 rb, uint4 vx) {
    unsigned a[4] = {ra.x, rb.x, ra.y, rb.y}, b[2] = {vx.x, vx.y};
    Mma<T>::run(c, a, b);
    unsigned a2[4] = {ra.z, rb.z, ra.w, rb.w}, b2[2] = {vx.z, vx.w};
    Mma<T>::run(c, a2, b2);
}

// The warp's K-slice partials of its 16×8 tile, in the order the mma accumulator lays them out.
__device__ __forceinline__ void stash(float (*red)[16][8], const float *c) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    red[warp][g][2 * t] = c[0];
    red[warp][g][2 * t + 1] = c[1];
    red[warp][g + 8][2 * t] = c[2];
    red[warp][g + 8][2 * t + 1] = c[3];
}

// PRE (the kernels launched under programmatic dependent launch, common.cuh): the weights of a warp's first UNROLL
// chunks are loaded before pdl_wait, while the kernel before this one drains; the products are the same.
template <typename T, bool SWIGLU, bool NORM, int SPLIT, int UNROLL, bool PRE = false>
__global__ void __launch_bounds__(SPLIT * 32) gemv_tc_kernel(TcArgs args, const float *X, int cols, int n) {
    __shared__ float red[SWIGLU ? 2 : 1][SPLIT][16][8];
    __shared__ float sumsq[NORM ? SPLIT : 1][8];  // per warp and token: its share of the sum of x²
    __shared__ float inv_rms[8];
    pdl_launch_dependents();
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    // The matrix of this block, by conditionals (dynamic indexing would put the arguments in local memory).
    int b = blockIdx.x;
    const void *w;
    float *Y;
    int rows;
    bool rotate = false;
    if (SWIGLU || b < args.blocks[0]) {
        w = args.w[0]; Y = args.y[0]; rows = args.rows[0];
        rotate = NORM && !SWIGLU && args.positions != nullptr;
    } else if ((b -= args.blocks[0]) < args.blocks[1]) {
        w = args.w[1]; Y = args.y[1]; rows = args.rows[1];
        rotate = NORM && !SWIGLU && args.positions != nullptr;
    } else {
        b -= args.blocks[1];
        w = args.w[2]; Y = args.y[2]; rows = args.rows[2];
    }
    int r0 = b * 16;
    // The matrix row of the block's row `local` (0..15): r0 + local, or with the rotate-half RoPE rows d and d + half.
    auto matrix_row = [&](int local) {
        if (!rotate || args.interleaved) return r0 + local;
        int hd = args.head_dim, per = hd / 16;
        return b / per * hd + b % per * 8 + (local & 7) + ((local & 8) ? hd / 2 : 0);
    };
    // Rows past the end and tokens past n read valid (clamped) memory; their results are dropped.
    size_t ra = (size_t)min(matrix_row(g), rows - 1) * cols, rb = (size_t)min(matrix_row(g + 8), rows - 1) * cols;
    const T *W = reinterpret_cast<const T *>(w), *U = reinterpret_cast<const T *>(args.w[1]);
    const float *xr = X + (size_t)min(g, n - 1) * cols;
    float c[4] = {0.f, 0.f, 0.f, 0.f}, cu[4] = {0.f, 0.f, 0.f, 0.f}, ss = 0.f;
    int chunks = (cols + 31) / 32;
    int per = (chunks + SPLIT - 1) / SPLIT;
    int begin = warp * per, end = min(chunks, begin + per);
    uint4 va[UNROLL], vb[UNROLL], ua[UNROLL], ub[UNROLL], vx[UNROLL];
    bool preloaded = false;  // PRE: the weights of the first UNROLL chunks are in va .. ub already
    // The preload repeats the loop's weight loads rather than sharing a helper with it: with a shared helper the
    // loads interleave differently with those of x and ptxas gives the PDL-off kernels other register counts than
    // the ones measured in runs 8-13 (70 -> 52 for the plain bf16 one).
    if (PRE) {
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            int k = (begin + u) * 32 + 8 * t;
            va[u] = vb[u] = ua[u] = ub[u] = make_uint4(0, 0, 0, 0);
            if (begin + u < end && k < cols) {
                va[u] = __ldg(reinterpret_cast<const uint4 *>(W + ra + k));
                vb[u] = __ldg(reinterpret_cast<const uint4 *>(W + rb + k));
                if (SWIGLU) {
                    ua[u] = __ldg(reinterpret_cast<const uint4 *>(U + ra + k));
                    ub[u] = __ldg(reinterpret_cast<const uint4 *>(U + rb + k));
                }
            }
        }
        preloaded = true;
    }
    pdl_wait();  // x, y, h and the positions are written by kernels
    for (int ch0 = begin; ch0 < end; ch0 += UNROLL) {
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {  // every load of the UNROLL chunks first
            int k = (ch0 + u) * 32 + 8 * t;
            vx[u] = make_uint4(0, 0, 0, 0);
            if (!PRE || !preloaded) va[u] = vb[u] = ua[u] = ub[u] = make_uint4(0, 0, 0, 0);
            if (ch0 + u < end && k < cols) {  // cols % 8 == 0: the 8 elements are all in range
                if (!PRE || !preloaded) {
                    va[u] = __ldg(reinterpret_cast<const uint4 *>(W + ra + k));
                    vb[u] = __ldg(reinterpret_cast<const uint4 *>(W + rb + k));
                    if (SWIGLU) {
                        ua[u] = __ldg(reinterpret_cast<const uint4 *>(U + ra + k));
                        ub[u] = __ldg(reinterpret_cast<const uint4 *>(U + rb + k));
                    }
                }
                vx[u] = NORM ? load_x8_norm<T>(xr + k, args.gamma + k, ss) : load_x8<T>(xr + k);
            }
        }
        preloaded = false;
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            chunk_mma<T>(c, va[u], vb[u], vx[u]);
            if (SWIGLU) chunk_mma<T>(cu, ua[u], ub[u], vx[u]);
        }
    }
    stash(red[0], c);
    if (SWIGLU) stash(red[SWIGLU ? 1 : 0], cu);
    if (NORM) {
        ss = quad_sum(ss);  // the quad's lanes hold token g's 32 elements of each chunk
        if (t == 0) sumsq[NORM ? warp : 0][g] = ss;
    }
    __syncthreads();
    if (NORM && threadIdx.x < 8) {  // 1 / rms per token, as alma_rmsnorm computes it
        float total = 0.f;
#pragma unroll
        for (int w8 = 0; w8 < SPLIT; w8++) total += sumsq[NORM ? w8 : 0][threadIdx.x];
        inv_rms[threadIdx.x] = (float)(1.0 / sqrt((double)(total / (float)cols + args.eps)));
    }
    if (NORM) __syncthreads();
    if (threadIdx.x < 128) {
        int row = threadIdx.x >> 3, tok = threadIdx.x & 7;
        float sum = 0.f, up = 0.f;
#pragma unroll
        for (int w8 = 0; w8 < SPLIT; w8++) {
            sum += red[0][w8][row][tok];
            if (SWIGLU) up += red[SWIGLU ? 1 : 0][w8][row][tok];
        }
        if (NORM) {
            sum *= inv_rms[tok];
            up *= inv_rms[tok];
        }
        int out_row = matrix_row(row);
        if (rotate) {  // the partner row's product from the same block, then the rotation alma_rope_qk applies
            int hd = args.head_dim, partner = args.interleaved ? row ^ 1 : row ^ 8;
            float other = 0.f;
#pragma unroll
            for (int w8 = 0; w8 < SPLIT; w8++) other += red[0][w8][partner][tok];
            other *= inv_rms[tok];
            bool second = args.interleaved ? (row & 1) : (row & 8);
            int d = args.interleaved ? (out_row % hd) >> 1 : out_row % hd % (hd / 2);
            float c, sn;
            rope_cos_sin(args.positions[min(tok, n - 1)], d, hd, args.theta, c, sn);
            sum = second ? sum * c + other * sn : sum * c - other * sn;
        }
        if (out_row < rows && tok < n) {
            float *y = Y + (size_t)tok * rows + out_row;
            float v = SWIGLU ? sum / (1.0f + expf(-sum)) * up : sum;
            *y = args.accumulate ? *y + v : v;
        }
    }
    if (NORM && blockIdx.x == 0) {  // h = γ ⊙ x / rms, for the caller
        for (int tok = 0; tok < n; tok++)
            for (int j = threadIdx.x; j < cols; j += SPLIT * 32)
                args.h[(size_t)tok * cols + j] = args.gamma[j] * (X[(size_t)tok * cols + j] * inv_rms[tok]);
    }
}

template <bool SWIGLU, bool NORM, int SPLIT, int UNROLL, bool PRE = false>
int launch_shape(TcArgs a, int type, const float *x, int cols, int n, cudaStream_t s) {
    unsigned blocks = (unsigned)a.blocks[0] + (SWIGLU ? 0u : (unsigned)a.blocks[1] + (unsigned)a.blocks[2]);
    if (type == ALMA_BF16)
        ALMA_CHECK(alma_launch_pdl("gemv_tc_kernel", gemv_tc_kernel<__nv_bfloat16, SWIGLU, NORM, SPLIT, UNROLL, PRE>,
                                   blocks, SPLIT * 32, 0, s, a, x, cols, n));
    else if (type == ALMA_F16)
        ALMA_CHECK(alma_launch_pdl("gemv_tc_kernel", gemv_tc_kernel<__half, SWIGLU, NORM, SPLIT, UNROLL, PRE>, blocks,
                                   SPLIT * 32, 0, s, a, x, cols, n));
    else
        return (int)cudaErrorInvalidValue;
    return 0;
}

template <bool SWIGLU, bool NORM>
int launch_variant(TcArgs a, int type, const float *x, int cols, int n, cudaStream_t s) {
    static_assert(TC_VARIANT_COUNT == 6, "one case per variant");
    switch (tc_variant) {
    case 4: return launch_shape<SWIGLU, NORM, TC_VARIANTS[4].split, TC_VARIANTS[4].unroll>(a, type, x, cols, n, s);
    case 5: return launch_shape<SWIGLU, NORM, TC_VARIANTS[5].split, TC_VARIANTS[5].unroll>(a, type, x, cols, n, s);
    case 1: return launch_shape<SWIGLU, NORM, TC_VARIANTS[1].split, TC_VARIANTS[1].unroll>(a, type, x, cols, n, s);
    case 2: return launch_shape<SWIGLU, NORM, TC_VARIANTS[2].split, TC_VARIANTS[2].unroll>(a, type, x, cols, n, s);
    case 3: return launch_shape<SWIGLU, NORM, TC_VARIANTS[3].split, TC_VARIANTS[3].unroll>(a, type, x, cols, n, s);
    default:  // under PDL, the default shape preloads its first weights
        if (alma_pdl)
            return launch_shape<SWIGLU, NORM, TC_VARIANTS[0].split, TC_VARIANTS[0].unroll, true>(a, type, x, cols, n, s);
        return launch_shape<SWIGLU, NORM, TC_VARIANTS[0].split, TC_VARIANTS[0].unroll>(a, type, x, cols, n, s);
    }
}

// With a.gamma set, the products of the RMS-normalised rows (written to a.h).
template <bool SWIGLU>
int launch(TcArgs a, int type, const float *x, int cols, int n, void *stream) {
    cudaStream_t s = alma_stream(stream);
    return a.gamma ? launch_variant<SWIGLU, true>(a, type, x, cols, n, s)
                   : launch_variant<SWIGLU, false>(a, type, x, cols, n, s);
}

bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

// The RMSNorm folded into the products: gamma == nullptr for none.
struct TcNorm {
    const float *gamma;
    float *h;
    float eps;
    const int *positions;  // RoPE of matrices 0 and 1 (tc3 only), or nullptr
    int head_dim;
    int interleaved;
    double theta;
};
constexpr TcNorm NO_NORM = {nullptr, nullptr, 0.f, nullptr, 0, 0, 0.0};

// The streamed GEMVs instead (gemv_stream.cu), while a streamed variant and alma_gemv_stream_beams are on: -1 where
// they do not take the shape.
int streamed(const void *w0, const void *w1, const void *w2, int type, int rows0, int rows1, int rows2,
             const float *x, float *y0, float *y1, float *y2, int cols, int n, int accumulate, bool swiglu,
             const TcNorm &norm, void *stream) {
    if (alma_gemv_variant_ == 0 || !alma_gemv_stream_beams_ || n < 2) return -1;
    NormArgs nm = {norm.gamma, norm.h, norm.eps};
    RopeArgs ra = {norm.positions, norm.head_dim, norm.interleaved, norm.theta};
    return alma_gemv_stream(w0, w1, w2, type, rows0, rows1, rows2, x, y0, y1, y2, cols, n, accumulate, swiglu, nm, ra,
                            alma_stream(stream));
}

int tc3(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
        const float *d_x, float *d_y0, float *d_y1, float *d_y2, int cols, int n, int accumulate, TcNorm norm,
        void *stream) {
    ALMA_REQUIRE(rows0 >= 0 && rows1 >= 0 && rows2 >= 0 && cols > 0 && cols % 8 == 0 && n >= 0 &&
                 n <= ALMA_GEMV_MAX_ROWS && aligned16(d_w0) && (rows1 == 0 || aligned16(d_w1)) &&
                 (rows2 == 0 || aligned16(d_w2)) && aligned16(d_x));
    if (n == 0 || rows0 + rows1 + rows2 == 0) return 0;
    int rc = streamed(d_w0, rows1 ? d_w1 : d_w0, rows2 ? d_w2 : d_w0, type, rows0, rows1, rows2, d_x, d_y0, d_y1,
                      d_y2, cols, n, accumulate, false, norm, stream);
    if (rc >= 0) return rc;
    TcArgs a;
    a.w[0] = d_w0; a.w[1] = d_w1; a.w[2] = d_w2;
    a.y[0] = d_y0; a.y[1] = d_y1; a.y[2] = d_y2;
    a.rows[0] = rows0; a.rows[1] = rows1; a.rows[2] = rows2;
    for (int i = 0; i < 3; i++) a.blocks[i] = (a.rows[i] + 15) / 16;
    a.accumulate = accumulate;
    a.gamma = norm.gamma; a.h = norm.h; a.eps = norm.eps;
    a.positions = norm.positions; a.head_dim = norm.head_dim; a.interleaved = norm.interleaved; a.theta = norm.theta;
    return launch<false>(a, type, d_x, cols, n, stream);
}

int tc_swiglu(const void *d_wg, const void *d_wu, int type, const float *d_x, float *d_y, int rows, int cols, int n,
              TcNorm norm, void *stream) {
    ALMA_REQUIRE(rows >= 0 && cols > 0 && cols % 8 == 0 && n >= 0 && n <= ALMA_GEMV_MAX_ROWS && aligned16(d_wg) &&
                 aligned16(d_wu) && aligned16(d_x));
    if (n == 0 || rows == 0) return 0;
    int rc = streamed(d_wg, d_wu, d_wg, type, rows, rows, 0, d_x, d_y, nullptr, nullptr, cols, n, 0, true, norm, stream);
    if (rc >= 0) return rc;
    TcArgs a;
    a.w[0] = d_wg; a.w[1] = d_wu; a.w[2] = nullptr;
    a.y[0] = d_y; a.y[1] = a.y[2] = nullptr;
    a.rows[0] = rows; a.rows[1] = a.rows[2] = 0;
    a.blocks[0] = (rows + 15) / 16; a.blocks[1] = a.blocks[2] = 0;
    a.accumulate = 0;
    a.gamma = norm.gamma; a.h = norm.h; a.eps = norm.eps;
    a.positions = nullptr; a.head_dim = 0; a.interleaved = 0; a.theta = 0.0;
    return launch<true>(a, type, d_x, cols, n, stream);
}

}  // namespace

extern "C" {

int alma_gemv_tc_set_variant(int variant) {
    ALMA_REQUIRE(variant >= 0 && variant < TC_VARIANT_COUNT);
    tc_variant = variant;
    return 0;
}

int alma_gemv_tc3(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1, int rows2,
                  const float *d_x, float *d_y0, float *d_y1, float *d_y2, int cols, int n, int accumulate,
                  void *stream) {
    return tc3(d_w0, d_w1, d_w2, type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, n, accumulate, NO_NORM,
               stream);
}

int alma_gemv_tc(const void *d_w, int type, const float *d_x, float *d_y, int rows, int cols, int n, void *stream) {
    return tc3(d_w, nullptr, nullptr, type, rows, 0, 0, d_x, d_y, nullptr, nullptr, cols, n, 0, NO_NORM, stream);
}

int alma_gemv_tc_swiglu(const void *d_wg, const void *d_wu, int type, const float *d_x, float *d_y, int rows,
                        int cols, int n, void *stream) {
    return tc_swiglu(d_wg, d_wu, type, d_x, d_y, rows, cols, n, NO_NORM, stream);
}

int alma_gemv_tc3_norm(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1,
                       int rows2, const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0,
                       float *d_y1, float *d_y2, int cols, int n, void *stream) {
    ALMA_REQUIRE(aligned16(d_gamma) && d_h != nullptr);
    return tc3(d_w0, d_w1, d_w2, type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, n, 0,
               TcNorm{d_gamma, d_h, eps, nullptr, 0, 0, 0.0}, stream);
}

int alma_gemv_tc3_norm_rope(const void *d_w0, const void *d_w1, const void *d_w2, int type, int rows0, int rows1,
                            int rows2, const float *d_x, const float *d_gamma, float eps, float *d_h, float *d_y0,
                            float *d_y1, float *d_y2, int cols, int n, const int *d_positions, int head_dim,
                            double theta, int interleaved, void *stream) {
    ALMA_REQUIRE(aligned16(d_gamma) && d_h != nullptr && d_positions != nullptr && head_dim > 0 &&
                 head_dim % 16 == 0 && rows0 % head_dim == 0 && rows1 % head_dim == 0);
    return tc3(d_w0, d_w1, d_w2, type, rows0, rows1, rows2, d_x, d_y0, d_y1, d_y2, cols, n, 0,
               TcNorm{d_gamma, d_h, eps, d_positions, head_dim, interleaved, theta}, stream);
}

int alma_gemv_tc_swiglu_norm(const void *d_wg, const void *d_wu, int type, const float *d_x, const float *d_gamma,
                             float eps, float *d_h, float *d_y, int rows, int cols, int n, void *stream) {
    ALMA_REQUIRE(aligned16(d_gamma) && d_h != nullptr);
    return tc_swiglu(d_wg, d_wu, type, d_x, d_y, rows, cols, n, TcNorm{d_gamma, d_h, eps, nullptr, 0, 0, 0.0},
                     stream);
}

}  // extern "C"
