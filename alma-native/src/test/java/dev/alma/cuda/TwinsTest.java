package dev.alma.cuda;

import dev.alma.backend.cpu.CpuBackend;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The twins of the CUDA-only kernels against float64 / brute-force definitions. Runs everywhere. */
class TwinsTest {
    @Test
    void topKRanksByValueThenIndexWithNaNLast() {
        float[] row = {1f, 5f, Float.NaN, 5f, -Float.MAX_VALUE, Float.NEGATIVE_INFINITY, 3f};
        assertArrayEquals(new int[]{1, 3, 6, 0, 4, 5, 2}, Twins.topK(row, 7));
        assertEquals(1, Twins.argmax(row));
        Random rnd = new Random(9);
        float[] big = TestData.random(rnd, 32000, 10f);
        int[] top = Twins.topK(big, 10);
        for (int i = 1; i < top.length; i++) assertTrue(big[top[i - 1]] >= big[top[i]]);
        for (int j = 0; j < big.length; j++) {
            final int jj = j;
            if (java.util.Arrays.stream(top).noneMatch(t -> t == jj)) assertTrue(big[j] <= big[top[9]]);
        }
    }

    @Test
    void sixteenBitGemmTwinStaysWithinTheHalfTolerance() {
        Random rnd = new Random(10);
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (DType type : new DType[]{DType.BF16, DType.F16})
                for (int[] s : new int[][]{{129, 136, 33}, {64, 4096, 12}}) {
                    int rows = s[0], cols = s[1], n = s[2];
                    float[] w = TestData.round(TestData.random(rnd, rows * cols, 1f), type);
                    float[][] x = TestData.randomRows(rnd, n, cols, 1f);
                    double err = TestData.relError(Twins.gemm16(cpu, type, rows, cols, w, x),
                            Reference.matmul(x, w, rows, cols));
                    assertTrue(err <= BackendContract.HALF_TOL, type + " " + rows + "x" + cols + ": " + err);
                    assertTrue(err > BackendContract.F32_TOL, "rounding the activations must show: " + err);
                }
        }
    }

    @Test
    void fusedGateUpTwinMatchesFloat64() {
        Random rnd = new Random(11);
        int rows = 37, cols = 72, n = 3;
        float[] wg = TestData.random(rnd, rows * cols, 1f), wu = TestData.random(rnd, rows * cols, 1f);
        float[][] x = TestData.randomRows(rnd, n, cols, 1f);
        try (CpuBackend cpu = new CpuBackend(1)) {
            double[][] g = Reference.matmul(x, wg, rows, cols), u = Reference.matmul(x, wu, rows, cols);
            float[][] gf = new float[n][rows], uf = new float[n][rows];
            for (int i = 0; i < n; i++)
                for (int r = 0; r < rows; r++) {
                    gf[i][r] = (float) g[i][r];
                    uf[i][r] = (float) u[i][r];
                }
            double err = TestData.relError(Twins.gateUpSwiglu(cpu, DType.F32, rows, cols, wg, wu, x),
                    Reference.swiglu(gf, uf));
            assertTrue(err <= BackendContract.F32_TOL, "gate/up swiglu: " + err);
        }
    }

    @Test
    void uniformFillIsDeterministicBoundedAndCentred() {
        double sum = 0;
        for (int i = 0; i < 100_000; i++) {
            float v = CudaBackend.uniform(42, i, 0.5f);
            assertTrue(v >= -0.5f && v < 0.5f, "value " + v);
            sum += v;
        }
        assertTrue(Math.abs(sum / 100_000) < 0.01, "mean " + sum / 100_000);
        assertEquals(CudaBackend.uniform(42, 7, 1f), CudaBackend.uniform(42, 7, 1f));
        assertNotEquals(CudaBackend.uniform(42, 7, 1f), CudaBackend.uniform(43, 7, 1f));
    }

    @Test
    void attentionSplitsFillTheDeviceWithoutEmptyTiles() {
        assertEquals(1, CudaBackend.splits(1, 32, 1, 132));       // one key: one split
        assertEquals(33, CudaBackend.splits(1, 32, 4096, 132));   // 32 heads -> 33 splits: eight blocks per SM
        assertEquals(64, CudaBackend.splits(1, 1, 100_000, 132)); // capped
        assertEquals(2, CudaBackend.splits(1, 1, 40, 132));       // no more splits than 32-key tiles
        assertEquals(1, CudaBackend.splits(300, 8, 4096, 132));   // many queries fill the device already
    }
}
