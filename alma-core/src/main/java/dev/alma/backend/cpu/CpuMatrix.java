package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.tensor.Tensor;

import java.lang.foreign.Arena;

/**
 * A weight matrix {@code [rows, cols]} read in place from its stored bytes (usually a memory-mapped file), one
 * subclass per storage type. The model multiplies activations by it ({@code out = x · Wᵀ}); nothing is dequantized,
 * and only wide Q8_0 and K-quant matrices are copied, unchanged, into column panels ({@link PanelMatrix}).
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
     * Dot products of four weight rows with the same activations {@code x[xOff .. xOff+cols)}:
     * {@code out[ok] = dot(rk, x, xOff)}. The default makes four {@link #dot} calls; F32, F16, BF16 and Q8_0 fuse the
     * rows so that each activation vector is loaded once for the four of them.
     */
    void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] out, int o0, int o1, int o2, int o3) {
        out[o0] = dot(r0, x, xOff);
        out[o1] = dot(r1, x, xOff);
        out[o2] = dot(r2, x, xOff);
        out[o3] = dot(r3, x, xOff);
    }

    /**
     * The matrix-vector product over weight rows {@code [r0, r1)}: {@code out[r] = dot(r, x, 0)}. The range is read as
     * four streams a quarter of it apart ({@link #dot4}), the rest row by row. Four concurrent streams far apart
     * keep more memory reads in flight than one: on a 2-core Zen 4 a decode product read its weights at ~47-53 GB/s
     * this way against ~38-41 GB/s row after row, and four adjacent rows were slower still (~30 GB/s).
     */
    void matvec(float[] x, float[] out, int r0, int r1) {
        int q = (r1 - r0) / 4;
        for (int r = r0; r < r0 + q; r++) dot4(r, r + q, r + 2 * q, r + 3 * q, x, 0, out, r, r + q, r + 2 * q, r + 3 * q);
        for (int r = r0 + 4 * q; r < r1; r++) out[r] = dot(r, x, 0);
    }

    /**
     * Up to how many activation rows {@link #matmul} goes through {@link FewTokens} ({@link #dot4x5}) for this type: 0
     * (never) by default.
     */
    int fewTokensMax() {
        return 0;
    }

    /**
     * The factor {@link FewTokens} scales the activations by before {@link #dot4x5} (a kernel's widening may leave
     * the weights scaled by a power of two).
     */
    float fewTokenScale() {
        return 1f;
    }

    /**
     * The order {@link FewTokens} permutes each 256 activations into before {@link #dot4x5} ({@code xs[b + k] =
     * x[b + order[k]]} per 256-value block), or null to keep them in place: a K-quant's {@link #fewTokenRow} writes
     * its values in the order its quants unpack fastest.
     */
    int[] fewTokenOrder() {
        return null;
    }

    /**
     * Row {@code r} as floats for {@link FewTokens#decodedDot4x5}, in {@link #fewTokenOrder} when there is one; the
     * default is {@link #row}.
     */
    void fewTokenRow(int r, float[] out, int off) {
        row(r, out, off);
    }

    /**
     * Four weight rows times five activation rows, each weight vector widened once for the five: for activation row
     * {@code j} of the pass at {@code xs[xb ..]} in {@link FewTokens#interleave}'s layout (scaled by
     * {@link #fewTokenScale}, permuted by {@link #fewTokenOrder}) and
     * weight row {@code k} of {@code ra, rb, rc, rd}, {@code sums[4j + k] = W[rk] · x_j} (unscaled), for the types
     * with a {@link #fewTokensMax}. The default decodes the four rows ({@link #fewTokenRow}) into a per-thread buffer
     * and multiplies them there ({@link FewTokens#decodedDot4x5}).
     */
    void dot4x5(int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        FewTokens.decodedDot4x5(this, ra, rb, rc, rd, xs, xb, sums);
    }

    /** Bytes of one stored row. */
    long rowBytes() {
        return tensor.type().byteSize(cols);
    }

    /** Writes weight row {@code r}, as floats, to {@code out[off .. off+cols)} (embedding lookup). */
    abstract void row(int r, float[] out, int off);

    /**
     * Whether the backend sends a product of {@code n} activation rows to {@link Gemm#matmulPacked} (prompts) rather
     * than to {@link #matmul}: when {@link FewTokens} does not take them and {@link Gemm#packs} does.
     */
    boolean packedGemm(int n) {
        return !(n <= fewTokensMax() && FewTokens.applies(n)) && Gemm.packs(n);
    }

    /**
     * For the {@code n} activation rows {@code x[i*cols ..]}, writes {@code out[i*rows + r] = dot(r, x_i)} for weight
     * rows {@code r} in {@code [r0, r1)}. A few activation rows (beams, up to {@link #fewTokensMax}) go through
     * {@link FewTokens}; otherwise the weight rows are decoded ({@link #row}) a few at a time and multiplied
     * with every activation row in register tiles ({@link Gemm#matmul}). Either way each weight is read from memory
     * once per call.
     */
    void matmul(float[] x, int n, float[] out, int r0, int r1) {
        if (n <= fewTokensMax() && FewTokens.applies(n)) FewTokens.matmul(this, x, n, out, r0, r1);
        else Gemm.matmul(this, x, n, out, r0, r1);
    }

    /**
     * The kernel for a stored tensor: a wide Q8_0 or K-quant matrix copied into column panels ({@link PanelMatrix}) as
     * {@link PanelMatrix#widthFor} says, any other
     * over its stored bytes in place, both as {@link WeightMemory} segments (when native access is enabled).
     */
    static CpuMatrix of(Tensor t) {
        return of(t, Arena.ofAuto());
    }

    /** As {@link #of(Tensor)}, the panels' memory released when {@code owner} closes. */
    static CpuMatrix of(Tensor t, Arena owner) {
        if (t.rank() < 1 || t.rank() > 2) throw new AlmaException(t.name() + ": expected a matrix, got shape " + t.shapeString());
        if (!WeightMemory.enabled()) return plain(t);
        int width = PanelMatrix.widthFor(t.type(), t.rows(), t.cols());
        if (width > 0) return new PanelMatrix(t, width, (bytes, what) -> WeightMemory.allocate(bytes, what, owner));
        return plain(new Tensor(t.name(), t.type(), t.shape(), WeightMemory.view(t.data())));
    }

    /** The kernel for a stored tensor's type, over its bytes in place. */
    static CpuMatrix plain(Tensor t) {
        if (t.rank() < 1 || t.rank() > 2) throw new AlmaException(t.name() + ": expected a matrix, got shape " + t.shapeString());
        return switch (t.type()) {
            case F32 -> new F32Matrix(t);
            case F16 -> new F16Matrix(t);
            case BF16 -> new BF16Matrix(t);
            case Q8_0 -> new Q8_0Matrix(t);
            case Q4_0 -> new Q4_0Matrix(t);
            case Q4_K -> new Q4KMatrix(t);
            case Q5_K -> new Q5KMatrix(t);
            case Q6_K -> new Q6KMatrix(t);
            default -> throw new AlmaException(t.name() + ": weight type " + t.type() + " is not supported on the CPU");
        };
    }
}
