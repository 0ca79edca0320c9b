package dev.alma.bench;

import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** Helpers shared by the kernel benchmarks. */
final class Kernels {
    private Kernels() {
    }

    /** Activations {@code [rows, cols]} filled with uniform values in {@code [-1, 1)} (through {@link Backend#embed}). */
    static Activations activations(Backend backend, int rows, int cols, long seed) {
        return activations(backend, rows, cols, RandomWeights.floats(rows * cols, seed));
    }

    /** Activations {@code [rows, cols]} holding {@code v} (row-major). */
    static Activations activations(Backend backend, int rows, int cols, float[] v) {
        Tensor table = new Tensor("x", DType.F32, new long[]{rows, cols}, MemorySegment.ofArray(v));
        Activations a = backend.allocate(rows, cols);
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) ids[i] = i;
        backend.embed(backend.weight(table), ids, a);
        return a;
    }
}
