package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.tensor.DType;
import dev.alma.tensor.Segments;
import dev.alma.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A wide weight matrix copied, at load, into column panels: panel {@code p} holds columns
 * {@code [p·width, (p+1)·width)} of every row, its rows one after another, so that a matrix-vector product can take
 * one panel at a time and still read each panel as contiguous streams.
 *
 * <p>Why: a decode product reads four rows at once ({@link CpuMatrix#matvec}) against the same activations. When a
 * row is long, the four rows passing through the 32 KB L1 cache between two uses of an activation line push the
 * activations out (the down projection of the 940M benchmark model: 4 × 5.8 KB of Q8_0 rows and 22 KB of
 * activations); reloading them cost ~20% of the product's speed from memory. Per panel the activations are a few KB
 * and stay in L1 while the rows stream past. The panel sums are added in panel order.
 */
final class PanelMatrix extends CpuMatrix {
    private final CpuMatrix[] panels;
    /** Columns per panel (the last one may be narrower). */
    final int width;

    /** Where the panels are allocated: {@code bytes} for the panel named {@code what}. */
    @FunctionalInterface
    interface Memory {
        MemorySegment allocate(long bytes, String what);
    }

    /**
     * Copies {@code t} into panels of {@code width} columns (a positive multiple of its type's block size),
     * allocated from {@code memory}.
     */
    PanelMatrix(Tensor t, int width, Memory memory) {
        super(t);
        DType type = t.type();
        if (width <= 0 || width % type.blockSize() != 0 || cols % type.blockSize() != 0)
            throw new AlmaException(t.name() + ": cannot split " + cols + " columns of " + type + " into panels of " + width);
        long rowBytes = type.byteSize(cols);
        if (t.data().byteSize() != rowBytes * rows)
            throw new AlmaException(t.name() + ": " + t.data().byteSize() + " bytes of data, " + type + " shape "
                    + t.shapeString() + " needs " + rowBytes * rows);
        this.width = width;
        this.panels = new CpuMatrix[Math.ceilDiv(cols, width)];
        for (int p = 0; p < panels.length; p++) {
            int c0 = p * width, pc = Math.min(width, cols - c0);
            long skip = type.byteSize(c0), pieceBytes = type.byteSize(pc);
            String name = t.name() + "[:, " + c0 + ":" + (c0 + pc) + "]";
            MemorySegment panel = memory.allocate(pieceBytes * rows, name);
            for (long r = 0; r < rows; r++)
                Segments.copy(t.data(), r * rowBytes + skip, panel, r * pieceBytes, pieceBytes);
            panels[p] = CpuMatrix.plain(new Tensor(name, type, new long[]{rows, pc}, panel));
        }
    }

    /** {@code -Dalma.cpu.panels=false} keeps every matrix in place (no copies; slower decode of wide matrices). */
    static final boolean ENABLED = !"false".equals(System.getProperty("alma.cpu.panels"));

    /**
     * Columns per panel for a matrix of {@code type} and {@code cols} columns, or 0 to keep its rows whole. Only Q8_0
     * is split, in panels of 2048 columns (four pieces of rows and their activations take 17 KB of L1): its decode
     * products are bound by the cores' arithmetic, which the activation reloads slowed. JMH {@code ModelBench.decodeStep
     * -p hidden=4096} (4 layers of LLaMA-2 7B's width, 2 threads, alternating): Q8_0 31.1 and 30.0 steps/s with
     * panels, 27.1 and 26.0 without. F16 measured 17.7/18.9 with and 18.8/19.5 without (its products wait on
     * memory, which moved more than that between runs): no gain worth a copy of the weights.
     */
    static int widthFor(DType type, int rows, int cols) {
        return ENABLED && type == DType.Q8_0 && rows > 1 && cols > 2048 ? 2048 : 0;
    }

    int panelCount() {
        return panels.length;
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        float s = 0;
        for (int p = 0; p < panels.length; p++) s += panels[p].dot(r, x, xOff + p * width);
        return s;
    }

    /** Panel by panel: each one's rows {@code [r0, r1)} as four streams, the partial sums added into {@code out}. */
    @Override
    void matvec(float[] x, float[] out, int r0, int r1) {
        int q = (r1 - r0) / 4;
        float[] t = new float[4];
        panels[0].matvec(x, out, r0, r1);
        for (int p = 1; p < panels.length; p++) {
            CpuMatrix m = panels[p];
            int xo = p * width;
            for (int r = r0; r < r0 + q; r++) {
                m.dot4(r, r + q, r + 2 * q, r + 3 * q, x, xo, t, 0, 1, 2, 3);
                out[r] += t[0];
                out[r + q] += t[1];
                out[r + 2 * q] += t[2];
                out[r + 3 * q] += t[3];
            }
            for (int r = r0 + 4 * q; r < r1; r++) out[r] += m.dot(r, x, xo);
        }
    }

    /**
     * The panels' own, when their width is whole vectors ({@link FewTokens#interleave} lays activations out by
     * vector, and a panel's first column must start one); otherwise none, and {@link Gemm} takes few tokens too.
     */
    @Override
    int fewTokensMax() {
        return SimdQuant.AVAILABLE && width % FewTokens.V.L == 0 ? panels[0].fewTokensMax() : 0;
    }

    @Override
    float fewTokenScale() {
        return panels[0].fewTokenScale();
    }

    /** Panel by panel, the partial sums added in panel order. */
    @Override
    void dot4x5(int ra, int rb, int rc, int rd, float[] xs, int xb, float[] sums) {
        float[] t = new float[sums.length];
        panels[0].dot4x5(ra, rb, rc, rd, xs, xb, sums);
        for (int p = 1; p < panels.length; p++) {
            panels[p].dot4x5(ra, rb, rc, rd, xs, FewTokens.at(xb, p * width, 0), t);
            for (int i = 0; i < sums.length; i++) sums[i] += t[i];
        }
    }

    @Override
    void row(int r, float[] out, int off) {
        for (int p = 0; p < panels.length; p++) panels[p].row(r, out, off + p * width);
    }
}
