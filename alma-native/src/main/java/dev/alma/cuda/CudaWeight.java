package dev.alma.cuda;

import dev.alma.backend.Weight;

/**
 * A weight in device memory: a matrix {@code [rows, cols]} kept in its stored type ({@link #type}: ALMA_F32, F16
 * or BF16 codes of {@code alma_cuda.h}), or a vector ({@code rows == 1}) converted to float32.
 */
final class CudaWeight implements Weight, AutoCloseable {
    static final int F32 = 0, F16 = 1, BF16 = 2;

    final String name;
    final DeviceBuffer data;
    final int type;
    final int rows;
    final int cols;

    CudaWeight(String name, DeviceBuffer data, int type, int rows, int cols) {
        this.name = name;
        this.data = data;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
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
