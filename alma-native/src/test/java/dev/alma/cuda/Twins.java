package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.tensor.DType;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * CPU twins of the kernels the CPU backend has no operation for: argmax/top-k, the tensor-core GEMM's rounding of
 * activations, and the fused GEMVs (composed from CPU backend operations).
 */
final class Twins {
    private Twins() {
    }

    /** Indices of the k largest values, largest first, lower index first on ties, NaN last. */
    static int[] topK(float[] row, int k) {
        Comparator<Integer> order = (a, b) -> {
            float x = row[a], y = row[b];
            boolean nx = Float.isNaN(x), ny = Float.isNaN(y);
            if (nx != ny) return nx ? 1 : -1;
            if (!nx && x != y) return x > y ? -1 : 1;
            return Integer.compare(a, b);
        };
        return IntStream.range(0, row.length).boxed().sorted(order).limit(k).mapToInt(Integer::intValue).toArray();
    }

    static int argmax(float[] row) {
        return topK(row, 1)[0];
    }

    /** The GEMM of 16-bit weights: activations rounded to the weight type, then a float32 product on the CPU. */
    static float[][] gemm16(Backend cpu, DType type, int rows, int cols, float[] w, float[][] x) {
        float[][] xr = new float[x.length][];
        for (int i = 0; i < x.length; i++) xr[i] = TestData.round(x[i], type);
        Activations xa = TestData.load(cpu, xr, x.length, cols);
        Activations out = cpu.allocate(x.length, rows);
        cpu.matmul(xa, cpu.weight(TestData.tensor("w", type, rows, cols, w)), x.length, out);
        return TestData.read(cpu, out, x.length);
    }

    /** silu(x·Wgᵀ) * (x·Wuᵀ) with the CPU backend's matmul and swiglu. */
    static float[][] gateUpSwiglu(Backend cpu, DType type, int rows, int cols, float[] wg, float[] wu, float[][] x) {
        Activations xa = TestData.load(cpu, x, x.length, cols);
        Activations g = cpu.allocate(x.length, rows), u = cpu.allocate(x.length, rows);
        cpu.matmul(xa, cpu.weight(TestData.tensor("wg", type, rows, cols, wg)), x.length, g);
        cpu.matmul(xa, cpu.weight(TestData.tensor("wu", type, rows, cols, wu)), x.length, u);
        cpu.swiglu(g, u, x.length);
        return TestData.read(cpu, g, x.length);
    }

    static float[] randomRow(long seed, int row, int cols, float scale, DType type) {
        float[] r = new float[cols];
        for (int j = 0; j < cols; j++) r[j] = TestData.round(CudaBackend.uniform(seed, (long) row * cols + j, scale), type);
        return r;
    }

    static String show(int[] a) {
        return Arrays.toString(a);
    }
}
