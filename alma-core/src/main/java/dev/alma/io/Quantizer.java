package dev.alma.io;

import dev.alma.tensor.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes float rows in a storage type's little-endian layout: F32, F16, BF16 (round to nearest even), and the
 * block types Q8_0 and Q4_0 with llama.cpp's reference rounding (Q8_0: {@code d = max|x| / 127},
 * {@code q = round(x / d)} (halves away from zero); Q4_0: {@code d = m / -8} for the value {@code m} of largest magnitude,
 * {@code q = min(15, trunc(x / d + 8.5))}), each scale stored as f16. Q4_K, Q5_K and Q6_K use a plain min/max
 * scheme (not llama.cpp's error-minimizing search, so their error is somewhat larger than llama.cpp's):
 * Q4_K and Q5_K take each 32-value sub-block's minimum (at most 0) and range / 15 (Q5_K: / 31) as 6-bit multiples of
 * the super-block's {@code dmin} and {@code d}; Q6_K takes each 16 values' max|x| / 31 as an int8 multiple of {@code d}.
 */
public final class Quantizer {
    private Quantizer() {
    }

    /** True when {@link #encode} can write {@code type}. */
    public static boolean supports(DType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Writes {@code x[off .. off+n)} to {@code out} (which must be little-endian) as {@code type}; {@code n} must be
     * a whole number of blocks.
     */
    public static void encode(DType type, float[] x, int off, int n, ByteBuffer out) {
        if (out.order() != ByteOrder.LITTLE_ENDIAN) throw new IllegalArgumentException("buffer must be little-endian");
        if (n % type.blockSize() != 0)
            throw new IllegalArgumentException(n + " values are not a whole number of " + type + " blocks");
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) out.putFloat(x[off + i]);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) out.putShort(Float.floatToFloat16(x[off + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out.putShort(SafeTensorsWriter.toBf16(x[off + i]));
            }
            case Q8_0 -> {
                for (int b = off; b < off + n; b += 32) q8_0(x, b, out);
            }
            case Q4_0 -> {
                for (int b = off; b < off + n; b += 32) q4_0(x, b, out);
            }
            case Q4_K -> {
                for (int b = off; b < off + n; b += 256) q4K(x, b, out);
            }
            case Q5_K -> {
                for (int b = off; b < off + n; b += 256) q5K(x, b, out);
            }
            case Q6_K -> {
                for (int b = off; b < off + n; b += 256) q6K(x, b, out);
            }
            default -> throw new IllegalArgumentException("cannot encode " + type);
        }
    }

