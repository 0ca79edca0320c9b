package dev.alma.io;

import dev.alma.tensor.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes float rows in a storage type's little-endian layout: F32, F16, BF16 (round to nearest even), and the
 * block types Q8_0 and Q4_0 with llama.cpp's reference rounding (Q8_0: {@code d = max|x| / 127},
 * {@code q = round(x / d)}; Q4_0: {@code d = m / -8} for the value {@code m} of largest magnitude,
 * {@code q = min(15, trunc(x / d + 8.5))}), each scale stored as f16.
 */
public final class Quantizer {
    private Quantizer() {
    }

    /** True when {@link #encode} can write {@code type}. */
    public static boolean supports(DType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0 -> true;
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
            default -> throw new IllegalArgumentException("cannot encode " + type);
        }
    }

    private static void q8_0(float[] x, int b, ByteBuffer out) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b + i]));
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        out.putShort(Float.floatToFloat16(d));
        for (int i = 0; i < 32; i++) out.put((byte) Math.round(x[b + i] * id));
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
}
