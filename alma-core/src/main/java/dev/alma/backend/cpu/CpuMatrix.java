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
