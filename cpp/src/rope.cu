// Rotary position embedding in place, Hugging Face rotate-half layout or interleaved pairs; the query and key rows
// of a layer in one launch.
#include "common.cuh"

// One thread per (token, head, pair); heads [0, q_heads) are rows of q, the next k_heads rows of k.
__global__ void rope_kernel(float *q, int q_stride, int q_heads, float *k, int k_stride, int k_heads,
                            const int *positions, int n, int head_dim, double theta, int interleaved) {
    int half = head_dim / 2, heads = q_heads + k_heads;
    size_t total = (size_t)n * heads * half;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < total; t += (size_t)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        int h = (int)((t / half) % heads);
        int i = (int)(t / ((size_t)half * heads));
        float c, s;
        rope_cos_sin(positions[i], j, head_dim, theta, c, s);
        float *row = h < q_heads ? q + (size_t)i * q_stride + (size_t)h * head_dim
                                 : k + (size_t)i * k_stride + (size_t)(h - q_heads) * head_dim;
        int a = interleaved ? 2 * j : j;
        int b = interleaved ? 2 * j + 1 : j + half;
        float x0 = row[a], x1 = row[b];
        row[a] = x0 * c - x1 * s;
        row[b] = x1 * c + x0 * s;
    }
}

extern "C" {

int alma_rope_qk(float *d_q, int q_stride, int heads, float *d_k, int k_stride, int kv_heads, const int *d_positions,
                 int n, int head_dim, double theta, int interleaved, void *stream) {
    ALMA_REQUIRE(n >= 0 && heads >= 0 && kv_heads >= 0 && heads + kv_heads > 0 && head_dim > 0 &&
                 head_dim % 2 == 0 && q_stride >= heads * head_dim && k_stride >= kv_heads * head_dim);
    if (n == 0) return 0;
    size_t total = (size_t)n * (heads + kv_heads) * (head_dim / 2);
    rope_kernel<<<alma_blocks(total, 256), 256, 0, alma_stream(stream)>>>(d_q, q_stride, heads, d_k, k_stride,
                                                                          kv_heads, d_positions, n, head_dim, theta,
                                                                          interleaved);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_rope(float *d_x, const int *d_positions, int n, int heads, int head_dim, int stride, double theta,
              int interleaved, void *stream) {
    ALMA_REQUIRE(heads > 0);
    return alma_rope_qk(d_x, stride, heads, d_x, stride, 0, d_positions, n, head_dim, theta, interleaved, stream);
}

}  // extern "C"
