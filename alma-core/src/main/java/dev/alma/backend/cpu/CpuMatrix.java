package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.tensor.Tensor;

/**
 * A weight matrix {@code [rows, cols]} read in place from its stored bytes (usually a memory-mapped file), one
 * subclass per storage type. The model multiplies activations by it ({@code out = x · Wᵀ}); nothing is dequantized
 * or copied as a whole.
 *
 * <p>A subclass implements {@link #dot} and {@link #row}; it may override {@link #matmul} when a blocked kernel
 * that reads each weight row once for several activation rows pays.
 */
abstract class CpuMatrix {
    final Tensor tensor;
    final int rows;
    final int cols;

    CpuMatrix(Tensor tensor) {
        this.tensor = tensor;
        this.rows = tensor.rows();
        this.cols = tensor.cols();
    }

    /** Dot product of weight row {@code r} with {@code x[xOff .. xOff+cols)}. */
    abstract float dot(int r, float[] x, int xOff);

    /**
     * Dot products of four weight rows with the same activations {@code x[0 .. cols)}: {@code out[rk] = dot(rk, x, 0)}.
     * The default makes four {@link #dot} calls; F32, F16, BF16 and Q8_0 fuse the rows so that each activation vector is
     * loaded once for the four of them.
     */
    void dot4(int r0, int r1, int r2, int r3, float[] x, float[] out) {
        out[r0] = dot(r0, x, 0);
        out[r1] = dot(r1, x, 0);
        out[r2] = dot(r2, x, 0);
        out[r3] = dot(r3, x, 0);
    }

    /**
     * The matrix-vector product over weight rows {@code [r0, r1)}: {@code out[r] = dot(r, x, 0)}. The range is read as
     * four streams a quarter of it apart ({@link #dot4}), the rest row by row. Four concurrent streams far apart
     * keep more memory reads in flight than one: on a 2-core Zen 4 a decode product read its weights at ~47-53 GB/s
     * this way against ~38-41 GB/s row after row, and four adjacent rows were slower still (~30 GB/s).
     */
    void matvec(float[] x, float[] out, int r0, int r1) {
        int q = (r1 - r0) / 4;
        for (int r = r0; r < r0 + q; r++) dot4(r, r + q, r + 2 * q, r + 3 * q, x, out);
        for (int r = r0 + 4 * q; r < r1; r++) out[r] = dot(r, x, 0);
    }

    /** Bytes of one stored row. */
    long rowBytes() {
        return tensor.type().byteSize(cols);
    }

    /** Writes weight row {@code r}, as floats, to {@code out[off .. off+cols)} (embedding lookup). */
    abstract void row(int r, float[] out, int off);

    /**
     * For the {@code n} activation rows {@code x[i*cols ..]}, writes {@code out[i*rows + r] = dot(r, x_i)} for weight
     * rows {@code r} in {@code [r0, r1)}. The default decodes the weight rows ({@link #row}) a few at a time and
     * multiplies them with every activation row in register tiles ({@link Gemm}), so each weight is read from
     * memory and decoded once per call.
     */
    void matmul(float[] x, int n, float[] out, int r0, int r1) {
        Gemm.matmul(this, x, n, out, r0, r1);
    }

    /** The kernel for a stored tensor's type. */
    static CpuMatrix of(Tensor t) {
        if (t.rank() < 1 || t.rank() > 2) throw new AlmaException(t.name() + ": expected a matrix, got shape " + t.shapeString());
        return switch (t.type()) {
            case F32 -> new F32Matrix(t);
            case F16 -> new F16Matrix(t);
            case BF16 -> new BF16Matrix(t);
            case Q8_0 -> new Q8_0Matrix(t);
            case Q4_0 -> new Q4_0Matrix(t);
            case Q4_K -> new Q4KMatrix(t);
            case Q6_K -> new Q6KMatrix(t);
            default -> throw new AlmaException(t.name() + ": weight type " + t.type() + " is not supported on the CPU");
        };
    }
}
