// Q8_0 weights (GGUF: blocks of an f16 scale d and 32 int8 values q; a value is d*q), kept on the device as two
// arrays: q [rows][cols] int8 and d [rows][cols/32] f16, unpacked once at upload. Weight-only int8 GEMV for decoding
// (dequantized in registers, float32 activations and accumulation), dequantization to f32/f16/bf16 (prompts go
// through the GEMM) and the embedding gather of a Q8_0 table.
#include "common.cuh"

constexpr int Q8_WARPS = 4;

// One thread per block: the 2-byte-aligned 34-byte GGUF block into the aligned q and d arrays.
__global__ void q8_0_unpack_kernel(const unsigned char *raw, signed char *q, __half *d, size_t blocks) {
    size_t b = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= blocks) return;
    const unsigned short *src = reinterpret_cast<const unsigned short *>(raw + b * 34);
    unsigned short s = src[0];
    d[b] = *reinterpret_cast<const __half *>(&s);
    unsigned short *dst = reinterpret_cast<unsigned short *>(q + b * 32);
#pragma unroll
    for (int i = 0; i < 16; i++) dst[i] = src[1 + i];
}

// One warp per weight row: each lane takes 16 int8 values (half a block) per step with one 16-byte load, sums
// their products with the N activation rows, then scales by the block's d.
template <int N>
__global__ void gemv_q8_0_kernel(const signed char *q, const __half *d, const float *x, float *y, int rows, int cols) {
    int r = blockIdx.x * Q8_WARPS + (threadIdx.x >> 5);
    if (r >= rows) return;
    int lane = threadIdx.x & 31;
    const signed char *qr = q + (size_t)r * cols;
    const __half *dr = d + (size_t)r * (cols / 32);
    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    int chunks = cols / 16;
#pragma unroll 2
    for (int c = lane; c < chunks; c += 32) {
        int4 packed = __ldg(reinterpret_cast<const int4 *>(qr + (size_t)c * 16));
        const signed char *v = reinterpret_cast<const signed char *>(&packed);
        float scale = __half2float(dr[c >> 1]);
        float w[16];
#pragma unroll
        for (int i = 0; i < 16; i++) w[i] = (float)v[i];
#pragma unroll
        for (int t = 0; t < N; t++) {
            const float4 *xp = reinterpret_cast<const float4 *>(x + (size_t)t * cols + (size_t)c * 16);
            float s = 0.f;
#pragma unroll
            for (int k = 0; k < 4; k++) {
                float4 xv = __ldg(xp + k);
                s += w[4 * k] * xv.x + w[4 * k + 1] * xv.y + w[4 * k + 2] * xv.z + w[4 * k + 3] * xv.w;
            }
            acc[t] += scale * s;
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = warp_sum(acc[t]);
    if (lane == 0) {
#pragma unroll
        for (int t = 0; t < N; t++) y[(size_t)t * rows + r] = acc[t];
    }
}

template <typename T>
__global__ void q8_0_dequant_kernel(const signed char *q, const __half *d, T *out, size_t count) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    float v = __half2float(d[i / 32]) * (float)q[i];
    if constexpr (sizeof(T) == 4) out[i] = v;
    else if constexpr (std::is_same<T, __half>::value) out[i] = __float2half_rn(v);
    else out[i] = __float2bfloat16_rn(v);
}

__global__ void embed_q8_0_kernel(const signed char *q, const __half *d, const int *tokens, float *out, int cols,
                                  int vocab) {
    int tok = tokens[blockIdx.x];
    float *o = out + (size_t)blockIdx.x * cols;
    bool ok = tok >= 0 && tok < vocab;
    size_t base = (size_t)(ok ? tok : 0) * cols;
    for (int j = threadIdx.x; j < cols; j += blockDim.x)
        o[j] = ok ? __half2float(d[(base + j) / 32]) * (float)q[base + j] : 0.f;
}

extern "C" {

int alma_q8_0_unpack(const void *d_raw, void *d_q, void *d_scales, size_t blocks, void *stream) {
    if (blocks == 0) return 0;
    ALMA_REQUIRE(((uintptr_t)d_raw & 1) == 0 && ((uintptr_t)d_q & 1) == 0 && ((uintptr_t)d_scales & 1) == 0);
    q8_0_unpack_kernel<<<(unsigned)((blocks + 255) / 256), 256, 0, alma_stream(stream)>>>(
        (const unsigned char *)d_raw, (signed char *)d_q, (__half *)d_scales, blocks);
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_gemv_q8_0(const void *d_q, const void *d_scales, const float *d_x, float *d_y, int rows, int cols, int n,
                   void *stream) {
    ALMA_REQUIRE(rows >= 0 && cols > 0 && cols % 32 == 0 && n >= 0 && n <= ALMA_GEMV_MAX_ROWS);
    ALMA_REQUIRE(((uintptr_t)d_q & 15) == 0 && ((uintptr_t)d_x & 15) == 0);
    if (n == 0 || rows == 0) return 0;
    dim3 grid((rows + Q8_WARPS - 1) / Q8_WARPS);
    cudaStream_t s = alma_stream(stream);
    const signed char *q = (const signed char *)d_q;
    const __half *d = (const __half *)d_scales;
    switch (n) {
    case 1: gemv_q8_0_kernel<1><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    case 2: gemv_q8_0_kernel<2><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    case 3: gemv_q8_0_kernel<3><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    case 4: gemv_q8_0_kernel<4><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    case 5: gemv_q8_0_kernel<5><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    case 6: gemv_q8_0_kernel<6><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    case 7: gemv_q8_0_kernel<7><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    default: gemv_q8_0_kernel<8><<<grid, 32 * Q8_WARPS, 0, s>>>(q, d, d_x, d_y, rows, cols); break;
    }
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_q8_0_dequant(const void *d_q, const void *d_scales, void *d_out, int type, size_t count, void *stream) {
    ALMA_REQUIRE(count % 32 == 0);
    if (count == 0) return 0;
    unsigned blocks = (unsigned)((count + 255) / 256);
    const signed char *q = (const signed char *)d_q;
    const __half *d = (const __half *)d_scales;
    ALMA_DISPATCH_TYPE(type, T,
        q8_0_dequant_kernel<T><<<blocks, 256, 0, alma_stream(stream)>>>(q, d, (T *)d_out, count));
    ALMA_CHECK_LAUNCH();
    return 0;
}

int alma_embed_q8_0(const void *d_q, const void *d_scales, const int *d_tokens, float *d_out, int n, int cols,
                    int vocab, void *stream) {
    ALMA_REQUIRE(n >= 0 && cols > 0 && cols % 32 == 0 && vocab > 0);
    if (n == 0) return 0;
    embed_q8_0_kernel<<<n, 256, 0, alma_stream(stream)>>>((const signed char *)d_q, (const __half *)d_scales,
                                                           d_tokens, d_out, cols, vocab);
    ALMA_CHECK_LAUNCH();
    return 0;
}

}  // extern "C"
