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
 * <p>Why: a decode product reads rows against the same activations. When a row is long, the rows passing through
 * the L1 cache between two uses of an activation line push the activations out (the down projection of the 940M
 * benchmark model: 4 × 5.8 KB of Q8_0 rows and 22 KB of activations); reloading them cost ~20% of a Q8_0 product's
 * speed from memory, and up to half of a K-quant's, whose kernels read the activations as floats (LLaMA-7B's
 * 11008-column down projection: 43 KB of them per row). Per panel the activations are a few KB and stay in L1
 * while the rows stream past. The panels are multiplied one after another, each over all the rows asked for, and
 * their sums are added in panel order.
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
     * Columns per panel for a matrix of {@code type} and {@code cols} columns, or 0 to keep its rows whole: panels
     * of 2048 columns for Q8_0 and Q6_K matrices wider than that, and for Q4_K and Q5_K ones wider than 4096. Their
     * decode products are bound by the cores' arithmetic (a K-quant's activations, kept as floats, are read 7-8
     * bytes per weight byte), which the activation reloads slowed. JMH {@code ModelBench.decodeStep -p hidden=4096}
     * (4 layers of LLaMA-2 7B's width, 2 threads, alternating): Q8_0 31.1 and 30.0 steps/s with panels, 27.1 and
     * 26.0 without. {@code MatmulBench -p tokens=1} (2 threads, two rounds; GFLOP/s without → with panels) at
     * 4096 × 11008, LLaMA-2 7B's down projection: Q4_K 44-50 → 80-87, Q5_K 43-44 → 70-73, Q6_K 26-28 → 59-61; at
     * 16384 × 4096: Q6_K 48 → 72, Q4_K 88-89 → 91 (not worth its copy), Q5_K 83-87 → 78-81 (slower). F16 measured
     * 17.7/18.9 steps/s with and 18.8/19.5 without (its products wait on memory, which moved more than that between
     * runs): no gain worth a copy of the weights.
     */
    static int widthFor(DType type, int rows, int cols) {
        if (!ENABLED || rows <= 1) return 0;
        int wider = switch (type) {
            case Q8_0, Q6_K -> 2048;
            case Q4_K, Q5_K -> 4096;
            default -> Integer.MAX_VALUE;
        };
        return cols > wider ? 2048 : 0;
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

    /**
     * Panel by panel: each panel's product over rows {@code [r0, r1)} (its type's own {@link #matvec}, on its slice of
     * {@code x}), added into {@code out} in panel order.
     */
    @Override
    void matvec(float[] x, float[] out, int r0, int r1) {
        panels[0].matvec(x, out, r0, r1);
        if (panels.length == 1) return;
        float[] part = scratch(PART, r1), xp = scratch(SLICE, width);
        for (int p = 1; p < panels.length; p++) {
            CpuMatrix m = panels[p];
            System.arraycopy(x, p * width, xp, 0, m.cols);
            m.matvec(xp, part, r0, r1);
            for (int r = r0; r < r1; r++) out[r] += part[r];
        }
    }

    /** The panels' own: any width works, each panel's activations being copied out for it. */
    @Override
    int fewTokensMax() {
        return panels[0].fewTokensMax();
    }

    /**
     * A few activation rows ({@link FewTokens}) panel by panel, as {@link #matvec}, each panel's slice of the
     * activations copied out for it; more go to {@link Gemm} over the joined rows. Against the rows in place, five
     * tokens run at the same speed for Q8_0 and Q4_K and ~5% slower for Q6_K (its panels' rows are half as long, the
     * kernel's per-row sums twice as frequent): {@code MatmulBench -p tokens=5}, 2 threads, two rounds, GFLOP/s at
     * 4096 × 11008: Q8_0 156 / 164 → 174 / 164, Q4_K 123 / 127 → 117-128, Q6_K 84 / 88 → 78-81; Q6_K at 16384 ×
     * 4096: 89 / 89 → 84 / 87.
     */
    @Override
    void matmul(float[] x, int n, float[] out, int r0, int r1) {
        if (!(n <= fewTokensMax() && FewTokens.applies(n))) {
            Gemm.matmul(this, x, n, out, r0, r1);
            return;
        }
        float[] part = scratch(PART, n * rows), xp = scratch(SLICE, n * width);
        for (int p = 0; p < panels.length; p++) {
            CpuMatrix m = panels[p];
            for (int i = 0; i < n; i++) System.arraycopy(x, i * cols + p * width, xp, i * m.cols, m.cols);
            FewTokens.matmul(m, xp, n, p == 0 ? out : part, r0, r1);
            if (p > 0)
                for (int i = 0; i < n; i++)
                    for (int r = r0; r < r1; r++) out[i * rows + r] += part[i * rows + r];
        }
    }

    /** Per-thread buffers of {@link #matvec} and {@link #matmul}: the panels' partial sums and activation slices. */
    private static final ThreadLocal<float[]> PART = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> SLICE = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratch(ThreadLocal<float[]> buffer, int length) {
        float[] a = buffer.get();
        if (a.length < length) buffer.set(a = new float[length]);
        return a;
    }

    @Override
    void row(int r, float[] out, int off) {
        for (int p = 0; p < panels.length; p++) panels[p].row(r, out, off + p * width);
    }
}
