package dev.alma.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector-API dot products on quantized blocks (Q8_0, Q4_0, Q4_K, Q6_K), the companion of {@link Simd}. The
 * quantized values of {@code L} consecutive weights (L = floats per preferred vector) are loaded as L bytes,
 * unpacked with byte-lane operations, widened to floats and multiplied with the activations; each block's scale
 * is applied once per block (or sub-block). Used only when {@link #AVAILABLE}; every caller keeps a scalar path.
 */
final class SimdQuant {
    /** True when the Vector API is usable and its float vectors hold 8 or 16 lanes (the block kernels' layout). */
    static final boolean AVAILABLE = Simd.AVAILABLE && V.L >= 8 && V.L <= 16;

    private SimdQuant() {
    }

    /** The vector code; a nested class so that nothing loads it unless {@link Simd#AVAILABLE}. */
    static final class V {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final int L = F.length();
        /** L bytes, widened to one float vector. */
        static final VectorSpecies<Byte> B = L >= 8 && L <= 16 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
        /** 32 bytes (one Q8_0 block's values), used when {@code L == 16}. */
        static final VectorSpecies<Byte> B32 = L == 16 ? ByteVector.SPECIES_256 : null;
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

        private V() {
        }

        private static FloatVector widen(ByteVector b) {
            return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
        }

        private static ByteVector bytes(MemorySegment w, long off) {
            return ByteVector.fromMemorySegment(B, w, off, LE);
        }

        private static FloatVector scale(MemorySegment w, long off, float d) {
            return FloatVector.broadcast(F, d * w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off));
        }

        private static FloatVector xs(float[] x, int off) {
            return FloatVector.fromArray(F, x, off);
        }

        static float dotQ8_0(MemorySegment w, long base, float[] x, int xOff, int blocks) {
            if (L == 16) return dotQ8_0x16(w, base, x, xOff, blocks);
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            int b = 0;
            for (; b + 2 <= blocks; b += 2) {
                long p = base + (long) b * Q8_0Matrix.BLOCK_BYTES, q = p + Q8_0Matrix.BLOCK_BYTES;
                int xi = xOff + 32 * b;
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                for (int j = 0; j < 32; j += L) {
                    s0 = widen(bytes(w, p + 2 + j)).fma(xs(x, xi + j), s0);
                    s1 = widen(bytes(w, q + 2 + j)).fma(xs(x, xi + 32 + j), s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, q)), acc1);
            }
            for (; b < blocks; b++) acc0 = blockQ8_0(w, base + (long) b * Q8_0Matrix.BLOCK_BYTES, x, xOff + 32 * b, acc0);
            return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }

        /**
         * The 16-lane (AVX-512) form: each block's 32 values are loaded as one 256-bit vector and widened in two
         * halves, two blocks per iteration into two accumulators (a third fewer instructions than two 128-bit loads).
         */
        private static float dotQ8_0x16(MemorySegment w, long base, float[] x, int xOff, int blocks) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            int b = 0;
            for (; b + 2 <= blocks; b += 2) {
                long p = base + (long) b * Q8_0Matrix.BLOCK_BYTES, q = p + Q8_0Matrix.BLOCK_BYTES;
                int xi = xOff + 32 * b;
                ByteVector v0 = ByteVector.fromMemorySegment(B32, w, p + 2, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(B32, w, q + 2, LE);
                FloatVector s0 = half(v0, 0).mul(xs(x, xi));
                FloatVector s1 = half(v1, 0).mul(xs(x, xi + 32));
                s0 = half(v0, 1).fma(xs(x, xi + 16), s0);
                s1 = half(v1, 1).fma(xs(x, xi + 48), s1);
                acc0 = s0.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, q)), acc1);
            }
            for (; b < blocks; b++) acc0 = blockQ8_0(w, base + (long) b * Q8_0Matrix.BLOCK_BYTES, x, xOff + 32 * b, acc0);
            return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }

        /** {@code acc + d · (q · x)} for the Q8_0 block at {@code p}. */
        private static FloatVector blockQ8_0(MemorySegment w, long p, float[] x, int xi, FloatVector acc) {
            FloatVector bs = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) bs = widen(bytes(w, p + 2 + j)).fma(xs(x, xi + j), bs);
            return bs.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc);
        }

        /** Lanes {@code 16·part ..} of 32 bytes, widened to floats. */
        private static FloatVector half(ByteVector v, int part) {
            return (FloatVector) v.convertShape(VectorOperators.B2F, F, part);
        }

        /** Decodes {@code blocks} Q8_0 blocks at {@code base} to {@code out[o ..]}. */
        static void rowQ8_0(MemorySegment w, long base, float[] out, int o, int blocks) {
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q8_0Matrix.BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, QuantMatrix.f16(w, p));
                if (L == 16) {
                    ByteVector v = ByteVector.fromMemorySegment(B32, w, p + 2, LE);
                    half(v, 0).mul(d).intoArray(out, o + 32 * b);
                    half(v, 1).mul(d).intoArray(out, o + 32 * b + 16);
                } else {
                    for (int j = 0; j < 32; j += L) widen(bytes(w, p + 2 + j)).mul(d).intoArray(out, o + 32 * b + j);
                }
            }
        }

        static float dotQ4_0(MemorySegment w, long base, float[] x, int xOff, int blocks) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4_0Matrix.BLOCK_BYTES;
                int xi = xOff + 32 * b;
                FloatVector bs = FloatVector.zero(F);
                for (int j = 0; j < 16; j += L) {
                    ByteVector raw = bytes(w, p + 2 + j);
                    bs = widen(raw.and((byte) 0xF).sub((byte) 8)).fma(xs(x, xi + j), bs);
                    bs = widen(raw.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)).fma(xs(x, xi + 16 + j), bs);
                }
                acc = bs.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        static float dotQ4K(MemorySegment w, long base, float[] x, int xOff, int blocks) {
            int[] sm = new int[16];
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4KMatrix.BLOCK_BYTES;
                float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
                Q4KMatrix.scalesAndMins(w, p + 4, sm);
                int xi = xOff + 256 * b;
                for (int c = 0; c < 4; c++) {
                    FloatVector qx1 = FloatVector.zero(F), sx1 = qx1, qx2 = qx1, sx2 = qx1;
                    for (int j = 0; j < 32; j += L) {
                        ByteVector raw = bytes(w, p + 16 + 32 * c + j);
                        FloatVector x1 = xs(x, xi + 64 * c + j), x2 = xs(x, xi + 64 * c + 32 + j);
                        qx1 = widen(raw.and((byte) 0xF)).fma(x1, qx1);
                        sx1 = sx1.add(x1);
                        qx2 = widen(raw.lanewise(VectorOperators.LSHR, 4)).fma(x2, qx2);
                        sx2 = sx2.add(x2);
                    }
                    acc = qx1.fma(FloatVector.broadcast(F, d * sm[2 * c]), acc);
                    acc = sx1.fma(FloatVector.broadcast(F, -dmin * sm[8 + 2 * c]), acc);
                    acc = qx2.fma(FloatVector.broadcast(F, d * sm[2 * c + 1]), acc);
                    acc = sx2.fma(FloatVector.broadcast(F, -dmin * sm[9 + 2 * c]), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        static float dotQ6K(MemorySegment w, long base, float[] x, int xOff, int blocks) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q6KMatrix.BLOCK_BYTES;
                float d = QuantMatrix.f16(w, p + 208);
                for (int half = 0; half < 2; half++) {
                    long pl = p + 64 * half, ph = p + 128 + 32 * half, ps = p + 192 + 8 * half;
                    int xi = xOff + 256 * b + 128 * half;
                    for (int l = 0; l < 32; l += L) {
                        ByteVector a = bytes(w, pl + l), c = bytes(w, pl + 32 + l), h = bytes(w, ph + l);
                        ByteVector q1 = a.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                        ByteVector q2 = c.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                        ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4));
                        ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4));
                        int g = l / 16;
                        acc = widen(q1.sub((byte) 32)).mul(xs(x, xi + l)).fma(scale(w, ps + g, d), acc);
                        acc = widen(q2.sub((byte) 32)).mul(xs(x, xi + 32 + l)).fma(scale(w, ps + g + 2, d), acc);
                        acc = widen(q3.sub((byte) 32)).mul(xs(x, xi + 64 + l)).fma(scale(w, ps + g + 4, d), acc);
                        acc = widen(q4.sub((byte) 32)).mul(xs(x, xi + 96 + l)).fma(scale(w, ps + g + 6, d), acc);
                    }
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }
    }
}