    private static void q8_0(float[] x, int b, ByteBuffer out) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b + i]));
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        out.putShort(Float.floatToFloat16(d));
        for (int i = 0; i < 32; i++) {
            float v = x[b + i] * id;
            int q = Math.round(Math.abs(v)); // C's roundf: halves away from zero
            out.put((byte) (v < 0 ? -q : q));
        }
    }

    private static void q4_0(float[] x, int b, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int i = 0; i < 32; i++) {
            float v = x[b + i];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1 / d : 0;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[b + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[b + 16 + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    /** {@code v} rounded to f16 and back. */
    private static float half(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /**
     * Q4_K's and Q5_K's scales for the super-block at {@code x[b]}: each 32-value sub-block's minimum (at most 0) and
     * range / {@code levels} as 6-bit multiples of {@code dmin} and {@code d} (rounded up so that every value fits
     * the codes).
     */
    private record KScales(float d, float dmin, int[] sc, int[] mn) {
        static KScales of(float[] x, int b, int levels) {
            float[] step = new float[8], low = new float[8];
            float maxStep = 0, maxLow = 0;
            for (int k = 0; k < 8; k++) {
                float min = 0, max = 0;
                for (int i = 32 * k; i < 32 * k + 32; i++) {
                    min = Math.min(min, x[b + i]);
                    max = Math.max(max, x[b + i]);
                }
                low[k] = -min;
                step[k] = (max - min) / levels;
                maxStep = Math.max(maxStep, step[k]);
                maxLow = Math.max(maxLow, low[k]);
            }
            float d = half(maxStep / 63), dmin = half(maxLow / 63);
            int[] sc = new int[8], mn = new int[8];
            for (int k = 0; k < 8; k++) {
                sc[k] = d > 0 ? (int) Math.min(63, Math.ceil(step[k] / d)) : 0;
                mn[k] = dmin > 0 ? (int) Math.min(63, Math.ceil(low[k] / dmin)) : 0;
            }
            return new KScales(d, dmin, sc, mn);
        }

        /** Writes d, dmin and the 12 bytes of scales and mins. */
        void put(ByteBuffer out) {
            out.putShort(Float.floatToFloat16(d)).putShort(Float.floatToFloat16(dmin));
            // scales/mins 0-3 in the low 6 bits of bytes 0-7; 4-7 split into nibbles (bytes 8-11) and top bits of 0-7
            for (int k = 0; k < 4; k++) out.put((byte) (sc[k] | (sc[k + 4] >> 4) << 6));
            for (int k = 0; k < 4; k++) out.put((byte) (mn[k] | (mn[k + 4] >> 4) << 6));
            for (int k = 0; k < 4; k++) out.put((byte) ((sc[k + 4] & 15) | (mn[k + 4] & 15) << 4));
        }

        /** The code in {@code [0, levels]} of value {@code i} of the super-block at {@code x[b]}. */
        int code(float[] x, int b, int i, int levels) {
            int k = i / 32;
            float s = d * sc[k];
            return s > 0 ? Math.clamp(Math.round((x[b + i] + dmin * mn[k]) / s), 0, levels) : 0;
        }
    }

    private static void q4K(float[] x, int b, ByteBuffer out) {
        KScales ks = KScales.of(x, b, 15);
        ks.put(out);
        byte[] qs = new byte[128];
        for (int i = 0; i < 256; i++) {
            int k = i / 32, q = ks.code(x, b, i, 15);
            qs[32 * (k / 2) + i % 32] |= (byte) (k % 2 == 0 ? q : q << 4);
        }
        out.put(qs);
    }

    private static void q5K(float[] x, int b, ByteBuffer out) {
        KScales ks = KScales.of(x, b, 31);
        ks.put(out);
        byte[] qh = new byte[32], qs = new byte[128];
        for (int i = 0; i < 256; i++) {
            // sub-block k: nibbles as Q4_K's, the fifth bit in bit k of qh byte i % 32
            int k = i / 32, q = ks.code(x, b, i, 31);
            qs[32 * (k / 2) + i % 32] |= (byte) (k % 2 == 0 ? q & 15 : (q & 15) << 4);
            qh[i % 32] |= (byte) ((q >> 4) << k);
        }
        out.put(qh).put(qs);
    }

    private static void q6K(float[] x, int b, ByteBuffer out) {
        float[] amax = new float[16];
        float top = 0;
        for (int g = 0; g < 16; g++) {
            for (int i = 16 * g; i < 16 * g + 16; i++) amax[g] = Math.max(amax[g], Math.abs(x[b + i]));
            top = Math.max(top, amax[g]);
        }
        float d = half(top / 31 / 127);
        int[] sc = new int[16];
        for (int g = 0; g < 16; g++) sc[g] = d > 0 ? (int) Math.min(127, Math.ceil(amax[g] / 31 / d)) : 0;
        byte[] ql = new byte[128], qh = new byte[64];
        for (int i = 0; i < 256; i++) {
            float s = d * sc[i / 16];
            int q = (s > 0 ? Math.clamp(Math.round(x[b + i] / s), -32, 31) : 0) + 32;
            // value l of quarter k in a half: low nibble in ql (quarters 0/1 low, 2/3 high), top 2 bits in qh pair k
            int half = i / 128, k = i % 128 / 32, l = i % 32;
            ql[64 * half + 32 * (k & 1) + l] |= (byte) (k < 2 ? q & 15 : (q & 15) << 4);
            qh[32 * half + l] |= (byte) ((q >> 4) << (2 * k));
        }
        out.put(ql).put(qh);
        for (int v : sc) out.put((byte) v);
        out.putShort(Float.floatToFloat16(d));
    }
}
