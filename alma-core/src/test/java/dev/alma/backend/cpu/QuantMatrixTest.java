package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.io.Quantizer;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The quantized kernels against values computed here from the formats' definitions. Blocks are built from known
 * "logical" contents (scales, mins, integer codes) by packers written from the layout descriptions of llama.cpp's
 * ggml-common.h, so a wrong bit position in a kernel shows as a mismatch with the logical dequantized value.
 */
class QuantMatrixTest {
    /** A matrix built by the test: its bytes and the exact dequantized values (float64) of every element. */
    record Built(DType type, int rows, int cols, byte[] bytes, double[] values) {
        Tensor tensor() {
            return new Tensor("w", type, new long[]{rows, cols}, MemorySegment.ofArray(bytes));
        }
    }

    /** Writes one block of {@code type} with random logical contents; returns its dequantized values. */
    interface BlockMaker {
        double[] make(Random rnd, ByteBuffer out);
    }

    static float randomHalf(Random rnd, float lo, float hi, boolean signed) {
        float v = lo + rnd.nextFloat() * (hi - lo);
        if (signed && rnd.nextBoolean()) v = -v;
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    static double[] q8_0Block(Random rnd, ByteBuffer out) {
        float d = randomHalf(rnd, 1e-3f, 0.05f, true);
        out.putShort(Float.floatToFloat16(d));
        double[] v = new double[32];
        for (int i = 0; i < 32; i++) {
            int q = rnd.nextInt(256) - 128;
            out.put((byte) q);
            v[i] = (double) d * q;
        }
        return v;
    }

    static double[] q4_0Block(Random rnd, ByteBuffer out) {
        float d = randomHalf(rnd, 1e-3f, 0.05f, true);
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) q[i] = rnd.nextInt(16);
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) out.put((byte) (q[j] | q[j + 16] << 4));
        double[] v = new double[32];
        for (int i = 0; i < 32; i++) v[i] = (double) d * (q[i] - 8);
        return v;
    }

    /** Packs eight 6-bit scales and mins into Q4_K's 12 bytes. */
    static byte[] packScalesMins(int[] sc, int[] mn) {
        byte[] s = new byte[12];
        for (int k = 0; k < 4; k++) {
            s[k] = (byte) ((sc[k] & 63) | (sc[k + 4] >> 4) << 6);
            s[k + 4] = (byte) ((mn[k] & 63) | (mn[k + 4] >> 4) << 6);
            s[k + 8] = (byte) ((sc[k + 4] & 15) | (mn[k + 4] & 15) << 4);
        }
        return s;
    }

    static double[] q4KBlock(Random rnd, ByteBuffer out) {
        int[] sc = new int[8], mn = new int[8], q = new int[256];
        for (int k = 0; k < 8; k++) {
            sc[k] = rnd.nextInt(64);
            mn[k] = rnd.nextInt(64);
        }
        for (int i = 0; i < 256; i++) q[i] = rnd.nextInt(16);
        return q4KPack(randomHalf(rnd, 1e-4f, 2e-3f, false), randomHalf(rnd, 1e-4f, 2e-3f, false), sc, mn, q, out);
    }

    static double[] q4KPack(float d, float dmin, int[] sc, int[] mn, int[] q, ByteBuffer out) {
        out.putShort(Float.floatToFloat16(d)).putShort(Float.floatToFloat16(dmin)).put(packScalesMins(sc, mn));
        byte[] qs = new byte[128];
        for (int i = 0; i < 256; i++) {
            int sub = i / 32, at = 32 * (sub / 2) + i % 32;
            qs[at] |= (byte) (sub % 2 == 0 ? q[i] : q[i] << 4);
        }
        out.put(qs);
        double[] v = new double[256];
        for (int i = 0; i < 256; i++) v[i] = (double) d * sc[i / 32] * q[i] - (double) dmin * mn[i / 32];
        return v;
    }

    static double[] q5KBlock(Random rnd, ByteBuffer out) {
        int[] sc = new int[8], mn = new int[8], q = new int[256];
        for (int k = 0; k < 8; k++) {
            sc[k] = rnd.nextInt(64);
            mn[k] = rnd.nextInt(64);
        }
        for (int i = 0; i < 256; i++) q[i] = rnd.nextInt(32);
        return q5KPack(randomHalf(rnd, 1e-4f, 2e-3f, false), randomHalf(rnd, 1e-4f, 2e-3f, false), sc, mn, q, out);
    }

    /**
     * ggml's block_q5_K: d, dmin, the 12 bytes of scales and mins, qh[32], qs[128]. Value {@code 64c + l} (l < 32)
     * takes the low nibble of qs[32c + l] and bit 2c of qh[l]; value {@code 64c + 32 + l} the high nibble and bit 2c+1.
     */
    static double[] q5KPack(float d, float dmin, int[] sc, int[] mn, int[] q, ByteBuffer out) {
        out.putShort(Float.floatToFloat16(d)).putShort(Float.floatToFloat16(dmin)).put(packScalesMins(sc, mn));
        byte[] qh = new byte[32], qs = new byte[128];
        for (int i = 0; i < 256; i++) {
            int c = i / 64, hi = i % 64 / 32, l = i % 32;
            qs[32 * c + l] |= (byte) ((q[i] & 15) << (4 * hi));
            qh[l] |= (byte) ((q[i] >> 4) << (2 * c + hi));
        }
        out.put(qh).put(qs);
        double[] v = new double[256];
        for (int i = 0; i < 256; i++) v[i] = (double) d * sc[i / 32] * q[i] - (double) dmin * mn[i / 32];
        return v;
    }

    static double[] q6KBlock(Random rnd, ByteBuffer out) {
        int[] sc = new int[16], q = new int[256];
        for (int g = 0; g < 16; g++) sc[g] = rnd.nextInt(256) - 128;
        for (int i = 0; i < 256; i++) q[i] = rnd.nextInt(64);
        return q6KPack(randomHalf(rnd, 1e-5f, 2e-4f, true), sc, q, out);
    }

    /** {@code q} are the unsigned 6-bit codes (value {@code q-32}); scale {@code g} covers values {@code 16g..16g+15}. */
    static double[] q6KPack(float d, int[] sc, int[] q, ByteBuffer out) {
        byte[] ql = new byte[128], qh = new byte[64];
        for (int i = 0; i < 256; i++) {
            int half = i / 128, j = i % 128, k = j / 32, l = j % 32;
            int lo = q[i] & 15, hi = q[i] >> 4;
            ql[64 * half + 32 * (k & 1) + l] |= (byte) (k < 2 ? lo : lo << 4);
            qh[32 * half + l] |= (byte) (hi << (2 * k));
        }
        out.put(ql).put(qh);
        for (int s : sc) out.put((byte) s);
        out.putShort(Float.floatToFloat16(d));
        double[] v = new double[256];
        for (int i = 0; i < 256; i++) v[i] = (double) d * sc[i / 16] * (q[i] - 32);
        return v;
    }

    static Built build(DType type, int rows, int cols, long seed) {
        BlockMaker maker = switch (type) {
            case Q8_0 -> QuantMatrixTest::q8_0Block;
            case Q4_0 -> QuantMatrixTest::q4_0Block;
            case Q4_K -> QuantMatrixTest::q4KBlock;
            case Q5_K -> QuantMatrixTest::q5KBlock;
            case Q6_K -> QuantMatrixTest::q6KBlock;
            default -> throw new IllegalArgumentException(type.name());
        };
        Random rnd = new Random(seed);
        int blocksPerRow = cols / type.blockSize();
        ByteBuffer buf = ByteBuffer.allocate(rows * blocksPerRow * type.blockBytes()).order(ByteOrder.LITTLE_ENDIAN);
        double[] values = new double[rows * cols];
        for (int b = 0; b < rows * blocksPerRow; b++) {
            int start = buf.position();
            double[] v = maker.make(rnd, buf);
            assertEquals(type.blockBytes(), buf.position() - start, type + " block size");
            System.arraycopy(v, 0, values, b * type.blockSize(), v.length);
        }
        return new Built(type, rows, cols, buf.array(), values);
    }

    static float[] randomX(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    static double refDot(Built b, int r, float[] x, int xOff) {
        double s = 0;
        for (int i = 0; i < b.cols(); i++) s += b.values()[r * b.cols() + i] * x[xOff + i];
        return s;
    }

    static double absDot(Built b, int r, float[] x, int xOff) {
        double s = 0;
        for (int i = 0; i < b.cols(); i++) s += Math.abs(b.values()[r * b.cols() + i] * x[xOff + i]);
        return s;
    }

    private static final DType[] TYPES = {DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q5_K, DType.Q6_K};

    @Test
    void rowDecodesEveryBlockAsTheFormatDefines() {
        for (DType type : TYPES) {
            Built b = build(type, 5, 3 * type.blockSize(), 11);
            CpuMatrix m = CpuMatrix.of(b.tensor());
            assertEquals(type.name().replace("_", "").toLowerCase(), m.getClass().getSimpleName().replace("_", "").replace("Matrix", "").toLowerCase());
            float[] out = new float[b.cols() + 3];
            for (int r = 0; r < b.rows(); r++) {
                m.row(r, out, 3);
                for (int i = 0; i < b.cols(); i++) {
                    double want = b.values()[r * b.cols() + i];
                    assertEquals(want, out[3 + i], Math.abs(want) * 1e-6 + 1e-12, type + " row " + r + " element " + i);
                }
            }
        }
    }

    @Test
    void dotMatchesFloat64ReferenceOnBothPaths() {
        Random rnd = new Random(5);
        for (DType type : TYPES) {
            Built b = build(type, 7, 4 * type.blockSize(), 23);
            CpuMatrix m = CpuMatrix.of(b.tensor());
            MemorySegment w = MemorySegment.ofArray(b.bytes());
            int xOff = 5;
            float[] x = randomX(rnd, b.cols() + xOff);
            for (int r = 0; r < b.rows(); r++) {
                double want = refDot(b, r, x, xOff), tol = absDot(b, r, x, xOff) * 2e-6;
                long base = (long) r * (b.cols() / type.blockSize()) * type.blockBytes();
                int blocks = b.cols() / type.blockSize();
                float scalar = switch (type) {
                    case Q8_0 -> Q8_0Matrix.dotScalar(w, base, x, xOff, blocks);
                    case Q4_0 -> Q4_0Matrix.dotScalar(w, base, x, xOff, blocks);
                    case Q4_K -> Q4KMatrix.dotScalar(w, base, x, xOff, blocks);
                    case Q5_K -> Q5KMatrix.dotScalar(w, base, x, xOff, blocks);
                    default -> Q6KMatrix.dotScalar(w, base, x, xOff, blocks);
                };
                assertEquals(want, scalar, tol, type + " scalar dot, row " + r);
                assertEquals(want, m.dot(r, x, xOff), tol, type + " dot, row " + r);
            }
        }
    }

    @Test
    void vectorKernelsMatchFloat64Reference() {
        assumeTrue(SimdQuant.AVAILABLE, "Vector API not available in this JVM");
        Random rnd = new Random(9);
        for (DType type : TYPES) {
            Built b = build(type, 6, 8 * type.blockSize(), 31);
            MemorySegment w = MemorySegment.ofArray(b.bytes());
            int blocks = b.cols() / type.blockSize();
            float[] x = randomX(rnd, b.cols() + 1);
            for (int r = 0; r < b.rows(); r++) {
                long base = (long) r * blocks * type.blockBytes();
                float v = switch (type) {
                    case Q8_0 -> SimdQuant.V.dotQ8_0(w, base, x, 1, blocks);
                    case Q4_0 -> SimdQuant.V.dotQ4_0(w, base, x, 1, blocks);
                    case Q4_K -> SimdQuant.V.dotQ4K(w, base, x, 1, QuantMatrix.runSums(x, 1, b.cols(), 32), blocks, new int[16]);
                    case Q5_K -> SimdQuant.V.dotQ5K(w, base, x, 1, QuantMatrix.runSums(x, 1, b.cols(), 32), blocks, new int[16]);
                    default -> SimdQuant.V.dotQ6K(w, base, x, 1, blocks);
                };
                assertEquals(refDot(b, r, x, 1), v, absDot(b, r, x, 1) * 2e-6, type + " vector dot, row " + r);
            }
        }
    }

    @Test
    void dotAgreesWithRowOnRandomBytes() {
        // Arbitrary bytes (every bit pattern, including extreme scales) must give dot == row · x.
        Random rnd = new Random(77);
        for (DType type : TYPES) {
            int rows = 4, cols = 2 * type.blockSize();
            byte[] bytes = new byte[rows * cols / type.blockSize() * type.blockBytes()];
            rnd.nextBytes(bytes);
            // keep the f16 scales finite: clear the top exponent bit of every f16 field
            for (int b = 0; b < rows * cols / type.blockSize(); b++) {
                int p = b * type.blockBytes();
                int[] halves = switch (type) {
                    case Q4_K, Q5_K -> new int[]{p, p + 2};
                    case Q6_K -> new int[]{p + 208};
                    default -> new int[]{p};
                };
                for (int h : halves) bytes[h + 1] &= (byte) 0xBF;
            }
            CpuMatrix m = CpuMatrix.of(new Tensor("w", type, new long[]{rows, cols}, MemorySegment.ofArray(bytes)));
            float[] x = randomX(rnd, cols), row = new float[cols];
            for (int r = 0; r < rows; r++) {
                m.row(r, row, 0);
                double want = 0, abs = 0;
                for (int i = 0; i < cols; i++) {
                    assertTrue(Float.isFinite(row[i]), type + " decoded a non-finite value");
                    want += (double) row[i] * x[i];
                    abs += Math.abs((double) row[i] * x[i]);
                }
                assertEquals(want, m.dot(r, x, 0), abs * 1e-5, type + " dot vs row, row " + r);
            }
        }
    }

    /** Rows written by the library's quantizer decode to within (about) half a quantization step of the input. */
    @Test
    void quantizerRoundTripsWithinHalfAStep() {
        Random rnd = new Random(3);
        for (DType type : TYPES) {
            int cols = 512, group = switch (type) {
                case Q4_K, Q5_K -> 32;
                case Q6_K -> 16;
                default -> 32;
            };
            float[] x = randomX(rnd, cols);
            ByteBuffer buf = ByteBuffer.allocate(cols / type.blockSize() * type.blockBytes()).order(ByteOrder.LITTLE_ENDIAN);
            Quantizer.encode(type, x, 0, cols, buf);
            assertEquals(buf.capacity(), buf.position(), type + " bytes written");
            CpuMatrix m = CpuMatrix.of(new Tensor("w", type, new long[]{1, cols}, MemorySegment.ofArray(buf.array())));
            float[] y = new float[cols];
            m.row(0, y, 0);
            for (int g = 0; g < cols / group; g++) {
                double lo = 0, hi = 0, amax = 0;
                for (int i = group * g; i < group * g + group; i++) {
                    lo = Math.min(lo, x[i]);
                    hi = Math.max(hi, x[i]);
                    amax = Math.max(amax, Math.abs(x[i]));
                }
                double step = switch (type) {
                    case Q8_0 -> amax / 127;
                    case Q4_0 -> amax / 8;
                    case Q4_K -> (hi - lo) / 15;
                    case Q5_K -> (hi - lo) / 31;
                    default -> amax / 31;
                };
                // half a step, plus the rounding of the scales (f16; 6-bit / 8-bit multiples for the K types); Q4_0's
                // codes run from -8 to 7, so a value opposite in sign to the extreme one clamps to 7: a whole step
                double slack = type.name().endsWith("K") ? step * 0.3 : type == DType.Q4_0 ? step * 0.5 : amax * 2e-3;
                for (int i = group * g; i < group * g + group; i++)
                    assertEquals(x[i], y[i], step * 0.5 + slack, type + " element " + i);
            }
        }
    }

    /** A simple Q4_K / Q6_K quantizer (written here) round-trips random rows through the kernels. */
    @Test
    void kQuantsRoundTripThroughAReferenceQuantizer() {
        Random rnd = new Random(4);
        float[] x = randomX(rnd, 512);
        for (DType type : new DType[]{DType.Q4_K, DType.Q6_K}) {
            ByteBuffer buf = ByteBuffer.allocate(2 * type.blockBytes()).order(ByteOrder.LITTLE_ENDIAN);
            double[] expect = new double[512];
            for (int b = 0; b < 2; b++) {
                double[] v = type == DType.Q4_K ? quantizeQ4K(x, 256 * b, buf) : quantizeQ6K(x, 256 * b, buf);
                System.arraycopy(v, 0, expect, 256 * b, 256);
            }
            CpuMatrix m = CpuMatrix.of(new Tensor("w", type, new long[]{1, 512}, MemorySegment.ofArray(buf.array())));
            float[] y = new float[512];
            m.row(0, y, 0);
            double err = 0, amax = 0;
            for (int i = 0; i < 512; i++) {
                assertEquals(expect[i], y[i], Math.abs(expect[i]) * 1e-6 + 1e-9, type + " element " + i);
                err = Math.max(err, Math.abs(y[i] - x[i]));
                amax = Math.max(amax, Math.abs(x[i]));
            }
            double bound = type == DType.Q4_K ? amax / 15 : amax / 31;
            assertTrue(err <= bound, type + " max error " + err + " above " + bound);
            double dot = m.dot(0, x, 0), ref = 0;
            for (int i = 0; i < 512; i++) ref += expect[i] * x[i];
            assertEquals(ref, dot, Math.abs(ref) * 1e-5 + 1e-4, type + " dot");
        }
    }

    /** Per 32-value sub-block: min = smallest value, scale = range / 15, both as 6-bit multiples of d / dmin. */
    static double[] quantizeQ4K(float[] x, int off, ByteBuffer out) {
        double[] lo = new double[8], step = new double[8];
        double maxStep = 0, maxLo = 0;
        for (int k = 0; k < 8; k++) {
            double mn = 0, mx = 0;
            for (int i = 0; i < 32; i++) {
                mn = Math.min(mn, x[off + 32 * k + i]);
                mx = Math.max(mx, x[off + 32 * k + i]);
            }
            lo[k] = -mn;
            step[k] = (mx - mn) / 15;
            maxStep = Math.max(maxStep, step[k]);
            maxLo = Math.max(maxLo, lo[k]);
        }
        float d = Float.float16ToFloat(Float.floatToFloat16((float) (maxStep / 63)));
        float dmin = Float.float16ToFloat(Float.floatToFloat16((float) (maxLo / 63)));
        int[] sc = new int[8], mn = new int[8], q = new int[256];
        for (int k = 0; k < 8; k++) {
            sc[k] = (int) Math.min(63, Math.ceil(step[k] / d));
            mn[k] = (int) Math.min(63, Math.ceil(lo[k] / dmin));
            for (int i = 0; i < 32; i++) {
                double v = (x[off + 32 * k + i] + (double) dmin * mn[k]) / ((double) d * sc[k]);
                q[32 * k + i] = (int) Math.max(0, Math.min(15, Math.round(v)));
            }
        }
        return q4KPack(d, dmin, sc, mn, q, out);
    }

    /** Per 16 values: scale = max|x| / 31 as a multiple of d (int8), codes round(x / (d·scale)) + 32. */
    static double[] quantizeQ6K(float[] x, int off, ByteBuffer out) {
        double[] amax = new double[16];
        double top = 0;
        for (int g = 0; g < 16; g++) {
            for (int i = 0; i < 16; i++) amax[g] = Math.max(amax[g], Math.abs(x[off + 16 * g + i]));
            top = Math.max(top, amax[g] / 31);
        }
        float d = Float.float16ToFloat(Float.floatToFloat16((float) (top / 127)));
        int[] sc = new int[16], q = new int[256];
        for (int g = 0; g < 16; g++) {
            sc[g] = (int) Math.min(127, Math.ceil(amax[g] / 31 / d));
            for (int i = 0; i < 16; i++) {
                double v = sc[g] == 0 ? 0 : x[off + 16 * g + i] / ((double) d * sc[g]);
                q[16 * g + i] = (int) Math.max(-32, Math.min(31, Math.round(v))) + 32;
            }
        }
        return q6KPack(d, sc, q, out);
    }

    @Test
    void rejectsRowsThatAreNotWholeBlocks() {
        for (DType type : TYPES) {
            Tensor t = new Tensor("bad", type, new long[]{2, type.blockSize() + 16}, MemorySegment.ofArray(new byte[4096]));
            AlmaException e = assertThrows(AlmaException.class, () -> CpuMatrix.of(t), type.name());
            assertTrue(e.getMessage().contains("bad"), e.getMessage());
        }
    }

    @Test
    void matmulOfSeveralTokensMatchesTheBlockDots() {
        // 9 rows: two quads of rows a quarter apart and a row by itself (Q8_0 through FewTokens); 6 tokens: a pass of
        // five and a pass of one (the last token repeated)
        int rows = 9, n = 6, cols = 512;
        for (DType type : new DType[]{DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q5_K, DType.Q6_K}) {
            Built b = build(type, rows, cols, 99);
            CpuMatrix m = CpuMatrix.of(b.tensor());
            Random rnd = new Random(1);
            float[] x = randomX(rnd, n * cols), out = new float[n * rows];
            m.matmul(x, n, out, 0, rows);
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++)
                    assertEquals(refDot(b, r, x, cols * i), out[i * rows + r], absDot(b, r, x, cols * i) * 2e-6,
                            type + " token " + i + " row " + r);
        }
    }

    @Test
    void matrixVectorProductOverFourStreamsMatchesFloat64() {
        // 23 rows in [2, 25): four streams of 5 rows (the fused four-row kernels) and 3 rows one by one
        int rows = 27, r0 = 2, r1 = 25;
        Random rnd = new Random(21);
        for (DType type : TYPES) {
            Built b = build(type, rows, 3 * type.blockSize(), 61);
            CpuMatrix m = CpuMatrix.of(b.tensor());
            float[] x = randomX(rnd, b.cols()), out = new float[rows];
            m.matvec(x, out, r0, r1);
            for (int r = 0; r < rows; r++) {
                if (r < r0 || r >= r1) assertEquals(0f, out[r], type + " row " + r + " is outside the range");
                else assertEquals(refDot(b, r, x, 0), out[r], absDot(b, r, x, 0) * 2e-6, type + " matvec row " + r);
            }
        }
    }

    @Test
    void scalarRowDecodersDecodeEveryBlockAsTheFormatDefines() {
        // row() takes the vector decoders when the Vector API is there (rowDecodesEveryBlockAsTheFormatDefines); these
        // are the scalar ones it falls back to
        for (DType type : new DType[]{DType.Q4_K, DType.Q5_K, DType.Q6_K}) {
            Built b = build(type, 3, 4 * type.blockSize(), 41);
            MemorySegment w = MemorySegment.ofArray(b.bytes());
            int blocks = b.cols() / type.blockSize();
            float[] scalar = new float[b.cols()];
            for (int r = 0; r < b.rows(); r++) {
                long base = (long) r * blocks * type.blockBytes();
                switch (type) {
                    case Q4_K -> Q4KMatrix.decode(w, base, scalar, 0, blocks);
                    case Q5_K -> Q5KMatrix.decode(w, base, scalar, 0, blocks);
                    default -> Q6KMatrix.decode(w, base, scalar, 0, blocks);
                }
                for (int i = 0; i < b.cols(); i++) {
                    double want = b.values()[r * b.cols() + i];
                    assertEquals(want, scalar[i], Math.abs(want) * 1e-6 + 1e-9, type + " row " + r + " element " + i);
                }
            }
        }
    }

    @Test
    void matmulOfOneToNineTokensSkipsRowsOutsideTheRange() {
        Random rnd = new Random(12);
        for (DType type : TYPES) {
            Built b = build(type, 5, 2 * type.blockSize(), 57);
            CpuMatrix m = CpuMatrix.of(b.tensor());
            for (int n : new int[]{1, 3, 5, 9}) {
                float[] x = randomX(rnd, n * b.cols()), out = new float[n * b.rows()];
                m.matmul(x, n, out, 1, b.rows());
                for (int i = 0; i < n; i++) {
                    assertEquals(0f, out[i * b.rows()], type + " row 0 is outside [r0, r1)");
                    for (int r = 1; r < b.rows(); r++)
                        assertEquals(refDot(b, r, x, i * b.cols()), out[i * b.rows() + r], absDot(b, r, x, i * b.cols()) * 2e-6,
                                type + " n " + n + " activation " + i + " row " + r);
                }
            }
        }
    }

    @Test
    void q4KMatmulOfTwoTokensMatchesFloat64() {
        Built b = build(DType.Q4_K, 3, 256, 99);
        CpuMatrix m = CpuMatrix.of(b.tensor());
        Random rnd = new Random(1);
        float[] x = randomX(rnd, 2 * 256), out = new float[2 * 3];
        m.matmul(x, 2, out, 0, 3);
        for (int i = 0; i < 2; i++)
            for (int r = 0; r < 3; r++)
                assertEquals(refDot(b, r, x, 256 * i), out[i * 3 + r], absDot(b, r, x, 256 * i) * 2e-6);
    }

    @Test
    void parallelDecodeToBf16AndFloatSegmentsMatchTheFormatValues() {
        // 1100 rows of 256: five parts of 256 rows on the common pool (the last one short); rows [3, 1050)
        for (DType type : new DType[]{DType.Q4_0, DType.Q4_K, DType.Q6_K}) {
            Built b = build(type, 1100, 256, 33);
            int r0 = 3, r1 = 1050, n = (r1 - r0) * b.cols();
            MemorySegment f32 = MemorySegment.ofArray(new float[n]), bf16 = MemorySegment.ofArray(new short[n]);
            CpuBackend.decodeRows(b.tensor(), r0, r1, f32, false);
            CpuBackend.decodeRows(b.tensor(), r0, r1, bf16, true);
            for (int i = 0; i < n; i++) {
                double want = b.values()[r0 * b.cols() + i];
                float got = f32.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
                assertEquals(want, got, Math.abs(want) * 1e-6 + 1e-9, type + " float value " + i);
                short h = bf16.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i);
                assertEquals(dev.alma.io.SafeTensorsWriter.toBf16(got), h, type + " bf16 value " + i);
            }
        }
        Built b = build(DType.Q4_K, 4, 256, 1);
        assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.decodeRows(b.tensor(), 0, 4, MemorySegment.ofArray(new short[4 * 256 - 1]), true));
    }
}
