package dev.alma.cuda;

import dev.alma.backend.Weight;

/**
 * A weight in device memory: a matrix {@code [rows, cols]} kept in its stored type ({@link #type}: ALMA_F32, F16
 * or BF16 codes of {@code alma_cuda.h}, or {@link #Q8_0}), or a vector ({@code rows == 1}) converted to float32.
 * A Q8_0 matrix holds its int8 values {@code [rows, cols]} at {@code data} and its f16 block scales
 * {@code [rows, cols/32]} at {@link #scales}.
 */
final class CudaWeight implements Weight, AutoCloseable {
    static final int F32 = 0, F16 = 1, BF16 = 2;
    /** GGUF Q8_0, unpacked (not an ALMA_* type code of the kernels: only the Q8_0 kernels take it). */
    static final int Q8_0 = 8;

    final String name;
    final DeviceBuffer data;
    final int type;
    final int rows;
    final int cols;
    /** Device address of the block scales of a Q8_0 matrix, else 0. */
    final long scales;

    CudaWeight(String name, DeviceBuffer data, int type, int rows, int cols) {
        this(name, data, type, rows, cols, 0);
    }

    CudaWeight(String name, DeviceBuffer data, int type, int rows, int cols, long scales) {
        this.scales = scales;
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
