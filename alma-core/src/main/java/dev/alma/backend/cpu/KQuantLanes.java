package dev.alma.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The decode matrix-vector products of the K-quants (Q4_K, Q5_K, Q6_K) with their quants unpacked in int lanes.
 *
 * <p>A vector of L ints loaded from 4L quant bytes holds bytes {@code 4i .. 4i+3} in lane {@code i}; shifting it
 * right by {@code 4t} and masking gives every lane's {@code t}-th nibble, so eight shift-and-mask steps unpack 8L
 * values with no byte-to-int widening (a lane-crossing shuffle per vector, which is what bounds {@link SimdQuant}'s
 * kernels). The values come out in that interleaved order, so the activations are permuted into the same order once
 * per chunk of rows ({@link V#lanes}): for load {@code j} of a super-block, nibble {@code t} of lane {@code i} meets
 * activation {@code (8j + t)·L + i} of the permuted super-block. The high bits of Q5_K and Q6_K come from their own
 * bytes, shifted into place (after a shift per lane half that puts both halves' bits at the same positions); the
 * sub-blocks' scales are unpacked with vector operations too and spread over the lanes they cover by a rearrange; the
 * constant parts (Q4_K/Q5_K mins, Q6_K's −32) become one multiply-add per super-block against sums of the
 * activations ({@link V#offsetSums}). The same unpacking decodes Q4_K/Q5_K rows in lane order for beams
 * ({@link V#decodeQ4K}, with {@link FewTokens} permuting the activations).
 *
 * <p>Used only when {@link #ENABLED} (8 or 16 float lanes); the kernels otherwise run {@link SimdQuant}'s or the
 * scalar code.
 */
final class KQuantLanes {
    /**
     * True when the Vector API kernels are usable ({@link SimdQuant#AVAILABLE}) and not turned off with
     * {@code -Dalma.cpu.kquantLanes=false} (which falls back to {@link SimdQuant}'s K-quant kernels).
     */
    static final boolean ENABLED = SimdQuant.AVAILABLE
            && Boolean.parseBoolean(System.getProperty("alma.cpu.kquantLanes", "true"));

    private KQuantLanes() {
    }

    /** The activations of a Q4_K or Q5_K product in lane order, and minus their 32-value sub-block sums. */
    record Q4Activations(float[] lanes, float[] minusSums) {
        static Q4Activations of(float[] x, int cols) {
            return new Q4Activations(V.lanes(x, cols, V.Q4K_ORDER), V.offsetSums(x, cols, 32, -1f));
        }
    }

    /** The activations of a Q6_K product in lane order, and −32 times their 16-value sub-block sums. */
    record Q6Activations(float[] lanes, float[] offsetSums) {
        static Q6Activations of(float[] x, int cols) {
            return new Q6Activations(V.lanes(x, cols, V.Q6K_ORDER), V.offsetSums(x, cols, 16, -32f));
        }
    }

    /** The vector code; a nested class so that nothing loads it unless {@link #ENABLED}. */
    static final class V {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final int L = F.length();
        static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
        /** The 16 bytes of Q6_K's scales. */
        private static final VectorSpecies<Byte> B16 = VectorSpecies.of(byte.class, VectorShape.S_128_BIT);
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
        /** Loads of L ints per 128 quant bytes (a Q4_K/Q5_K super-block's qs, a Q6_K super-block's ql). */
        static final int LOADS = 128 / (4 * L);
        private static final VectorMask<Float> HIGH8 = F.indexInRange(-8, 8);

        /** Position in lane order → index of the value in its super-block. */
        static final int[] Q4K_ORDER = new int[256], Q6K_ORDER = new int[256];
        /** Q4_K/Q5_K: per load, the sub-block (scale lane) of each lane's low / high nibbles. */
        private static final VectorShuffle<Float>[] Q4K_LOW = shuffles(LOADS), Q4K_HIGH = shuffles(LOADS);
        /** Q4_K/Q5_K: per load, the lane of each lane's min (lanes 8-15 of the scale vector with 16 lanes). */
        private static final VectorShuffle<Float>[] Q4K_MIN_LOW = shuffles(LOADS), Q4K_MIN_HIGH = shuffles(LOADS);
        /** Q6_K: per load and low/high nibble, the 16-value sub-block of each lane within the scale vector. */
        private static final VectorShuffle<Float>[] Q6K_SCALE = shuffles(2 * LOADS);
        /**
         * With 16 lanes, the two halves of a load cover different 32-byte chunks (Q5_K: c and c+1, whose fifth bits
         * are one bit pair apart in qh; Q6_K: quarters m = 0 and 1, whose high bits are one bit pair apart): qh
         * shifted right by 0 in lanes 0-7 and by 2 in lanes 8-15 puts both at the same bit positions.
         */
        private static final IntVector SPLIT = IntVector.fromArray(I, new int[]{0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2}, 0);
        /** Lane {@code i} → lane {@code i % 8} (Q5_K's 32 qh bytes in both halves of a 16-lane vector). */
        private static final VectorShuffle<Integer> DUP8 = VectorShuffle.fromOp(I, i -> i % 8);
        /** Q6_K with 16 lanes: lane {@code i} → lane {@code 8·half + i % 8} (one half's 32 qh bytes, twice). */
        private static final VectorShuffle<Integer>[] Q6K_QH = shuffles(2, I);

        private V() {
        }

        @SuppressWarnings("unchecked")
        private static <E> VectorShuffle<E>[] shuffles(int n, VectorSpecies<E> s) {
            return new VectorShuffle[n];
        }

        private static VectorShuffle<Float>[] shuffles(int n) {
            return shuffles(n, F);
        }

        static {
            for (int j = 0; j < LOADS; j++) {
                int[] lo = new int[L], hi = new int[L], s6lo = new int[L], s6hi = new int[L];
                for (int i = 0; i < L; i++) {
                    // Q4_K / Q5_K: qs byte q = 4Lj + 4i + t/2 of chunk c = q/32 holds value 64c + 32(t&1) + q%32
                    int c = (4 * L * j + 4 * i) / 32;
                    lo[i] = 2 * c;
                    hi[i] = 2 * c + 1;
                    // Q6_K: half n, 32-byte group m of its 64 ql bytes; low nibbles are quarter m, high ones m + 2
                    int n = L == 16 ? j : j / 2, m = L == 16 ? i / 8 : j % 2, l0 = 4 * (i % 8);
                    int base6 = L == 16 ? 0 : 8 * n;
                    s6lo[i] = 8 * n + 2 * m + l0 / 16 - base6;
                    s6hi[i] = 8 * n + 2 * (m + 2) + l0 / 16 - base6;
                    for (int t = 0; t < 8; t++) {
                        int q = 4 * L * j + 4 * i + t / 2, h = t & 1;
                        Q4K_ORDER[(8 * j + t) * L + i] = 64 * (q / 32) + 32 * h + q % 32;
                        int k = m + 2 * h;
                        Q6K_ORDER[(8 * j + t) * L + i] = 128 * n + 32 * k + l0 + t / 2;
                    }
                }
                Q4K_LOW[j] = VectorShuffle.fromArray(F, lo, 0);
                Q4K_HIGH[j] = VectorShuffle.fromArray(F, hi, 0);
                int minLane = L == 16 ? 8 : 0;
                Q4K_MIN_LOW[j] = VectorShuffle.fromOp(F, i -> lo[i] + minLane);
                Q4K_MIN_HIGH[j] = VectorShuffle.fromOp(F, i -> hi[i] + minLane);
                Q6K_SCALE[2 * j] = VectorShuffle.fromArray(F, s6lo, 0);
                Q6K_SCALE[2 * j + 1] = VectorShuffle.fromArray(F, s6hi, 0);
            }
            for (int half = 0; half < 2; half++) {
                int h = half;
                Q6K_QH[half] = VectorShuffle.fromOp(I, i -> (8 * h + i % 8) % L);
            }
        }

        /** {@code x[0 .. cols)} permuted per 256-value super-block by {@code order}. */
        static float[] lanes(float[] x, int cols, int[] order) {
            float[] xp = new float[cols];
            for (int b = 0; b < cols; b += 256)
                for (int k = 0; k < 256; k++) xp[b + k] = x[b + order[k]];
            return xp;
        }

        /**
         * {@code factor} times the sums of the activations over runs of {@code run} (32 for Q4_K/Q5_K's mins, 16 for
         * Q6_K's offset), laid out to meet the lanes their scales sit in: Q6_K 16 per super-block; Q4_K/Q5_K 16 per
         * super-block in lanes 8-15 (the mins' lanes) with 16 lanes, 8 per super-block with 8.
         */
        static float[] offsetSums(float[] x, int cols, int run, float factor) {
            int runs = 256 / run, per = run == 32 && L == 8 ? 8 : 16, off = run == 32 && L == 16 ? 8 : 0;
            float[] sums = new float[cols / 256 * per];
            for (int b = 0; b < cols / 256; b++)
                for (int k = 0; k < runs; k++) {
                    float s = 0;
                    for (int l = 0; l < run; l++) s += x[256 * b + run * k + l];
                    sums[per * b + off + k] = factor * s;
                }
            return sums;
        }

        /*
         * The 6-bit scales (entries 0-7) and mins (8-15) of a Q4_K/Q5_K super-block, as Q4KMatrix.scalesAndMins:
         * its 12 bytes are lanes 1-3 (a, b, c) of the int vector loaded from the block's start. Entry k is
         * ((lane SIX_A[k] >>> SIX_SA[k]) & SIX_MA[k]) | ((lane SIX_B[k] >>> SIX_SB[k]) & SIX_MB[k]).
         */
        private static final int[] SIX_A = {1, 1, 1, 1, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3};
        private static final int[] SIX_SA = {0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24, 4, 12, 20, 28};
        private static final int[] SIX_MA = {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15};
        private static final int[] SIX_B = {1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2};
        private static final int[] SIX_SB = {0, 0, 0, 0, 2, 10, 18, 26, 0, 0, 0, 0, 2, 10, 18, 26};
        private static final int[] SIX_MB = {0, 0, 0, 0, 48, 48, 48, 48, 0, 0, 0, 0, 48, 48, 48, 48};
        /** Per part of L entries: the shuffles and the shift and mask vectors of the unpacking. */
        private static final VectorShuffle<Integer>[] SIX_PA = shuffles(16 / L, I), SIX_PB = shuffles(16 / L, I);
        private static final IntVector[] SIX_VSA = new IntVector[16 / L], SIX_VMA = new IntVector[16 / L],
                SIX_VSB = new IntVector[16 / L], SIX_VMB = new IntVector[16 / L];

        static {
            for (int part = 0; part < 16 / L; part++) {
                SIX_PA[part] = VectorShuffle.fromArray(I, SIX_A, part * L);
                SIX_PB[part] = VectorShuffle.fromArray(I, SIX_B, part * L);
                SIX_VSA[part] = IntVector.fromArray(I, SIX_SA, part * L);
                SIX_VMA[part] = IntVector.fromArray(I, SIX_MA, part * L);
                SIX_VSB[part] = IntVector.fromArray(I, SIX_SB, part * L);
                SIX_VMB[part] = IntVector.fromArray(I, SIX_MB, part * L);
            }
        }

        /** Entries {@code part·L ..} of the unpacked scales and mins, from the vector loaded at the block's start. */
        private static IntVector sixBits(IntVector head, int part) {
            IntVector a = head.rearrange(SIX_PA[part]).lanewise(VectorOperators.LSHR, SIX_VSA[part]).and(SIX_VMA[part]);
            return a.or(head.rearrange(SIX_PB[part]).lanewise(VectorOperators.LSHR, SIX_VSB[part]).and(SIX_VMB[part]));
        }

        private static FloatVector toFloat(IntVector v) {
            return (FloatVector) v.convertShape(VectorOperators.I2F, F, 0);
        }

        private static FloatVector xs(float[] x, int off) {
            return FloatVector.fromArray(F, x, off);
        }

        /**
         * The Q4_K/Q5_K super-block's {@code d·scale[k]} in lanes 0-7 (and, with 16 lanes, {@code dmin·min[k]} in
         * lanes 8-15), from the vector loaded at its start.
         */
        private static FloatVector scales(IntVector head, float d, float dmin) {
            if (L == 16) return toFloat(sixBits(head, 0)).mul(FloatVector.broadcast(F, d).blend(dmin, HIGH8));
            return toFloat(sixBits(head, 0)).mul(d);
        }

        /** {@code acc} plus the mins' term of super-block {@code b}: {@code −dmin · Σ min[k] · sum[k]}. */
        private static FloatVector minsTerm(IntVector head, FloatVector sv, float dmin, float[] xm, int b, FloatVector acc) {
            if (L == 16) return sv.fma(xs(xm, 16 * b), acc);
            return toFloat(sixBits(head, 1)).mul(dmin).fma(xs(xm, 8 * b), acc);
        }

        /** A Q4_K row (at byte {@code base}, {@code blocks} super-blocks) times activations prepared by {@link Q4Activations}. */
        static float dotQ4K(MemorySegment w, long base, float[] xp, float[] xm, int blocks) {
            IntVector m15 = IntVector.broadcast(I, 15);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4KMatrix.BLOCK_BYTES;
                IntVector head = IntVector.fromMemorySegment(I, w, p, LE);
                float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
                FloatVector sv = scales(head, d, dmin);
                acc = minsTerm(head, sv, dmin, xm, b, acc);
                for (int j = 0; j < LOADS; j++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, p + 16 + 4L * L * j, LE);
                    int o = 256 * b + 8 * L * j;
                    FloatVector lo = FloatVector.zero(F), hi = lo;
                    for (int t = 0; t < 4; t++) {
                        lo = toFloat(v.lanewise(VectorOperators.LSHR, 8 * t).and(m15)).fma(xs(xp, o + 2 * t * L), lo);
                        hi = toFloat(v.lanewise(VectorOperators.LSHR, 8 * t + 4).and(m15)).fma(xs(xp, o + (2 * t + 1) * L), hi);
                    }
                    acc = lo.fma(sv.rearrange(Q4K_LOW[j]), acc);
                    acc = hi.fma(sv.rearrange(Q4K_HIGH[j]), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /** As {@link #dotQ4K} for a Q5_K row: the fifth bits shifted from qh to bit 4 of each lane's nibbles. */
        static float dotQ5K(MemorySegment w, long base, float[] xp, float[] xm, int blocks) {
            IntVector m15 = IntVector.broadcast(I, 15), m16 = IntVector.broadcast(I, 16);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q5KMatrix.BLOCK_BYTES;
                IntVector head = IntVector.fromMemorySegment(I, w, p, LE);
                float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
                FloatVector sv = scales(head, d, dmin);
                acc = minsTerm(head, sv, dmin, xm, b, acc);
                // qh byte l holds the fifth bits of chunk c's values l in bits 2c (low nibble) and 2c+1 (high)
                IntVector qh = IntVector.fromMemorySegment(I, w, p + 16, LE);
                if (L == 16) qh = qh.rearrange(DUP8).lanewise(VectorOperators.LSHR, SPLIT);
                for (int j = 0; j < LOADS; j++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, p + 48 + 4L * L * j, LE);
                    // this load's fifth bits at bits 8t and 8t+1 of each lane (byte t), then 4 higher
                    IntVector qhj = qh.lanewise(VectorOperators.LSHR, L == 16 ? 4 * j : 2 * j).lanewise(VectorOperators.LSHL, 4);
                    int o = 256 * b + 8 * L * j;
                    FloatVector lo = FloatVector.zero(F), hi = lo;
                    for (int t = 0; t < 4; t++) {
                        IntVector ql = v.lanewise(VectorOperators.LSHR, 8 * t).and(m15)
                                .or(qhj.lanewise(VectorOperators.LSHR, 8 * t).and(m16));
                        IntVector qu = v.lanewise(VectorOperators.LSHR, 8 * t + 4).and(m15)
                                .or(qhj.lanewise(VectorOperators.LSHR, 8 * t + 1).and(m16));
                        lo = toFloat(ql).fma(xs(xp, o + 2 * t * L), lo);
                        hi = toFloat(qu).fma(xs(xp, o + (2 * t + 1) * L), hi);
                    }
                    acc = lo.fma(sv.rearrange(Q4K_LOW[j]), acc);
                    acc = hi.fma(sv.rearrange(Q4K_HIGH[j]), acc);
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /**
         * A Q6_K row times activations prepared by {@link Q6Activations}: 6-bit codes from ql's nibbles and qh's bit
         * pairs, each 16-value sub-block scaled by {@code d·scale}, the −32 offset through the sums.
         */
        static float dotQ6K(MemorySegment w, long base, float[] xp, float[] xo, int blocks) {
            IntVector m15 = IntVector.broadcast(I, 15), m48 = IntVector.broadcast(I, 48);
            FloatVector acc = FloatVector.zero(F);
            int parts = 16 / L, loadsPerPart = LOADS / parts;
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q6KMatrix.BLOCK_BYTES;
                float d = QuantMatrix.f16(w, p + 208);
                ByteVector sb = ByteVector.fromMemorySegment(B16, w, p + 192, LE);
                // with 16 lanes one part (both halves, qh of both loaded at once); with 8, one part per half
                IntVector qhAll = IntVector.fromMemorySegment(I, w, p + 128, LE);
                for (int part = 0; part < parts; part++) {
                    FloatVector sv = toFloat((IntVector) sb.convertShape(VectorOperators.B2I, I, part)).mul(d);
                    acc = sv.fma(xs(xo, 16 * b + L * part), acc);
                    for (int jj = 0; jj < loadsPerPart; jj++) {
                        int j = part * loadsPerPart + jj;
                        // qh byte l holds the high bits of quarter k's value l in bits 2k, 2k+1 (k = m + 2·high nibble)
                        IntVector qh = L == 16 ? qhAll.rearrange(Q6K_QH[j]).lanewise(VectorOperators.LSHR, SPLIT)
                                : (part == 0 ? qhAll : IntVector.fromMemorySegment(I, w, p + 160, LE))
                                .lanewise(VectorOperators.LSHR, 2 * (j % 2));
                        IntVector v = IntVector.fromMemorySegment(I, w, p + 4L * L * j, LE);
                        int o = 256 * b + 8 * L * j;
                        IntVector qh4 = qh.lanewise(VectorOperators.LSHL, 4);
                        FloatVector lo = FloatVector.zero(F), hi = lo;
                        for (int t = 0; t < 4; t++) {
                            // byte t of each lane: bits 0-1 (low nibble's value) and 4-5 (high's), moved to bits 4-5
                            IntVector ql = v.lanewise(VectorOperators.LSHR, 8 * t).and(m15).or(qh4.lanewise(VectorOperators.LSHR, 8 * t).and(m48));
                            IntVector qu = v.lanewise(VectorOperators.LSHR, 8 * t + 4).and(m15).or(qh.lanewise(VectorOperators.LSHR, 8 * t).and(m48));
                            lo = toFloat(ql).fma(xs(xp, o + 2 * t * L), lo);
                            hi = toFloat(qu).fma(xs(xp, o + (2 * t + 1) * L), hi);
                        }
                        acc = lo.fma(sv.rearrange(Q6K_SCALE[2 * j]), acc);
                        acc = hi.fma(sv.rearrange(Q6K_SCALE[2 * j + 1]), acc);
                    }
                }
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /*
         * Row decoders in lane order (FewTokens' beams multiply four decoded rows with activations permuted the same
         * way): the unpacking of the products above, each value written as d·scale·q − dmin·min.
         */

        /** The Q4_K row at byte {@code base} as floats in {@link #Q4K_ORDER} per super-block, into {@code out[off ..]}. */
        static void decodeQ4K(MemorySegment w, long base, float[] out, int off, int blocks) {
            IntVector m15 = IntVector.broadcast(I, 15);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q4KMatrix.BLOCK_BYTES;
                IntVector head = IntVector.fromMemorySegment(I, w, p, LE);
                float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
                FloatVector sv = scales(head, d, dmin), mv = L == 16 ? sv : toFloat(sixBits(head, 1)).mul(dmin);
                for (int j = 0; j < LOADS; j++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, p + 16 + 4L * L * j, LE);
                    FloatVector sl = sv.rearrange(Q4K_LOW[j]), sh = sv.rearrange(Q4K_HIGH[j]);
                    FloatVector ml = mv.rearrange(Q4K_MIN_LOW[j]).neg(), mh = mv.rearrange(Q4K_MIN_HIGH[j]).neg();
                    int o = off + 256 * b + 8 * L * j;
                    for (int t = 0; t < 4; t++) {
                        toFloat(v.lanewise(VectorOperators.LSHR, 8 * t).and(m15)).fma(sl, ml).intoArray(out, o + 2 * t * L);
                        toFloat(v.lanewise(VectorOperators.LSHR, 8 * t + 4).and(m15)).fma(sh, mh).intoArray(out, o + (2 * t + 1) * L);
                    }
                }
            }
        }

        /** As {@link #decodeQ4K} for a Q5_K row (the same lane order). */
        static void decodeQ5K(MemorySegment w, long base, float[] out, int off, int blocks) {
            IntVector m15 = IntVector.broadcast(I, 15), m16 = IntVector.broadcast(I, 16);
            for (int b = 0; b < blocks; b++) {
                long p = base + (long) b * Q5KMatrix.BLOCK_BYTES;
                IntVector head = IntVector.fromMemorySegment(I, w, p, LE);
                float d = QuantMatrix.f16(w, p), dmin = QuantMatrix.f16(w, p + 2);
                FloatVector sv = scales(head, d, dmin), mv = L == 16 ? sv : toFloat(sixBits(head, 1)).mul(dmin);
                IntVector qh = IntVector.fromMemorySegment(I, w, p + 16, LE);
                if (L == 16) qh = qh.rearrange(DUP8).lanewise(VectorOperators.LSHR, SPLIT);
                for (int j = 0; j < LOADS; j++) {
                    IntVector v = IntVector.fromMemorySegment(I, w, p + 48 + 4L * L * j, LE);
                    IntVector qhj = qh.lanewise(VectorOperators.LSHR, L == 16 ? 4 * j : 2 * j).lanewise(VectorOperators.LSHL, 4);
                    FloatVector sl = sv.rearrange(Q4K_LOW[j]), sh = sv.rearrange(Q4K_HIGH[j]);
                    FloatVector ml = mv.rearrange(Q4K_MIN_LOW[j]).neg(), mh = mv.rearrange(Q4K_MIN_HIGH[j]).neg();
                    int o = off + 256 * b + 8 * L * j;
                    for (int t = 0; t < 4; t++) {
                        IntVector ql = v.lanewise(VectorOperators.LSHR, 8 * t).and(m15)
                                .or(qhj.lanewise(VectorOperators.LSHR, 8 * t).and(m16));
                        IntVector qu = v.lanewise(VectorOperators.LSHR, 8 * t + 4).and(m15)
                                .or(qhj.lanewise(VectorOperators.LSHR, 8 * t + 1).and(m16));
                        toFloat(ql).fma(sl, ml).intoArray(out, o + 2 * t * L);
                        toFloat(qu).fma(sh, mh).intoArray(out, o + (2 * t + 1) * L);
                    }
                }
            }
        }
    }
}
