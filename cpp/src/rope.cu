// Rotary position embedding in place, Hugging Face rotate-half layout or interleaved pairs.
#include "common.cuh"

// One thread per (token, head, pair).
__global__ void rope_kernel(float *x, const int *positions, int n, int heads, int head_dim, int stride, double theta,
                            int interleaved) {
    int half = head_dim / 2;
    size_t total = (size_t)n * heads * half;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < total; t += (size_t)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        int h = (int)((t / half) % heads);
        int i = (int)(t / ((size_t)half * heads));
        // inv_freq and angle rounded to float32 as transformers computes them.
        float exponent = (float)(2 * j) / (float)head_dim;
        float inv = 1.0f / (float)pow((double)(float)theta, (double)exponent);
        float angle = (float)positions[i] * inv;
        float c = (float)cos((double)angle), s = (float)sin((double)angle);
        float *row = x + (size_t)i * stride + (size_t)h * head_dim;
        int a = interleaved ? 2 * j : j;
        int b = interleaved ? 2 * j + 1 : j + half;
        float x0 = row[a], x1 = row[b];
        row[a] = x0 * c - x1 * s;
        row[b] = x1 * c + x0 * s;
    }
}

extern "C" int alma_rope(float *d_x, const int *d_positions, int n, int heads, int head_dim, int stride, double theta,
                         int interleaved, void *stream) {
    ALMA_REQUIRE(n >= 0 && heads > 0 && head_dim > 0 && head_dim % 2 == 0 && stride >= heads * head_dim);
    if (n == 0) return 0;
    size_t total = (size_t)n * heads * (head_dim / 2);
    rope_kernel<<<alma_blocks(total, 256), 256, 0, alma_stream(stream)>>>(d_x, d_positions, n, heads, head_dim, stride,
                                                                          theta, interleaved);
    ALMA_CHECK_LAUNCH();
    return 0;
}
