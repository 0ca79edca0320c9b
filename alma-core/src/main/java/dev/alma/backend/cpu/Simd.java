package dev.alma.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector-API kernels. Only touched when the {@code jdk.incubator.vector} module is present (see {@link #AVAILABLE});
 * every caller has a scalar path for when it is not.
 */
final class Simd {
    /** True when the Vector API module is loaded and worth using. */
    static final boolean AVAILABLE = detect();

    private static boolean detect() {
        if (Boolean.getBoolean("alma.noSimd")) return false;
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    private Simd() {
    }

    /** The Vector-API code; a nested class so that nothing loads it unless {@link #AVAILABLE}. */
    static final class V {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
        static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
        /** 2L shorts: a full-width vector. */
        static final VectorSpecies<Short> S2 = VectorSpecies.of(short.class, F.vectorShape());
        static final int L = F.length();
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

        private V() {
        }

        static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
            }
            for (; i + L <= n; i += L)
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
            return s;
        }

        static float dotF32(MemorySegment w, long byteOff, float[] x, int xOff, int n) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                acc0 = FloatVector.fromMemorySegment(F, w, byteOff + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
                acc1 = FloatVector.fromMemorySegment(F, w, byteOff + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
            }
            for (; i + L <= n; i += L)
                acc0 = FloatVector.fromMemorySegment(F, w, byteOff + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) s += w.get(dev.alma.tensor.Layouts.F32, byteOff + 4L * i) * x[xOff + i];
            return s;
        }

        /**
         * f16 bits to floats, exact for normals and subnormals (weights hold no inf/NaN): the sign-extended bits
         * shifted by 13 keep the sign in bit 31 and put exponent and mantissa in float position (bits 27..13), which
         * reads as the value times 2^-112.
         */
        static FloatVector halfToFloat(ShortVector h) {
            return halfToFloat(h, 0);
        }

        /** Lanes {@code part·L ..} of {@code h} as floats (see {@link #halfToFloat(ShortVector)}). */
        static FloatVector halfToFloat(ShortVector h, int part) {
            IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, part);
            return bits.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1.0p112f);
        }

        private static FloatVector bf16ToFloat(ShortVector h) {
            return bf16ToFloat(h, 0);
        }

        /** Lanes {@code part·L ..} of {@code h} as floats (bf16 is the high half of a float). */
        private static FloatVector bf16ToFloat(ShortVector h, int part) {
            IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, part);
            return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }

        static float dotF16(MemorySegment w, long byteOff, float[] x, int xOff, int n) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                // one full-width load of 2L values, widened in two halves
                ShortVector h = ShortVector.fromMemorySegment(S2, w, byteOff + 2L * i, LE);
                acc0 = halfToFloat(h, 0).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
                acc1 = halfToFloat(h, 1).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
            }
            for (; i + L <= n; i += L)
                acc0 = halfToFloat(ShortVector.fromMemorySegment(S, w, byteOff + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) s += Float.float16ToFloat(w.get(dev.alma.tensor.Layouts.I16, byteOff + 2L * i)) * x[xOff + i];
            return s;
        }

        /** 2^56: activations are scaled by it in {@link #dot4F16}, whose unscaled f16 widening is 2^-112 too small. */
        private static final float UP = 0x1.0p56f;

        /**
         * Four f16 rows at byte offsets {@code o0..o3} times {@code x[xOff .. xOff+n)}, into {@code out[r0..r3]}. Each
         * activation vector is loaded once for the four rows. The f16 bits are widened without the 2^112 multiply of
         * {@link #halfToFloat}; the activations carry 2^56 and the sums the other 2^56, so that products stay far
         * from float underflow (and its slow subnormal path) and from overflow alike; powers of two change no bit.
         */
        static void dot4F16(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out,
                            int r0, int r1, int r2, int r3) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + L <= n; i += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + i).mul(UP);
                long b = 2L * i;
                a0 = halfBits(ShortVector.fromMemorySegment(S, w, o0 + b, LE)).fma(xv, a0);
                a1 = halfBits(ShortVector.fromMemorySegment(S, w, o1 + b, LE)).fma(xv, a1);
                a2 = halfBits(ShortVector.fromMemorySegment(S, w, o2 + b, LE)).fma(xv, a2);
                a3 = halfBits(ShortVector.fromMemorySegment(S, w, o3 + b, LE)).fma(xv, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD) * UP, s1 = a1.reduceLanes(VectorOperators.ADD) * UP;
            float s2 = a2.reduceLanes(VectorOperators.ADD) * UP, s3 = a3.reduceLanes(VectorOperators.ADD) * UP;
            for (; i < n; i++) {
                float xi = x[xOff + i];
                s0 += Float.float16ToFloat(w.get(dev.alma.tensor.Layouts.I16, o0 + 2L * i)) * xi;
                s1 += Float.float16ToFloat(w.get(dev.alma.tensor.Layouts.I16, o1 + 2L * i)) * xi;
                s2 += Float.float16ToFloat(w.get(dev.alma.tensor.Layouts.I16, o2 + 2L * i)) * xi;
                s3 += Float.float16ToFloat(w.get(dev.alma.tensor.Layouts.I16, o3 + 2L * i)) * xi;
            }
            out[r0] = s0;
            out[r1] = s1;
            out[r2] = s2;
            out[r3] = s3;
        }

        /** f16 bits as floats 2^-112 times their value (see {@link #halfToFloat(ShortVector, int)}). */
        private static FloatVector halfBits(ShortVector h) {
            IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
            return bits.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
        }

        /** Four f32 rows times {@code x[xOff .. xOff+n)}, as {@link #dot4F16}. */
        static void dot4F32(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out,
                            int r0, int r1, int r2, int r3) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + L <= n; i += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
                long b = 4L * i;
                a0 = FloatVector.fromMemorySegment(F, w, o0 + b, LE).fma(xv, a0);
                a1 = FloatVector.fromMemorySegment(F, w, o1 + b, LE).fma(xv, a1);
                a2 = FloatVector.fromMemorySegment(F, w, o2 + b, LE).fma(xv, a2);
                a3 = FloatVector.fromMemorySegment(F, w, o3 + b, LE).fma(xv, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                float xi = x[xOff + i];
                s0 += w.get(dev.alma.tensor.Layouts.F32, o0 + 4L * i) * xi;
                s1 += w.get(dev.alma.tensor.Layouts.F32, o1 + 4L * i) * xi;
                s2 += w.get(dev.alma.tensor.Layouts.F32, o2 + 4L * i) * xi;
                s3 += w.get(dev.alma.tensor.Layouts.F32, o3 + 4L * i) * xi;
            }
            out[r0] = s0;
            out[r1] = s1;
            out[r2] = s2;
            out[r3] = s3;
        }

        /** Four bf16 rows times {@code x[xOff .. xOff+n)}, as {@link #dot4F16}. */
        static void dot4BF16(MemorySegment w, long o0, long o1, long o2, long o3, float[] x, int xOff, int n, float[] out,
                             int r0, int r1, int r2, int r3) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + L <= n; i += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
                long b = 2L * i;
                a0 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, o0 + b, LE)).fma(xv, a0);
                a1 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, o1 + b, LE)).fma(xv, a1);
                a2 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, o2 + b, LE)).fma(xv, a2);
                a3 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, o3 + b, LE)).fma(xv, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                float xi = x[xOff + i];
                s0 += Float.intBitsToFloat(w.get(dev.alma.tensor.Layouts.I16, o0 + 2L * i) << 16) * xi;
                s1 += Float.intBitsToFloat(w.get(dev.alma.tensor.Layouts.I16, o1 + 2L * i) << 16) * xi;
                s2 += Float.intBitsToFloat(w.get(dev.alma.tensor.Layouts.I16, o2 + 2L * i) << 16) * xi;
                s3 += Float.intBitsToFloat(w.get(dev.alma.tensor.Layouts.I16, o3 + 2L * i) << 16) * xi;
            }
            out[r0] = s0;
            out[r1] = s1;
            out[r2] = s2;
            out[r3] = s3;
        }

        static float dotBF16(MemorySegment w, long byteOff, float[] x, int xOff, int n) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                acc0 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, byteOff + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
                acc1 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, byteOff + 2L * (i + L), LE)).fma(FloatVector.fromArray(F, x, xOff + i + L), acc1);
            }
            for (; i + L <= n; i += L)
                acc0 = bf16ToFloat(ShortVector.fromMemorySegment(S, w, byteOff + 2L * i, LE)).fma(FloatVector.fromArray(F, x, xOff + i), acc0);
            float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) s += Float.intBitsToFloat(w.get(dev.alma.tensor.Layouts.I16, byteOff + 2L * i) << 16) * x[xOff + i];
            return s;
        }

        /** {@code x[i] = exp(x[i] - max)} over {@code x[off .. off+n)}; returns the sum. */
        static float expShifted(float[] x, int off, int n, float max) {
            FloatVector vmax = FloatVector.broadcast(F, max), vsum = FloatVector.zero(F);
            int i = off, end = off + n;
            for (; i + L <= end; i += L) {
                FloatVector e = FloatVector.fromArray(F, x, i).sub(vmax).lanewise(VectorOperators.EXP);
                e.intoArray(x, i);
                vsum = vsum.add(e);
            }
            float sum = vsum.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) {
                x[i] = (float) Math.exp(x[i] - max);
                sum += x[i];
            }
            return sum;
        }

        /** {@code y[yOff ..] += a · x[xOff ..]} over {@code n} floats. */
        static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
            FloatVector va = FloatVector.broadcast(F, a);
            int i = 0;
            for (; i + L <= n; i += L)
                FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
            for (; i < n; i++) y[yOff + i] += a * x[xOff + i];
        }

        /** {@code y[yOff ..] += a · x} over the {@code n} f16 values at byte {@code byteOff} of {@code x}. */
        static void axpyF16(float a, MemorySegment x, long byteOff, float[] y, int yOff, int n) {
            FloatVector va = FloatVector.broadcast(F, a);
            int i = 0;
            for (; i + L <= n; i += L)
                halfToFloat(ShortVector.fromMemorySegment(S, x, byteOff + 2L * i, LE)).fma(va, FloatVector.fromArray(F, y, yOff + i))
                        .intoArray(y, yOff + i);
            for (; i < n; i++) y[yOff + i] += a * Float.float16ToFloat(x.get(dev.alma.tensor.Layouts.I16, byteOff + 2L * i));
        }

        /** {@code g[i] = silu(g[i]) * u[i]} for {@code i} in {@code [from, to)}. */
        static void swiglu(float[] g, float[] u, int from, int to) {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector x = FloatVector.fromArray(F, g, i);
                FloatVector sig = x.neg().lanewise(VectorOperators.EXP).add(1f);
                x.div(sig).mul(FloatVector.fromArray(F, u, i)).intoArray(g, i);
            }
            for (; i < to; i++) g[i] = silu(g[i]) * u[i];
        }

        /** Decodes {@code n} f16 values at {@code byteOff} to {@code out[o ..]}. */
        static void rowF16(MemorySegment w, long byteOff, float[] out, int o, int n) {
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                ShortVector h = ShortVector.fromMemorySegment(S2, w, byteOff + 2L * i, LE);
                halfToFloat(h, 0).intoArray(out, o + i);
                halfToFloat(h, 1).intoArray(out, o + i + L);
            }
            for (; i + L <= n; i += L)
                halfToFloat(ShortVector.fromMemorySegment(S, w, byteOff + 2L * i, LE)).intoArray(out, o + i);
            for (; i < n; i++) out[o + i] = Float.float16ToFloat(w.get(dev.alma.tensor.Layouts.I16, byteOff + 2L * i));
        }

        /** Decodes {@code n} bf16 values at {@code byteOff} to {@code out[o ..]}. */
        static void rowBF16(MemorySegment w, long byteOff, float[] out, int o, int n) {
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                ShortVector h = ShortVector.fromMemorySegment(S2, w, byteOff + 2L * i, LE);
                bf16ToFloat(h, 0).intoArray(out, o + i);
                bf16ToFloat(h, 1).intoArray(out, o + i + L);
            }
            for (; i + L <= n; i += L)
                bf16ToFloat(ShortVector.fromMemorySegment(S, w, byteOff + 2L * i, LE)).intoArray(out, o + i);
            for (; i < n; i++) out[o + i] = Float.intBitsToFloat(w.get(dev.alma.tensor.Layouts.I16, byteOff + 2L * i) << 16);
        }
    }

    /** {@code x · sigmoid(x)}. */
    static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    /** Dot product of two float arrays. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        if (AVAILABLE) return V.dot(a, aOff, b, bOff, n);
        float s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }
}
