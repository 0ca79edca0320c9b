package dev.alma.backend.cpu;

import dev.alma.backend.Activations;

/** Activations on the Java heap, row-major. */
final class CpuActivations implements Activations {
    final float[] data;
    final int rows;
    final int cols;

    CpuActivations(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        this.data = new float[Math.multiplyExact(rows, cols)];
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }
}
