package dev.alma.cuda;

import dev.alma.backend.Activations;

/** A float32 matrix {@code [rows, cols]} in device memory. */
final class CudaActivations implements Activations, AutoCloseable {
    final DeviceBuffer data;
    final int rows;
    final int cols;

    CudaActivations(DeviceBuffer data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** Device address of row {@code row}. */
    long row(int row) {
        return data.at((long) row * cols * 4);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void close() {
        data.close();
    }
}
