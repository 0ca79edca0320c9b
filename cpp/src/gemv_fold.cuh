// What the decode GEMVs fold into their products (gemv.cu, gemv_stream.cu): the RMSNorm before them and RoPE after
// the query and key projections.
#pragma once
#include "common.cuh"

// The RMSNorm folded into a GEMV (gamma == nullptr: none).
struct NormArgs {
    const float *gamma;
    float *h;
    float eps;
};

// Whether rows of cols elements of type T are read in 16-byte chunks: cols a multiple of the chunk's elements and
// every base (the weights, x, γ where there is one) 16-byte aligned.
template <typename T>
static inline bool vectorizable(int cols, const void *w0, const void *w1, const void *w2, const float *x,
                                const float *gamma) {
    uintptr_t bits = (uintptr_t)w0 | (uintptr_t)w1 | (uintptr_t)w2 | (uintptr_t)x | (uintptr_t)gamma;
    return cols % Vec16<T>::N == 0 && (bits & 15) == 0;
}

// Each token's 1 / RMS from its sum of squares, computed as alma_rmsnorm does.
template <int N>
__device__ __forceinline__ void rms_inv(const float ss[N], int cols, float eps, float inv[N]) {
#pragma unroll
    for (int t = 0; t < N; t++) inv[t] = (float)(1.0 / sqrt((double)(ss[t] / (float)cols + eps)));
}

// RoPE folded into the products of matrices 0 and 1 (queries and keys): the rows a rotation mixes (d and
// d + head_dim / 2 of a head, or 2j and 2j + 1 interleaved) are computed side by side and their products rotated by
// the token's angle, computed as alma_rope_qk computes it.
struct RopeArgs {
    const int *positions;  // [n]
    int head_dim;
    int interleaved;
    double theta;
};

// The row of matrix 0 or 1 computed r-th in pair order: r even and r + 1 are a pair, (d, d + half) of a head in the
// rotate-half layout; interleaved pairs are adjacent rows anyway.
__device__ __forceinline__ int rope_row(int r, RopeArgs ra) {
    if (ra.interleaved) return r;
    int half = ra.head_dim / 2, pair = r >> 1;
    return (pair / half) * ra.head_dim + pair % half + (r & 1) * half;
}

// The product of `row` (a row rope_row gave) rotated with its partner's product `other` at the token's position:
// the pair's first row (second == false) becomes p cos - other sin, the second p cos + other sin.
__device__ __forceinline__ float rope_rotate(float p, float other, int row, bool second, int position, RopeArgs ra) {
    int d = ra.interleaved ? (row % ra.head_dim) >> 1 : row % ra.head_dim % (ra.head_dim / 2);
    float c, sn;
    rope_cos_sin(position, d, ra.head_dim, ra.theta, c, sn);
    return second ? p * c + other * sn : p * c - other * sn;
}

// The streamed GEMVs (gemv_stream.cu), taken by gemv.cu's entry points for one token while alma_gemv_set_variant
// selected them, and by gemv_tc.cu's for 2..5 tokens while alma_gemv_stream_beams is on too: the products of up to
// three stacked matrices (swiglu: gate w0 and up w1 into y0) for n tokens x [n][cols] (each y [n][its rows]), with
// what nm and ra fold in. -1 where the shape or type does not suit them (the caller then launches its own kernels),
// else 0 or a CUDA error.
extern int alma_gemv_variant_, alma_gemv_stream_beams_;
int alma_gemv_stream(const void *w0, const void *w1, const void *w2, int type, int rows0, int rows1, int rows2,
                     const float *x, float *y0, float *y1, float *y2, int cols, int n, int accumulate, bool swiglu,
                     NormArgs nm, RopeArgs ra, cudaStream_t s);
