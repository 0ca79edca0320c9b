package dev.alma.cuda;

import dev.alma.cuda.LaunchTape.Kernel;

/**
 * The launches {@link CudaBackend} records on its {@link LaunchTape}, each a non-capturing function of its argument
 * array (pointers and ints as longs, floats and doubles as their raw bits, the stream last), so that a recorded
 * launch is fully described by its arguments and two launches with equal arguments do the same thing.
 */
final class Kernels {
    private Kernels() {
    }

    static long f(float v) {
        return Float.floatToRawIntBits(v) & 0xffffffffL;
    }

    static long d(double v) {
        return Double.doubleToRawLongBits(v);
    }

    private static float f(long bits) {
        return Float.intBitsToFloat((int) bits);
    }

    private static int i(long v) {
        return (int) v;
    }

    static final Kernel EMBED = a -> AlmaCuda.alma_embed(a[0], i(a[1]), a[2], a[3], i(a[4]), i(a[5]), i(a[6]), a[7]);
    static final Kernel RMSNORM = a -> AlmaCuda.alma_rmsnorm(a[0], a[1], a[2], i(a[3]), i(a[4]), f(a[5]), a[6]);
    static final Kernel ROPE = a -> AlmaCuda.alma_rope(a[0], a[1], i(a[2]), i(a[3]), i(a[4]), i(a[5]),
            Double.longBitsToDouble(a[6]), i(a[7]), a[8]);
    static final Kernel ROPE_QK = a -> AlmaCuda.alma_rope_qk(a[0], i(a[1]), i(a[2]), a[3], i(a[4]), i(a[5]), a[6],
            i(a[7]), i(a[8]), Double.longBitsToDouble(a[9]), i(a[10]), a[11]);
    static final Kernel SWIGLU = a -> AlmaCuda.alma_swiglu(a[0], a[1], a[2], a[3]);
    static final Kernel ADD_SCALED = a -> AlmaCuda.alma_add_scaled(a[0], a[1], f(a[2]), a[3], a[4]);
    static final Kernel COPY = a -> AlmaCuda.alma_memcpy_d2d(a[0], a[1], a[2], a[3]);
    static final Kernel CONVERT = a -> AlmaCuda.alma_convert_f32(a[0], a[1], i(a[2]), a[3], a[4]);
    static final Kernel GEMV = a -> AlmaCuda.alma_gemv(a[0], i(a[1]), a[2], a[3], i(a[4]), i(a[5]), i(a[6]), a[7]);
    static final Kernel GEMV_TC = a -> AlmaCuda.alma_gemv_tc(a[0], i(a[1]), a[2], a[3], i(a[4]), i(a[5]), i(a[6]), a[7]);
    static final Kernel GEMV_ADD = a -> AlmaCuda.alma_gemv_add(a[0], i(a[1]), a[2], a[3], i(a[4]), i(a[5]), i(a[6]), a[7]);
    static final Kernel GEMV_TC3 = a -> AlmaCuda.alma_gemv_tc3(a[0], a[1], a[2], i(a[3]), i(a[4]), i(a[5]), i(a[6]),
            a[7], a[8], a[9], a[10], i(a[11]), i(a[12]), i(a[13]), a[14]);
    static final Kernel GEMV_TC_SWIGLU = a -> AlmaCuda.alma_gemv_tc_swiglu(a[0], a[1], i(a[2]), a[3], a[4], i(a[5]),
            i(a[6]), i(a[7]), a[8]);
    static final Kernel GEMV3 = a -> AlmaCuda.alma_gemv3(a[0], a[1], a[2], i(a[3]), i(a[4]), i(a[5]), i(a[6]), a[7],
            a[8], a[9], a[10], i(a[11]), i(a[12]), a[13]);
    static final Kernel GEMV3_NORM = a -> AlmaCuda.alma_gemv3_norm(a[0], a[1], a[2], i(a[3]), i(a[4]), i(a[5]), i(a[6]),
            a[7], a[8], f(a[9]), a[10], a[11], a[12], a[13], i(a[14]), i(a[15]), a[16]);
    static final Kernel GEMV3_NORM_ROPE = a -> AlmaCuda.alma_gemv3_norm_rope(a[0], a[1], a[2], i(a[3]), i(a[4]),
            i(a[5]), i(a[6]), a[7], a[8], f(a[9]), a[10], a[11], a[12], a[13], i(a[14]), i(a[15]), a[16], i(a[17]),
            Double.longBitsToDouble(a[18]), i(a[19]), a[20]);
    static final Kernel GEMV_TC3_NORM_ROPE = a -> AlmaCuda.alma_gemv_tc3_norm_rope(a[0], a[1], a[2], i(a[3]), i(a[4]),
            i(a[5]), i(a[6]), a[7], a[8], f(a[9]), a[10], a[11], a[12], a[13], i(a[14]), i(a[15]), a[16], i(a[17]),
            Double.longBitsToDouble(a[18]), i(a[19]), a[20]);
    static final Kernel GEMV_SWIGLU_NORM = a -> AlmaCuda.alma_gemv_swiglu_norm(a[0], a[1], i(a[2]), a[3], a[4], f(a[5]),
            a[6], a[7], i(a[8]), i(a[9]), i(a[10]), a[11]);
    static final Kernel GEMV_TC3_NORM = a -> AlmaCuda.alma_gemv_tc3_norm(a[0], a[1], a[2], i(a[3]), i(a[4]), i(a[5]),
            i(a[6]), a[7], a[8], f(a[9]), a[10], a[11], a[12], a[13], i(a[14]), i(a[15]), a[16]);
    static final Kernel GEMV_TC_SWIGLU_NORM = a -> AlmaCuda.alma_gemv_tc_swiglu_norm(a[0], a[1], i(a[2]), a[3], a[4],
            f(a[5]), a[6], a[7], i(a[8]), i(a[9]), i(a[10]), a[11]);
    static final Kernel GEMV_SWIGLU = a -> AlmaCuda.alma_gemv_swiglu(a[0], a[1], i(a[2]), a[3], a[4], i(a[5]), i(a[6]),
            i(a[7]), a[8]);
    static final Kernel GEMM = a -> AlmaCuda.alma_gemm(a[0], i(a[1]), a[2], i(a[3]), a[4], i(a[5]), i(a[6]), i(a[7]), a[8]);
    static final Kernel KV_STORE = a -> AlmaCuda.alma_kv_store(a[0], a[1], i(a[2]), a[3], i(a[4]), a[5], a[6], i(a[7]),
            i(a[8]), i(a[9]), i(a[10]), i(a[11]), a[12]);
    static final Kernel PREFILL = a -> AlmaCuda.alma_attention_prefill(a[0], i(a[1]), a[2], a[3], i(a[4]), a[5], i(a[6]),
            i(a[7]), i(a[8]), i(a[9]), i(a[10]), f(a[11]), a[12]);
    static final Kernel PREFILL_TC = a -> AlmaCuda.alma_attention_prefill_tc(a[0], i(a[1]), a[2], a[3], i(a[4]), a[5],
            i(a[6]), i(a[7]), i(a[8]), i(a[9]), i(a[10]), f(a[11]), a[12]);
    static final Kernel PAGED = a -> AlmaCuda.alma_attention_paged(a[0], i(a[1]), a[2], i(a[3]), a[4], i(a[5]), a[6],
            a[7], i(a[8]), a[9], a[10], i(a[11]), i(a[12]), i(a[13]), i(a[14]), i(a[15]), i(a[16]), i(a[17]),
            f(a[18]), i(a[19]), a[20], a[21], i(a[22]), a[23], a[24], a[25]);
    static final Kernel GEMV_Q8_0 = a -> AlmaCuda.alma_gemv_q8_0(a[0], a[1], a[2], a[3], i(a[4]), i(a[5]), i(a[6]), a[7]);
    static final Kernel DEQUANT_Q8_0 = a -> AlmaCuda.alma_q8_0_dequant(a[0], a[1], a[2], i(a[3]), a[4], a[5]);
    static final Kernel EMBED_Q8_0 = a -> AlmaCuda.alma_embed_q8_0(a[0], a[1], a[2], a[3], i(a[4]), i(a[5]), i(a[6]), a[7]);
}
