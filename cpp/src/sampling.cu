// Decoding helpers: argmax and top-k of logit rows (with each row's log-sum-exp for beam search), one block per row.
#include "common.cuh"

// (value, index) order used for ranking: larger value first, lower index first on ties. NaN ranks last.
__device__ __forceinline__ bool ranks_before(float v, int i, float bv, int bi) {
    if (bi < 0) return !isnan(v);
    if (isnan(v)) return false;
    return v > bv || (v == bv && i < bi);
}

// Block-wide best (value, index) among elements ranking strictly after (after_v, after_i) (after_i < 0: no bound).
__device__ void block_best(const float *row, int cols, float after_v, int after_i, float *out_v, int *out_i) {
    __shared__ float sv[32];
    __shared__ int si[32];
    float bv = 0.f;
    int bi = -1;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float v = row[j];
        if (after_i >= 0 && !ranks_before(after_v, after_i, v, j)) continue;  // already taken
        if (ranks_before(v, j, bv, bi)) { bv = v; bi = j; }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && ranks_before(ov, oi, bv, bi)) { bv = ov; bi = oi; }
    }
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        bool has = lane < (int)(blockDim.x >> 5);
        bv = has ? sv[lane] : 0.f;
        bi = has ? si[lane] : -1;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (oi >= 0 && ranks_before(ov, oi, bv, bi)) { bv = ov; bi = oi; }
        }
        if (lane == 0) { sv[0] = bv; si[0] = bi; }
    }
    __syncthreads();
    *out_v = sv[0];
    *out_i = si[0];
    __syncthreads();  // sv/si are reused by the next call
}

__global__ void argmax_kernel(const float *x, int cols, int *out) {
    float v;
    int i;
    block_best(x + (size_t)blockIdx.x * cols, cols, 0.f, -1, &v, &i);
    if (threadIdx.x == 0) out[blockIdx.x] = i < 0 ? 0 : i;
}

// Block-wide sum (op false) or maximum (op true) of one value per thread; every thread gets it.
__device__ float block_reduce(float v, bool max_op) {
    __shared__ float part[32];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float other = __shfl_xor_sync(0xffffffffu, v, o);
        v = max_op ? fmaxf(v, other) : v + other;
    }
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = (int)(blockDim.x >> 5);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = part[0];
    for (int w = 1; w < warps; w++) v = max_op ? fmaxf(v, part[w]) : v + part[w];
    __syncthreads();  // part is reused by the next call
    return v;
}

// log Σ exp(row) = max + log Σ exp(row - max), float32; -inf for a row of -inf.
__device__ float row_logsumexp(const float *row, int cols) {
    float m = -INFINITY;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, row[j]);
    m = block_reduce(m, true);
    if (m == -INFINITY) return m;
    float sum = 0.f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) sum += expf(row[j] - m);
    return m + logf(block_reduce(sum, false));
}

// k rounds of block_best, each taking the best element ranking after the previous pick; with lse != nullptr, each
// row's log-sum-exp first.
__global__ void topk_kernel(const float *x, int cols, int k, float *values, int *indices, float *lse) {
    const float *row = x + (size_t)blockIdx.x * cols;
    if (lse != nullptr) {
        float l = row_logsumexp(row, cols);
        if (threadIdx.x == 0) lse[blockIdx.x] = l;
    }
    float prev_v = 0.f;
    int prev_i = -1;
    for (int r = 0; r < k; r++) {
        float v;
        int i;
        block_best(row, cols, prev_v, prev_i, &v, &i);
        if (i < 0) {  // only NaNs remain: they come last, in index order
            for (int j = 0; j < cols && i < 0; j++) {
                bool taken = false;
                for (int q = 0; q < r; q++) taken |= indices[(size_t)blockIdx.x * k + q] == j;
                if (!taken) i = j;
            }
            v = row[i];
        }
        if (threadIdx.x == 0) {
            values[(size_t)blockIdx.x * k + r] = v;
            indices[(size_t)blockIdx.x * k + r] = i;
        }
        __syncthreads();
        prev_v = v;
        prev_i = i;
    }
}

extern "C" {

int alma_argmax(const float *d_x, int n, int cols, int *d_out, void *stream) {
    ALMA_REQUIRE(n >= 0 && cols > 0);
    if (n == 0) return 0;
    argmax_kernel<<<n, 256, 0, alma_stream(stream)>>>(d_x, cols, d_out);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_topk(const float *d_x, int n, int cols, int k, float *d_values, int *d_indices, void *stream) {
    ALMA_REQUIRE(n >= 0 && cols > 0 && k >= 1 && k <= cols);
    if (n == 0) return 0;
    topk_kernel<<<n, 256, 0, alma_stream(stream)>>>(d_x, cols, k, d_values, d_indices, nullptr);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_topk_lse(const float *d_x, int n, int cols, int k, float *d_values, int *d_indices, float *d_lse,
                  void *stream) {
    ALMA_REQUIRE(n >= 0 && cols > 0 && k >= 1 && k <= cols && d_lse != nullptr);
    if (n == 0) return 0;
    topk_kernel<<<n, 256, 0, alma_stream(stream)>>>(d_x, cols, k, d_values, d_indices, d_lse);
    ALMA_CHECK_LAUNCH();
    return 0;
}

}  // extern "C"
