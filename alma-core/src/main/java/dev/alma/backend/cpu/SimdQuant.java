package dev.alma.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import dev.alma.tensor.Layouts;

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
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

        private V() {
        }

        private static FloatVector widen(ByteVector b) {
            return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
        }

        private static ByteVector bytes(MemorySegment w, long off) {
            return ByteVector.fromMemorySegment(B, w, off, LE);
        }

        /**
         * Shifts the bytes right by {@code n} as int lanes (C2 does not compile byte-lane shifts into vector
         * code); bits of the next byte enter the top of each byte, so callers mask the result.
         */
        private static ByteVector shr(ByteVector v, int n) {
            return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes();
        }

        private static FloatVector xs(float[] x, int off) {
            return FloatVector.fromArray(F, x, off);
        }

        static float dotQ8_0(MemorySegment w, long base, float[] x, int xOff, int blocks) {
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
         * Four Q8_0 rows at byte offsets {@code o0..o3} times {@code x[xOff .. xOff+32·blocks)}, into {@code out[r0..r3]}:
         * the activations of a block are loaded once for the four rows. Needs {@code L == 16}.
         */
        static void dot4Q8_0(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xOff, int blocks, float[] out,
                             int r0, int r1, int r2, int r3) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < blocks; b++) {
                long off = (long) b * Q8_0Matrix.BLOCK_BYTES;
                FloatVector x0 = xs(x, xOff + 32 * b), x1 = xs(x, xOff + 32 * b + 16);
                a0 = block16(w, o0 + off, x0, x1, a0);
                a1 = block16(w, o1 + off, x0, x1, a1);
                a2 = block16(w, o2 + off, x0, x1, a2);
                a3 = block16(w, o3 + off, x0, x1, a3);
            }
            out[r0] = a0.reduceLanes(VectorOperators.ADD);
            out[r1] = a1.reduceLanes(VectorOperators.ADD);
            out[r2] = a2.reduceLanes(VectorOperators.ADD);
            out[r3] = a3.reduceLanes(VectorOperators.ADD);
        }

        /** {@code acc + d · (q · x)} for the Q8_0 block at {@code p}, its activations in {@code x0, x1} (L == 16). */
        private static FloatVector block16(MemorySegment w, long p, FloatVector x0, FloatVector x1, FloatVector acc) {
            FloatVector s = widen(bytes(w, p + 2)).mul(x0);
            s = widen(bytes(w, p + 18)).fma(x1, s);
            return s.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc);
        }

        /** {@code acc + d · (q · x)} for the Q8_0 block at {@code p}. */
        private static FloatVector blockQ8_0(MemorySegment w, long p, float[] x, int xi, FloatVector acc) {
            FloatVector bs = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) bs = widen(bytes(w, p + 2 + j)).fma(xs(x, xi + j), bs);
            return bs.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc);
        }

        /** Decodes {@code blocks} Q8_0 blocks at {@code base} to {@code out[o ..]}. */
        static void rowQ8_0(MemorySegment w, long base, float[] out, int o, int blocks) {
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q8_0Matrix.BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, QuantMatrix.f16(w, p));
                for (int j = 0; j < 32; j += L) widen(bytes(w, p + 2 + j)).mul(d).intoArray(out, o + 32 * b + j);
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
                    bs = widen(shr(raw, 4).and((byte) 0xF).sub((byte) 8)).fma(xs(x, xi + 16 + j), bs);
                }
                acc = bs.fma(FloatVector.broadcast(F, QuantMatrix.f16(w, p)), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /** Decodes {@code blocks} Q4_0 blocks at {@code base} to {@code out[o ..]}. */
        static void decodeQ4_0(MemorySegment w, long base, float[] out, int o, int blocks) {
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m8 = ByteVector.broadcast(B, (byte) 8);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4_0Matrix.BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, QuantMatrix.f16(w, p));
                int k = o + 32 * b;
                for (int j = 0; j < 16; j += L) {
                    ByteVector raw = bytes(w, p + 2 + j);
                    widen(raw.and(m0f).sub(m8)).mul(d).intoArray(out, k + j);
                    widen(shr(raw, 4).and(m0f).sub(m8)).mul(d).intoArray(out, k + 16 + j);
                }
            }
        }

        /**
         * A Q4_K row times {@code x[xOff .. xOff + 256·blocks)}, given {@code xsum[k]}, the sum of the activations of
         * 32-value sub-block {@code k}: the mins enter as one scalar product per super-block instead of a vector sum
         * of the activations per sub-block. {@code sm} is scratch for 16 ints.
         */
        static float dotQ4K(MemorySegment w, long base, float[] x, int xOff, float[] xsum, int blocks, int[] sm) {
            float s = 0;
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4KMatrix.BLOCK_BYTES;
                Q4KMatrix.scalesAndMins(w, p + 4, sm);
                float mins = 0;
                for (int k = 0; k < 8; k++) mins += sm[8 + k] * xsum[8 * b + k];
                s += blockQ4KScaled(w, p, sm, x, xOff + 256 * b) - QuantMatrix.f16(w, p + 2) * mins;
            }
            return s;
        }

        /** The scale part ({@code d·scale·q·x}) of one Q4_K super-block; scales already unpacked. */
        private static float blockQ4KScaled(MemorySegment w, long p, int[] sm, float[] x, int xi) {
            float d = QuantMatrix.f16(w, p);
            ByteVector low = ByteVector.broadcast(B, (byte) 0x0F);
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < 4; c++) {
                FloatVector q1 = FloatVector.zero(F), q2 = q1;
                for (int j = 0; j < 32; j += L) {
                    ByteVector raw = bytes(w, p + 16 + 32 * c + j);
                    q1 = widen(raw.and(low)).fma(xs(x, xi + 64 * c + j), q1);
                    q2 = widen(shr(raw, 4).and(low)).fma(xs(x, xi + 64 * c + 32 + j), q2);
                }
                acc = q1.fma(FloatVector.broadcast(F, d * sm[2 * c]), acc);
                acc = q2.fma(FloatVector.broadcast(F, d * sm[2 * c + 1]), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /** As {@link #dotQ4K} for a Q5_K row. */
        static float dotQ5K(MemorySegment w, long base, float[] x, int xOff, float[] xsum, int blocks, int[] sm) {
            float s = 0;
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q5KMatrix.BLOCK_BYTES;
                Q4KMatrix.scalesAndMins(w, p + 4, sm);
                float mins = 0;
                for (int k = 0; k < 8; k++) mins += sm[8 + k] * xsum[8 * b + k];
                s += blockQ5KScaled(w, p, sm, x, xOff + 256 * b) - QuantMatrix.f16(w, p + 2) * mins;
            }
            return s;
        }

        /** The scale part ({@code d·scale·q·x}) of one Q5_K super-block; scales already unpacked. */
        private static float blockQ5KScaled(MemorySegment w, long p, int[] sm, float[] x, int xi) {
            float d = QuantMatrix.f16(w, p);
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m10 = ByteVector.broadcast(B, (byte) 0x10);
            FloatVector acc = FloatVector.zero(F);
            for (int c = 0; c < 4; c++) {
                FloatVector q1 = FloatVector.zero(F), q2 = q1;
                for (int j = 0; j < 32; j += L) {
                    ByteVector raw = bytes(w, p + 48 + 32 * c + j), h = bytes(w, p + 16 + j);
                    q1 = widen(raw.and(m0f).or(fifthBit(h, 2 * c, m10))).fma(xs(x, xi + 64 * c + j), q1);
                    q2 = widen(shr(raw, 4).and(m0f).or(fifthBit(h, 2 * c + 1, m10))).fma(xs(x, xi + 64 * c + 32 + j), q2);
                }
                acc = q1.fma(FloatVector.broadcast(F, d * sm[2 * c]), acc);
                acc = q2.fma(FloatVector.broadcast(F, d * sm[2 * c + 1]), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /**
         * Bit {@code bit} (0-7) of every byte of {@code h} moved to bit 4 (the value 16), other bits cleared
         * ({@code m10}: 0x10 in every byte). Shifts as int lanes, as {@link #shr}: for a shift of at most 4 the bit
         * that lands on bit 4 comes from the same byte.
         */
        private static ByteVector fifthBit(ByteVector h, int bit, ByteVector m10) {
            IntVector v = h.reinterpretAsInts();
            v = bit <= 4 ? v.lanewise(VectorOperators.LSHL, 4 - bit) : v.lanewise(VectorOperators.LSHR, bit - 4);
            return v.reinterpretAsBytes().and(m10);
        }

        /*
         * Q6_K is split into small methods that exchange only primitives: one method for a whole super-block
         * exceeds C2's inlining node budget, its vector helpers are then called instead of inlined, and every
         * vector is boxed (10-20x slower). Constants are vectors made once per call for the same reason: the
         * scalar-operand forms (v.and((byte) 3)) did not always compile to vector code.
         */
        static float dotQ6K(MemorySegment w, long base, float[] x, int xOff, int blocks) {
            float s = 0;
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q6KMatrix.BLOCK_BYTES;
                float d = QuantMatrix.f16(w, p + 208);
                int xi = xOff + 256 * b;
                s += q6Low(w, p, p + 128, p + 192, d, x, xi) + q6High(w, p, p + 128, p + 192, d, x, xi)
                        + q6Low(w, p + 64, p + 160, p + 200, d, x, xi + 128) + q6High(w, p + 64, p + 160, p + 200, d, x, xi + 128);
            }
            return s;
        }

        /**
         * Values {@code 0..63} of the half-block with ql at {@code pl}, qh at {@code ph} and 8 scales at {@code ps}:
         * low nibbles of ql bytes {@code l} and {@code l+32}, high bits from bit pairs 0-1 and 2-3 of qh byte {@code l}.
         */
        private static float q6Low(MemorySegment w, long pl, long ph, long ps, float d, float[] x, int xi) {
            long sv = w.get(Layouts.I64, ps);
            FloatVector s00 = FloatVector.broadcast(F, d * (byte) sv), s01 = FloatVector.broadcast(F, d * (byte) (sv >> 8));
            FloatVector s10 = FloatVector.broadcast(F, d * (byte) (sv >> 16)), s11 = FloatVector.broadcast(F, d * (byte) (sv >> 24));
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m03 = ByteVector.broadcast(B, (byte) 0x03);
            ByteVector m0c = ByteVector.broadcast(B, (byte) 0x0C);
            FloatVector f16 = FloatVector.broadcast(F, 16f), f4 = FloatVector.broadcast(F, 4f), f32 = FloatVector.broadcast(F, 32f);
            FloatVector acc = FloatVector.zero(F);
            for (int l = 0; l < 32; l += L) {
                ByteVector a = bytes(w, pl + l), c = bytes(w, pl + 32 + l), h = bytes(w, ph + l);
                boolean second = l >= 16;
                // code = low nibble + 16 * high bits; (h & 0x0C) already holds 4 * its bit pair
                FloatVector q0 = widen(h.and(m03)).fma(f16, widen(a.and(m0f))).sub(f32);
                FloatVector q1 = widen(h.and(m0c)).fma(f4, widen(c.and(m0f))).sub(f32);
                acc = q0.mul(second ? s01 : s00).fma(xs(x, xi + l), acc);
                acc = q1.mul(second ? s11 : s10).fma(xs(x, xi + 32 + l), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /** Values {@code 64..127} of the half-block: high nibbles, bit pairs 4-5 and 6-7 of qh. */
        private static float q6High(MemorySegment w, long pl, long ph, long ps, float d, float[] x, int xi) {
            long sv = w.get(Layouts.I64, ps);
            FloatVector s20 = FloatVector.broadcast(F, d * (byte) (sv >> 32)), s21 = FloatVector.broadcast(F, d * (byte) (sv >> 40));
            FloatVector s30 = FloatVector.broadcast(F, d * (byte) (sv >> 48)), s31 = FloatVector.broadcast(F, d * (byte) (sv >> 56));
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m30 = ByteVector.broadcast(B, (byte) 0x30);
            ByteVector m0c = ByteVector.broadcast(B, (byte) 0x0C);
            FloatVector f4 = FloatVector.broadcast(F, 4f), f32 = FloatVector.broadcast(F, 32f);
            FloatVector acc = FloatVector.zero(F);
            for (int l = 0; l < 32; l += L) {
                ByteVector a = bytes(w, pl + l), c = bytes(w, pl + 32 + l), h = bytes(w, ph + l);
                boolean second = l >= 16;
                // (h & 0x30) is 16 * bit pair 4-5; (h >> 4) & 0x0C is 4 * bit pair 6-7
                FloatVector q2 = widen(h.and(m30)).add(widen(shr(a, 4).and(m0f))).sub(f32);
                FloatVector q3 = widen(shr(h, 4).and(m0c)).fma(f4, widen(shr(c, 4).and(m0f))).sub(f32);
                acc = q2.mul(second ? s21 : s20).fma(xs(x, xi + 64 + l), acc);
                acc = q3.mul(second ? s31 : s30).fma(xs(x, xi + 96 + l), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        // ---- row decoders: the same unpacking, stored as floats (Q4_K and Q6_K matmuls over a prompt) ----

        static void decodeQ4K(MemorySegment w, long base, float[] out, int off, int blocks) {
            int[] sm = new int[16];
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4KMatrix.BLOCK_BYTES;
                Q4KMatrix.scalesAndMins(w, p + 4, sm);
                decodeBlockQ4K(w, p, sm, out, off + 256 * b);
            }
        }

        private static void decodeBlockQ4K(MemorySegment w, long p, int[] sm, float[] out, int o) {
            float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * sm[2 * c]), m1 = FloatVector.broadcast(F, -dmin * sm[8 + 2 * c]);
                FloatVector d2 = FloatVector.broadcast(F, d * sm[2 * c + 1]), m2 = FloatVector.broadcast(F, -dmin * sm[9 + 2 * c]);
                for (int j = 0; j < 32; j += L) {
                    ByteVector raw = bytes(w, p + 16 + 32 * c + j);
                    widen(raw.and(m0f)).fma(d1, m1).intoArray(out, o + 64 * c + j);
                    widen(shr(raw, 4).and(m0f)).fma(d2, m2).intoArray(out, o + 64 * c + 32 + j);
                }
            }
        }

        static void decodeQ5K(MemorySegment w, long base, float[] out, int off, int blocks) {
            int[] sm = new int[16];
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q5KMatrix.BLOCK_BYTES;
                Q4KMatrix.scalesAndMins(w, p + 4, sm);
                decodeBlockQ5K(w, p, sm, out, off + 256 * b);
            }
        }

        private static void decodeBlockQ5K(MemorySegment w, long p, int[] sm, float[] out, int o) {
            float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m10 = ByteVector.broadcast(B, (byte) 0x10);
            for (int c = 0; c < 4; c++) {
                FloatVector d1 = FloatVector.broadcast(F, d * sm[2 * c]), m1 = FloatVector.broadcast(F, -dmin * sm[8 + 2 * c]);
                FloatVector d2 = FloatVector.broadcast(F, d * sm[2 * c + 1]), m2 = FloatVector.broadcast(F, -dmin * sm[9 + 2 * c]);
                for (int j = 0; j < 32; j += L) {
                    ByteVector raw = bytes(w, p + 48 + 32 * c + j), h = bytes(w, p + 16 + j);
                    widen(raw.and(m0f).or(fifthBit(h, 2 * c, m10))).fma(d1, m1).intoArray(out, o + 64 * c + j);
                    widen(shr(raw, 4).and(m0f).or(fifthBit(h, 2 * c + 1, m10))).fma(d2, m2).intoArray(out, o + 64 * c + 32 + j);
                }
            }
        }

        /*
         * The Q6_K decoder repeats the unpacking of q6Low/q6High instead of sharing it through an output
         * parameter: one method serving both the dot and the decoder is profiled with both branches when a prompt
         * (decoder) and then single tokens (dot) run in one JVM, and the dot then ran 4-8x slower.
         */
        static void decodeQ6K(MemorySegment w, long base, float[] out, int off, int blocks) {
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q6KMatrix.BLOCK_BYTES;
                float d = QuantMatrix.f16(w, p + 208);
                int o = off + 256 * b;
                decodeQ6Low(w, p, p + 128, p + 192, d, out, o);
                decodeQ6High(w, p, p + 128, p + 192, d, out, o);
                decodeQ6Low(w, p + 64, p + 160, p + 200, d, out, o + 128);
                decodeQ6High(w, p + 64, p + 160, p + 200, d, out, o + 128);
            }
        }

        /** As {@link #q6Low}, storing the values. */
        private static void decodeQ6Low(MemorySegment w, long pl, long ph, long ps, float d, float[] out, int o) {
            long sv = w.get(Layouts.I64, ps);
            FloatVector s00 = FloatVector.broadcast(F, d * (byte) sv), s01 = FloatVector.broadcast(F, d * (byte) (sv >> 8));
            FloatVector s10 = FloatVector.broadcast(F, d * (byte) (sv >> 16)), s11 = FloatVector.broadcast(F, d * (byte) (sv >> 24));
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m03 = ByteVector.broadcast(B, (byte) 0x03);
            ByteVector m0c = ByteVector.broadcast(B, (byte) 0x0C);
            FloatVector f16 = FloatVector.broadcast(F, 16f), f4 = FloatVector.broadcast(F, 4f), f32 = FloatVector.broadcast(F, 32f);
            for (int l = 0; l < 32; l += L) {
                ByteVector a = bytes(w, pl + l), c = bytes(w, pl + 32 + l), h = bytes(w, ph + l);
                boolean second = l >= 16;
                widen(h.and(m03)).fma(f16, widen(a.and(m0f))).sub(f32).mul(second ? s01 : s00).intoArray(out, o + l);
                widen(h.and(m0c)).fma(f4, widen(c.and(m0f))).sub(f32).mul(second ? s11 : s10).intoArray(out, o + 32 + l);
            }
        }

        /** As {@link #q6High}, storing the values. */
        private static void decodeQ6High(MemorySegment w, long pl, long ph, long ps, float d, float[] out, int o) {
            long sv = w.get(Layouts.I64, ps);
            FloatVector s20 = FloatVector.broadcast(F, d * (byte) (sv >> 32)), s21 = FloatVector.broadcast(F, d * (byte) (sv >> 40));
            FloatVector s30 = FloatVector.broadcast(F, d * (byte) (sv >> 48)), s31 = FloatVector.broadcast(F, d * (byte) (sv >> 56));
            ByteVector m0f = ByteVector.broadcast(B, (byte) 0x0F), m30 = ByteVector.broadcast(B, (byte) 0x30);
            ByteVector m0c = ByteVector.broadcast(B, (byte) 0x0C);
            FloatVector f4 = FloatVector.broadcast(F, 4f), f32 = FloatVector.broadcast(F, 32f);
            for (int l = 0; l < 32; l += L) {
                ByteVector a = bytes(w, pl + l), c = bytes(w, pl + 32 + l), h = bytes(w, ph + l);
                boolean second = l >= 16;
                widen(h.and(m30)).add(widen(shr(a, 4).and(m0f))).sub(f32).mul(second ? s21 : s20).intoArray(out, o + 64 + l);
                widen(shr(h, 4).and(m0c)).fma(f4, widen(shr(c, 4).and(m0f))).sub(f32).mul(second ? s31 : s30).intoArray(out, o + 96 + l);
            }
        }
    }
}
