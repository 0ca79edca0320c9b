package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.io.Quantizer;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static dev.alma.cuda.TestData.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Q8_0 weights: the int8 GEMV (1–8 rows), the dequantizing GEMM path (prompts) and the embedding gather of the CUDA
 * backend against the CPU backend's Q8_0 kernels (the twin) on shapes that are not multiples of the kernels' tiles.
 * The twin itself is first held to a float64 product of the dequantized values (everywhere); the GPU part is skipped
 * without a device.
 */
class Q8_0Test {
    private static final int ROWS = 133, COLS = 4096 + 96;

    /** A Q8_0 tensor of random values, and those values as the quantization stored them (float64). */
    private record Quantized(Tensor tensor, double[][] values) {
    }

    private static Quantized quantized(Random rnd, int rows, int cols) {
        float[] x = random(rnd, rows * cols, 1f);
        ByteBuffer buf = ByteBuffer.allocateDirect((int) DType.Q8_0.byteSize((long) rows * cols)).order(ByteOrder.LITTLE_ENDIAN);
        Quantizer.encode(DType.Q8_0, x, 0, x.length, buf);
        Tensor t = new Tensor("w", DType.Q8_0, new long[]{rows, cols}, MemorySegment.ofBuffer(buf.clear()));
        double[][] v = new double[rows][cols];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols / 32; b++) {
                int p = (r * (cols / 32) + b) * 34;
                double d = Float.float16ToFloat(buf.getShort(p));
                for (int i = 0; i < 32; i++) v[r][32 * b + i] = d * buf.get(p + 2 + i);
            }
        return new Quantized(t, v);
    }

    private static double[][] product(float[][] x, double[][] w) {
        double[][] y = new double[x.length][w.length];
        for (int t = 0; t < x.length; t++)
            for (int r = 0; r < w.length; r++) {
                double s = 0;
                for (int c = 0; c < w[r].length; c++) s += x[t][c] * w[r][c];
                y[t][r] = s;
            }
        return y;
    }

    private static float[][] matmul(Backend b, Tensor w, float[][] x) {
        Weight wb = b.weight(w);
        Activations xa = load(b, x, x.length, x[0].length), y = b.allocate(x.length, w.rows());
        b.matmul(xa, wb, x.length, y);
        return read(b, y, x.length);
    }

    @Test
    void theCpuTwinMatchesTheDequantizedProduct() {
        Random rnd = new Random(80);
        Quantized w = quantized(rnd, ROWS, COLS);
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (int n : new int[]{1, 5, 11}) {
                float[][] x = randomRows(rnd, n, COLS, 1f);
                double err = relError(matmul(cpu, w.tensor(), x), product(x, w.values()));
                assertTrue(err <= 1e-5, "CPU Q8_0 n=" + n + ": " + err);
            }
            int[] tokens = {0, 132, 7};
            Activations o = cpu.allocate(tokens.length, COLS);
            cpu.embed(cpu.weight(w.tensor()), tokens, o);
            double[][] rows = {w.values()[0], w.values()[132], w.values()[7]};
            assertTrue(relError(read(cpu, o, tokens.length), rows) <= 1e-7, "CPU Q8_0 embedding");
        }
    }

    @Test
    void gpuMatchesTheCpuTwin() {
        GpuAssumptions.assumeDevice();
        Random rnd = new Random(81);
        Quantized w = quantized(rnd, ROWS, COLS);
        try (CpuBackend cpu = new CpuBackend(2); CudaBackend f32 = new CudaBackend(0, false);
             CudaBackend tc = new CudaBackend(0, true)) {
            for (int n : new int[]{1, 2, 5, 8, 11, 40}) {
                float[][] x = randomRows(rnd, n, COLS, 1f);
                float[][] twin = matmul(cpu, w.tensor(), x);
                double err = relError(matmul(f32, w.tensor(), x), twin);
                assertTrue(err <= 1e-5, "Q8_0 n=" + n + " float32 math: " + err);
                double errTc = relError(matmul(tc, w.tensor(), x), twin);
                // beyond 8 rows the tensor-core GEMM takes bf16 weights and activations
                assertTrue(errTc <= (n <= CudaBackend.GEMV_MAX_ROWS ? 1e-5 : 1e-2), "Q8_0 n=" + n + " tensor-core math: " + errTc);
            }
            int[] tokens = {0, 132, 7, 7, 64};
            Weight tg = f32.weight(w.tensor()), tcpu = cpu.weight(w.tensor());
            Activations og = f32.allocate(tokens.length, COLS), oc = cpu.allocate(tokens.length, COLS);
            f32.embed(tg, tokens, og);
            cpu.embed(tcpu, tokens, oc);
            double err = relError(read(f32, og, tokens.length), read(cpu, oc, tokens.length));
            assertTrue(err <= 1e-6, "Q8_0 embedding: " + err);
        }
    }
}
