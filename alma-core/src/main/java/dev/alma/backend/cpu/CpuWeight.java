package dev.alma.backend.cpu;

import dev.alma.backend.Weight;

/** A weight on the CPU: the matrix kernel over the stored bytes, and a float copy when it is a vector. */
final class CpuWeight implements Weight {
    final CpuMatrix matrix;
    /** The values of a vector weight (norm scales), or null for a matrix. */
    final float[] vector;

    CpuWeight(CpuMatrix matrix) {
        this.matrix = matrix;
        this.vector = matrix.rows == 1 ? rowOf(matrix) : null;
    }

    private static float[] rowOf(CpuMatrix m) {
        float[] v = new float[m.cols];
        m.row(0, v, 0);
        return v;
    }

    @Override
    public int rows() {
        return matrix.rows;
    }

    @Override
    public int cols() {
        return matrix.cols;
    }
}
