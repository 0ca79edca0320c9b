package dev.alma.backend.cpu;

import dev.alma.backend.Activations;
import dev.alma.backend.Weight;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The prompt kernel over packed activations ({@link Gemm#matmulPacked}) against float64 products, at whatever vector
 * width this JVM runs (the default build runs these tests again at 8 and 4 floats): every block size of token groups
 * (1-4 groups, and several blocks), row ranges that are not whole tiles of 5, columns that are not whole vectors.
 */
class GemmTest {
    private static final CpuBackend BE = new CpuBackend(2);

    @AfterAll
    static void close() {
        BE.close();
    }

    /** Token counts: one group; every block size 1..4 of the last block; several blocks; a partly filled group. */
    private static int[] tokenCounts() {
        int l = Simd.V.L;
        return new int[]{1, l - 1, l, l + 3, 2 * l, 3 * l - 2, 4 * l, 4 * l + 1, 6 * l + 5, 9 * l};
    }

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (2 * rnd.nextDouble() - 1);
        return v;
    }

    /** Packs in two column ranges (as the backend's parallel tasks do), multiplies rows {@code [r0, r1)}. */
    private static float[] packedProduct(CpuMatrix m, float[] x, int n, int r0, int r1) {
        float[] xt = new float[Tiles.packedLength(n, m.cols)];
        Arrays.fill(xt, Float.NaN); // every lane must be written, padded ones with zeros
        int half = m.cols / 2;
        Tiles.pack(x, n, m.cols, xt, 0, half);
        Tiles.pack(x, n, m.cols, xt, half, m.cols);
        float[] out = new float[n * m.rows];
        Gemm.matmulPacked(m, xt, n, out, r0, r1);
        return out;
    }

    @Test
    void packedProductsOfFloatWeightsMatchFloat64() {
        Random rnd = new Random(3);
        int rows = 23, cols = 45, r0 = 2, r1 = 21; // 19 rows: three tiles of 5 and one of 4
        for (DType type : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            Tensor t = CpuBackendTest.tensor("w", type, random(rnd, rows * cols), rows, cols);
            float[] w = t.toFloatArray();
            CpuMatrix m = CpuMatrix.of(t);
            for (int n : tokenCounts()) {
                float[] x = random(rnd, n * cols);
                float[] out = packedProduct(m, x, n, r0, r1);
                for (int i = 0; i < n; i++)
                    for (int r = 0; r < rows; r++) {
                        String at = type + ", " + n + " tokens, token " + i + " row " + r;
                        if (r < r0 || r >= r1) {
                            assertEquals(0f, out[i * rows + r], at + " is outside the range");
                            continue;
                        }
                        double ref = 0, mag = 0;
                        for (int c = 0; c < cols; c++) {
                            ref += (double) w[r * cols + c] * x[i * cols + c];
                            mag += Math.abs((double) w[r * cols + c] * x[i * cols + c]);
                        }
                        assertEquals(ref, out[i * rows + r], 1e-6 * Math.max(1, mag), at);
                    }
            }
        }
    }

    @Test
    void packedProductsOfBlockQuantizedWeightsMatchTheirDequantizedValues() {
        Random rnd = new Random(5);
        for (DType type : new DType[]{DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q5_K, DType.Q6_K}) {
            QuantMatrixTest.Built b = QuantMatrixTest.build(type, 12, 2 * type.blockSize(), 17);
            CpuMatrix m = CpuMatrix.of(b.tensor());
            for (int n : new int[]{Simd.V.L, 3 * Simd.V.L + 1}) {
                float[] x = QuantMatrixTest.randomX(rnd, n * b.cols());
                float[] out = packedProduct(m, x, n, 0, b.rows());
                for (int i = 0; i < n; i++)
                    for (int r = 0; r < b.rows(); r++)
                        assertEquals(QuantMatrixTest.refDot(b, r, x, i * b.cols()), out[i * b.rows() + r],
                                QuantMatrixTest.absDot(b, r, x, i * b.cols()) * 2e-6, type + ", " + n + " tokens, token " + i + " row " + r);
            }
        }
    }

    @Test
    void promptsGoThroughThePackedKernelWhenTheirLastGroupIsMostlyFull() {
        int l = Simd.V.L;
        assertEquals(Simd.AVAILABLE, Gemm.packs(l), "one whole group");
        assertFalse(Gemm.packs(l - 1), "less than one group");
        assertFalse(Gemm.packs(l + 1), "a second group of one token: mostly padding");
        assertEquals(Simd.AVAILABLE, Gemm.packs(2 * l));
        assertEquals(Simd.AVAILABLE, Gemm.packs(8 * l + l / 2 + 1), "the padding of a long prompt's last group is cheap");
        assertEquals(3, Tiles.groups(2 * l + 1));
        assertEquals(3 * l * 7, Tiles.packedLength(2 * l + 1, 7));
    }

    @Test
    void backendProductsOfSeveralWeightsShareOnePackingOfTheirInput() {
        // Q, K and V of one prompt: one packed copy of x feeds the three products (and a Q4_K weight beside F16 ones)
        Random rnd = new Random(9);
        int n = 3 * Simd.V.L + 2, cols = 256;
        QuantMatrixTest.Built k = QuantMatrixTest.build(DType.Q4_K, 11, cols, 4);
        Tensor[] ts = {
                CpuBackendTest.tensor("q", DType.F16, random(rnd, 37 * cols), 37, cols),
                k.tensor(),
                CpuBackendTest.tensor("v", DType.BF16, random(rnd, 8 * cols), 8, cols)};
        double[][] values = new double[ts.length][];
        for (int j : new int[]{0, 2}) {
            float[] f = ts[j].toFloatArray();
            values[j] = new double[f.length];
            for (int i = 0; i < f.length; i++) values[j][i] = f[i];
        }
        values[1] = k.values();
        Weight[] ws = new Weight[ts.length];
        Activations[] outs = new Activations[ts.length];
        for (int j = 0; j < ts.length; j++) {
            ws[j] = BE.weight(ts[j]);
            outs[j] = BE.allocate(n, ts[j].rows());
        }
        float[] x = random(rnd, n * cols);
        CpuActivations xa = (CpuActivations) BE.allocate(n, cols);
        System.arraycopy(x, 0, xa.data, 0, x.length);
        BE.matmul(xa, ws, n, outs);
        for (int j = 0; j < ts.length; j++) {
            double[] w = values[j];
            int rows = ts[j].rows();
            float[] got = ((CpuActivations) outs[j]).data;
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++) {
                    double ref = 0, mag = 0;
                    for (int c = 0; c < cols; c++) {
                        ref += w[r * cols + c] * x[i * cols + c];
                        mag += Math.abs(w[r * cols + c] * x[i * cols + c]);
                    }
                    assertEquals(ref, got[i * rows + r], 2e-6 * Math.max(1, mag), "weight " + j + " token " + i + " row " + r);
                }
        }
    }
}
