// The inner loop of the float32 prompt attention: one warp owns one query row and folds a shared-memory tile of up to
// 32 keys into its running (max, sum, accumulator) with the online softmax. Lane j scores key j; lane d owns output
// dimensions d, d+32, ...
#pragma once
#include "common.cuh"

constexpr int ATT_TILE = 32;
constexpr int ATT_DIMS = ALMA_MAX_HEAD_DIM / 32;  // output dimensions per lane at most

struct OnlineSoftmax {
    float m = -INFINITY, l = 0.f;
    float acc[ATT_DIMS];
    __device__ OnlineSoftmax() {
#pragma unroll
        for (int i = 0; i < ATT_DIMS; i++) acc[i] = 0.f;
    }

    // q: the query row (pre-scaled) in shared memory; ks: [ATT_TILE][head_dim + 1]; vs: [ATT_TILE][head_dim].
    // Key lane of this tile is used when valid.
    __device__ __forceinline__ void fold(const float *q, const float *ks, const float *vs, int head_dim, bool valid) {
        int lane = threadIdx.x & 31;
        float s = -INFINITY;
        if (valid) {
            const float *kr = ks + lane * (head_dim + 1);
            float dot = 0.f;
            for (int d = 0; d < head_dim; d++) dot += q[d] * kr[d];
            s = dot;
        }
        float m_new = fmaxf(m, warp_max(s));
        if (m_new == -INFINITY) return;  // nothing valid yet
        float corr = expf(m - m_new);
        float p = valid ? expf(s - m_new) : 0.f;
        l = l * corr + warp_sum(p);
        m = m_new;
#pragma unroll
        for (int i = 0; i < ATT_DIMS; i++) acc[i] *= corr;
        for (int j = 0; j < ATT_TILE; j++) {
            float pj = __shfl_sync(0xffffffffu, p, j);
            if (pj == 0.f) continue;  // uniform over the warp
            const float *vr = vs + j * head_dim;
#pragma unroll
            for (int i = 0; i < ATT_DIMS; i++) {
                int d = lane + 32 * i;
                if (d < head_dim) acc[i] += pj * vr[d];
            }
        }
    }
};

// Shared memory of a block with `queries` query rows: Q [queries][hd], K [32][hd+1], V [32][hd].
static inline size_t attention_smem(int queries, int head_dim) {
    return sizeof(float) * ((size_t)queries * head_dim + (size_t)ATT_TILE * (head_dim + 1) + (size_t)ATT_TILE * head_dim);
}
