// Embedding gather: rows of a f32/f16/bf16 table into float activations.
#include "common.cuh"

template <typename T>
__global__ void embed_kernel(const T *table, const int *tokens, float *out, int cols, int vocab) {
    int tok = tokens[blockIdx.x];
    float *o = out + (size_t)blockIdx.x * cols;
    bool ok = tok >= 0 && tok < vocab;
    const T *row = table + (size_t)(ok ? tok : 0) * cols;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) o[j] = ok ? to_f32(row[j]) : 0.f;
}

extern "C" int alma_embed(const void *d_table, int type, const int *d_tokens, float *d_out, int n, int cols,
                          int vocab, void *stream) {
    ALMA_REQUIRE(n >= 0 && cols > 0 && vocab > 0);
    if (n == 0) return 0;
    ALMA_DISPATCH_TYPE(type, T,
        embed_kernel<T><<<n, 256, 0, alma_stream(stream)>>>((const T *)d_table, d_tokens, d_out, cols, vocab));
    ALMA_CHECK_LAUNCH();
    return 0;
}
