package dev.alma.cuda;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI bindings of {@code cpp/include/alma_cuda.h}, generated and compiled by JavaCPP's Builder (the {@code cuda}
 * Maven profile) into {@code libjniAlmaCuda}, which links the kernels ({@code libalma_cuda.a}) and the static CUDA
 * runtime, so only the driver is needed at run time. Device and host pointers travel as {@code long}; every function
 * returns a {@code cudaError_t} (0 on success). Load with {@link CudaRuntime#load()} before calling.
 */
@Platform(include = "alma_cuda.h", link = {"rt", "dl", "pthread", "cudart_static", "alma_cuda"})
final class AlmaCuda {
    private AlmaCuda() {
    }

    // ---- runtime
    static native @Cast("const char*") String alma_error_string(int code);

    static native int alma_device_count(int[] count);

    static native int alma_device_info(int device, @Cast("char*") byte[] name, int len, int[] capability, int[] sms);

    static native int alma_set_device(int device);

    static native int alma_set_pdl(int on);

    static native int alma_mem_info(@Cast("size_t*") long[] free, @Cast("size_t*") long[] total);

    static native int alma_malloc(@Cast("void**") long[] ptr, @Cast("size_t") long bytes);

    static native int alma_free(@Cast("void*") long ptr);

    static native int alma_memset(@Cast("void*") long ptr, int value, @Cast("size_t") long bytes,
                                  @Cast("void*") long stream);

    static native int alma_memcpy_h2d(@Cast("void*") long dst, @Cast("const void*") long src,
                                      @Cast("size_t") long bytes, @Cast("void*") long stream);

    static native int alma_memcpy_d2h(@Cast("void*") long dst, @Cast("const void*") long src,
                                      @Cast("size_t") long bytes, @Cast("void*") long stream);

    static native int alma_memcpy_d2d(@Cast("void*") long dst, @Cast("const void*") long src,
                                      @Cast("size_t") long bytes, @Cast("void*") long stream);

    static native int alma_stream_create(@Cast("void**") long[] stream);

    static native int alma_stream_destroy(@Cast("void*") long stream);

    static native int alma_stream_sync(@Cast("void*") long stream);

    static native int alma_event_create(@Cast("void**") long[] event);

    static native int alma_event_destroy(@Cast("void*") long event);

    static native int alma_event_record(@Cast("void*") long event, @Cast("void*") long stream);

    static native int alma_event_elapsed(@Cast("void*") long start, @Cast("void*") long end, float[] ms);

    static native int alma_event_sync(@Cast("void*") long event);

    static native int alma_malloc_host(@Cast("void**") long[] ptr, @Cast("size_t") long bytes);

    static native int alma_free_host(@Cast("void*") long ptr);

    static native int alma_memcpy_h2d_async(@Cast("void*") long dst, @Cast("const void*") long src,
                                            @Cast("size_t") long bytes, @Cast("void*") long stream);

    // ---- Q8_0 weights
    static native int alma_q8_0_unpack(@Cast("const void*") long raw, @Cast("void*") long q, @Cast("void*") long scales,
                                       @Cast("size_t") long blocks, @Cast("void*") long stream);

    static native int alma_gemv_q8_0(@Cast("const void*") long q, @Cast("const void*") long scales,
                                     @Cast("const float*") long x, @Cast("float*") long y, int rows, int cols, int n,
                                     @Cast("void*") long stream);

    static native int alma_q8_0_dequant(@Cast("const void*") long q, @Cast("const void*") long scales,
                                        @Cast("void*") long out, int type, @Cast("size_t") long count,
                                        @Cast("void*") long stream);

    static native int alma_embed_q8_0(@Cast("const void*") long q, @Cast("const void*") long scales,
                                      @Cast("const int*") long tokens, @Cast("float*") long out, int n, int cols,
                                      int vocab, @Cast("void*") long stream);

    // ---- CUDA graphs
    static native int alma_graph_begin(@Cast("void*") long stream);

    static native int alma_graph_end(@Cast("void*") long stream, @Cast("void**") long[] exec);

    static native int alma_graph_launch(@Cast("void*") long exec, @Cast("void*") long stream);

    static native int alma_graph_destroy(@Cast("void*") long exec);

    // ---- element-wise and small ops
    static native int alma_convert_f32(@Cast("const float*") long src, @Cast("void*") long dst, int type,
                                       @Cast("size_t") long count, @Cast("void*") long stream);

    static native int alma_convert_to_f32(@Cast("const void*") long src, int type, @Cast("float*") long dst,
                                          @Cast("size_t") long count, @Cast("void*") long stream);

    static native int alma_fill_uniform(@Cast("void*") long dst, int type, @Cast("size_t") long count,
                                        @Cast("unsigned long long") long seed, float scale,
                                        @Cast("void*") long stream);

    static native int alma_add_scaled(@Cast("float*") long x, @Cast("const float*") long y, float scale,
                                      @Cast("size_t") long count, @Cast("void*") long stream);

    static native int alma_swiglu(@Cast("float*") long gate, @Cast("const float*") long up,
                                  @Cast("size_t") long count, @Cast("void*") long stream);

    static native int alma_rmsnorm(@Cast("const float*") long x, @Cast("const float*") long gamma,
                                   @Cast("float*") long out, int n, int cols, float eps, @Cast("void*") long stream);

    static native int alma_rope(@Cast("float*") long x, @Cast("const int*") long positions, int n, int heads,
                                int headDim, int stride, double theta, int interleaved, @Cast("void*") long stream);

    static native int alma_rope_qk(@Cast("float*") long q, int qStride, int heads, @Cast("float*") long k,
                                   int kStride, int kvHeads, @Cast("const int*") long positions, int n, int headDim,
                                   double theta, int interleaved, @Cast("void*") long stream);

    static native int alma_embed(@Cast("const void*") long table, int type, @Cast("const int*") long tokens,
                                 @Cast("float*") long out, int n, int cols, int vocab, @Cast("void*") long stream);

    static native int alma_argmax(@Cast("const float*") long x, int n, int cols, @Cast("int*") long out,
                                  @Cast("void*") long stream);

    static native int alma_topk(@Cast("const float*") long x, int n, int cols, int k, @Cast("float*") long values,
                                @Cast("int*") long indices, @Cast("void*") long stream);

    static native int alma_topk_lse(@Cast("const float*") long x, int n, int cols, int k, @Cast("float*") long values,
                                    @Cast("int*") long indices, @Cast("float*") long lse, @Cast("void*") long stream);

    // ---- matrix products
    static native int alma_gemv(@Cast("const void*") long w, int type, @Cast("const float*") long x,
                                @Cast("float*") long y, int rows, int cols, int n, @Cast("void*") long stream);

    static native int alma_gemv_add(@Cast("const void*") long w, int type, @Cast("const float*") long x,
                                    @Cast("float*") long y, int rows, int cols, int n, @Cast("void*") long stream);

    static native int alma_gemv_tc(@Cast("const void*") long w, int type, @Cast("const float*") long x,
                                   @Cast("float*") long y, int rows, int cols, int n, @Cast("void*") long stream);

    static native int alma_gemv_tc_set_variant(int variant);

    static native int alma_gemv_set_variant(int variant);

    static native int alma_gemv_variant();

    static native int alma_gemv_stream_beams(int on);

    static native int alma_gemv_tc3(@Cast("const void*") long w0, @Cast("const void*") long w1,
                                    @Cast("const void*") long w2, int type, int rows0, int rows1, int rows2,
                                    @Cast("const float*") long x, @Cast("float*") long y0, @Cast("float*") long y1,
                                    @Cast("float*") long y2, int cols, int n, int accumulate,
                                    @Cast("void*") long stream);

    static native int alma_gemv_tc_swiglu(@Cast("const void*") long wg, @Cast("const void*") long wu, int type,
                                          @Cast("const float*") long x, @Cast("float*") long y, int rows, int cols,
                                          int n, @Cast("void*") long stream);

    static native int alma_gemv3(@Cast("const void*") long w0, @Cast("const void*") long w1,
                                 @Cast("const void*") long w2, int type, int rows0, int rows1, int rows2,
                                 @Cast("const float*") long x, @Cast("float*") long y0, @Cast("float*") long y1,
                                 @Cast("float*") long y2, int cols, int n, @Cast("void*") long stream);

    static native int alma_gemv_swiglu(@Cast("const void*") long wg, @Cast("const void*") long wu, int type,
                                       @Cast("const float*") long x, @Cast("float*") long y, int rows, int cols,
                                       int n, @Cast("void*") long stream);

    static native int alma_gemv3_norm(@Cast("const void*") long w0, @Cast("const void*") long w1,
                                      @Cast("const void*") long w2, int type, int rows0, int rows1, int rows2,
                                      @Cast("const float*") long x, @Cast("const float*") long gamma, float eps,
                                      @Cast("float*") long h, @Cast("float*") long y0, @Cast("float*") long y1,
                                      @Cast("float*") long y2, int cols, int n, @Cast("void*") long stream);

    static native int alma_gemv3_norm_rope(@Cast("const void*") long w0, @Cast("const void*") long w1,
                                           @Cast("const void*") long w2, int type, int rows0, int rows1, int rows2,
                                           @Cast("const float*") long x, @Cast("const float*") long gamma, float eps,
                                           @Cast("float*") long h, @Cast("float*") long y0, @Cast("float*") long y1,
                                           @Cast("float*") long y2, int cols, int n,
                                           @Cast("const int*") long positions, int headDim, double theta,
                                           int interleaved, @Cast("void*") long stream);

    static native int alma_gemv_tc3_norm_rope(@Cast("const void*") long w0, @Cast("const void*") long w1,
                                              @Cast("const void*") long w2, int type, int rows0, int rows1, int rows2,
                                              @Cast("const float*") long x, @Cast("const float*") long gamma,
                                              float eps, @Cast("float*") long h, @Cast("float*") long y0,
                                              @Cast("float*") long y1, @Cast("float*") long y2, int cols, int n,
                                              @Cast("const int*") long positions, int headDim, double theta,
                                              int interleaved, @Cast("void*") long stream);

    static native int alma_gemv_swiglu_norm(@Cast("const void*") long wg, @Cast("const void*") long wu, int type,
                                            @Cast("const float*") long x, @Cast("const float*") long gamma, float eps,
                                            @Cast("float*") long h, @Cast("float*") long y, int rows, int cols, int n,
                                            @Cast("void*") long stream);

    static native int alma_gemv_tc3_norm(@Cast("const void*") long w0, @Cast("const void*") long w1,
                                         @Cast("const void*") long w2, int type, int rows0, int rows1, int rows2,
                                         @Cast("const float*") long x, @Cast("const float*") long gamma, float eps,
                                         @Cast("float*") long h, @Cast("float*") long y0, @Cast("float*") long y1,
                                         @Cast("float*") long y2, int cols, int n, @Cast("void*") long stream);

    static native int alma_gemv_tc_swiglu_norm(@Cast("const void*") long wg, @Cast("const void*") long wu,
                                               int type, @Cast("const float*") long x,
                                               @Cast("const float*") long gamma, float eps, @Cast("float*") long h,
                                               @Cast("float*") long y, int rows, int cols, int n,
                                               @Cast("void*") long stream);

    static native int alma_gemm(@Cast("const void*") long a, int aType, @Cast("const void*") long w, int wType,
                                @Cast("float*") long c, int m, int n, int k, @Cast("void*") long stream);

    static native int alma_gemm_set_variant(int variant);

    static native int alma_gemm_variant();

    static native int alma_attention_prefill_set_variant(int variant);

    // ---- attention
    static native int alma_attention_prefill(@Cast("const float*") long q, int qStride, @Cast("const float*") long k,
                                             @Cast("const float*") long v, int kvStride, @Cast("float*") long out,
                                             int outStride, int n, int heads, int kvHeads, int headDim, float scale,
                                             @Cast("void*") long stream);

    static native int alma_attention_prefill_tc(@Cast("const void*") long q, int qStride, @Cast("const void*") long k,
                                                @Cast("const void*") long v, int kvStride, @Cast("float*") long out,
                                                int outStride, int n, int heads, int kvHeads, int headDim,
                                                float scale, @Cast("void*") long stream);

    static native int alma_kv_store(@Cast("const float*") long k, @Cast("const float*") long v, int kvStride,
                                    @Cast("void*") long pages, int cacheType, @Cast("const int*") long page,
                                    @Cast("const int*") long slot, int n, int layer, int layers, int pageSize,
                                    int kvDim, @Cast("void*") long stream);

    static native @Cast("size_t") long alma_attention_paged_workspace(int n, int heads, int headDim, int splits);

    static native int alma_attention_paged_set_variant(int variant);

    static native int alma_attention_paged_variant();

    static native int alma_attention_paged(@Cast("const float*") long q, int qStride, @Cast("void*") long pages,
                                           int cacheType, @Cast("const int*") long tables, int tableStride,
                                           @Cast("const int*") long positions, @Cast("float*") long out,
                                           int outStride, @Cast("float*") long workspace,
                                           @Cast("int*") long counters, int n, int heads,
                                           int kvHeads, int headDim, int layer, int layers, int pageSize,
                                           float scale, int splits, @Cast("const float*") long k,
                                           @Cast("const float*") long v, int kvStride, @Cast("const int*") long page,
                                           @Cast("const int*") long slot, @Cast("void*") long stream);
}
