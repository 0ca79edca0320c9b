package dev.alma.backend.cpu;

import dev.alma.AlmaException;
import dev.alma.backend.Activations;
import dev.alma.backend.Weight;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Wide matrices copied into column panels give the products of their rows in place, against float64 references. */
class PanelMatrixTest {
    private static final DType[] TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_K, DType.Q5_K, DType.Q6_K};

    /** A random {@code rows × cols} matrix of {@code type} with its stored values as doubles. */
    private static QuantMatrixTest.Built build(DType type, int rows, int cols, long seed) {
        if (type.blockSize() > 1) return QuantMatrixTest.build(type, rows, cols, seed);
        Random rnd = new Random(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        Tensor t = CpuBackendTest.tensor("w", type, v, rows, cols);
        double[] stored = new double[v.length];
        for (int i = 0; i < v.length; i++) stored[i] = t.getFloat(i);
        byte[] bytes = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        return new QuantMatrixTest.Built(type, rows, cols, bytes, stored);
    }

    private static void assertRow(QuantMatrixTest.Built b, int r, float[] x, int xOff, float got, String what) {
        assertEquals(QuantMatrixTest.refDot(b, r, x, xOff), got, QuantMatrixTest.absDot(b, r, x, xOff) * 2e-6 + 1e-30, what);
    }

    @Test
    void productsOverPanelsMatchFloat64() {
        // 160 columns in panels of 64 (64 + 64 + 32), or 40 for the plain types (four of 40: not multiples of the
        // 16-lane vectors), or 96 for Q8_0; the K-quants' 1280 columns (five blocks) in panels of 512 or 768; 37
        // rows: four streams of 9 rows and one row by itself, and a range inside the matrix
        int rows = 37;
        Random rnd = new Random(3);
        for (DType type : TYPES) {
            boolean kQuant = type.blockSize() == 256;
            int cols = kQuant ? 1280 : 160;
            for (int width : kQuant ? new int[]{512, 768} : type == DType.Q8_0 ? new int[]{64, 96} : new int[]{64, 40}) {
                QuantMatrixTest.Built b = build(type, rows, cols, 17 + width);
                PanelMatrix m = new PanelMatrix(b.tensor(), width, (bytes, what) -> Arena.ofAuto().allocate(bytes, 64));
                assertEquals(Math.ceilDiv(cols, width), m.panelCount());
                String at = type + " in panels of " + width;

                float[] x = QuantMatrixTest.randomX(rnd, 2 * cols), out = new float[rows];
                m.matvec(x, out, 0, rows);
                for (int r = 0; r < rows; r++) assertRow(b, r, x, 0, out[r], at + ", matvec row " + r);
                float[] part = new float[rows];
                m.matvec(x, part, 3, 30);
                for (int r = 0; r < rows; r++) {
                    if (r < 3 || r >= 30) assertEquals(0f, part[r], at + ": row " + r + " is outside the range");
                    else assertRow(b, r, x, 0, part[r], at + ", matvec of rows 3..30, row " + r);
                }
                for (int r = 0; r < rows; r += 5) assertRow(b, r, x, cols - 7, m.dot(r, x, cols - 7), at + ", dot row " + r);

                float[] whole = new float[cols], pieces = new float[cols + 3];
                CpuMatrix plain = CpuMatrix.plain(b.tensor());
                for (int r = 0; r < rows; r += 6) {
                    plain.row(r, whole, 0);
                    m.row(r, pieces, 3);
                    for (int c = 0; c < cols; c++) assertEquals(whole[c], pieces[3 + c], at + ", row " + r + " column " + c);
                }

                // few tokens: FewTokens panel by panel (n = 2..16: passes of five) for the types it takes, F32 and 17
                // tokens: Gemm over joined rows
                for (int n : new int[]{2, 4, 6, 9, 17}) {
                    float[] xs = QuantMatrixTest.randomX(rnd, n * cols), outs = new float[n * rows];
                    m.matmul(xs, n, outs, 0, rows);
                    for (int i = 0; i < n; i++)
                        for (int r = 0; r < rows; r++)
                            assertRow(b, r, xs, i * cols, outs[i * rows + r], at + ", " + n + " tokens, token " + i + " row " + r);
                }
            }
        }
    }

    @Test
    void onlyWideComputeBoundMatricesArePanelled() {
        assertTrue(PanelMatrix.ENABLED);
        assertEquals(2048, PanelMatrix.widthFor(DType.Q8_0, 2048, 5504));
        assertEquals(2048, PanelMatrix.widthFor(DType.Q8_0, 32000, 4096));
        assertEquals(0, PanelMatrix.widthFor(DType.Q8_0, 5504, 2048), "a row that fits stays whole");
        assertEquals(0, PanelMatrix.widthFor(DType.Q8_0, 1, 4096), "a vector stays whole");
        assertEquals(0, PanelMatrix.widthFor(DType.F16, 4096, 11008), "memory-bound types stay in place");
        assertEquals(0, PanelMatrix.widthFor(DType.Q4_0, 4096, 11008));
        assertEquals(2048, PanelMatrix.widthFor(DType.Q6_K, 32000, 4096));
        for (DType k : new DType[]{DType.Q4_K, DType.Q5_K}) {
            assertEquals(2048, PanelMatrix.widthFor(k, 4096, 11008), k + ": LLaMA-7B's down projection");
            assertEquals(0, PanelMatrix.widthFor(k, 11008, 4096), k + ": 4096 columns gain nothing");
        }

        assumeTrue(WeightMemory.enabled(), "native access is not enabled");
        QuantMatrixTest.Built wide = build(DType.Q8_0, 3, 2112, 5), narrow = build(DType.Q8_0, 3, 2048, 5);
        assertInstanceOf(PanelMatrix.class, CpuMatrix.of(wide.tensor()));
        assertInstanceOf(Q8_0Matrix.class, CpuMatrix.of(narrow.tensor()));
        assertInstanceOf(F16Matrix.class, CpuMatrix.of(build(DType.F16, 3, 2112, 5).tensor()));
    }

    @Test
    void weightMemoryIsNativeAlignedAndViewsKeepTheirLifetime() {
        assumeTrue(WeightMemory.enabled(), "native access is not enabled");
        Arena owner = Arena.ofShared();
        java.lang.foreign.MemorySegment m = WeightMemory.allocate(1000, "test", owner);
        assertEquals(1000, m.byteSize());
        assertEquals(0, m.address() % 64);
        m.fill((byte) 7);
        assertEquals(7, m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 999));
        owner.close();
        assertThrows(IllegalStateException.class, () -> m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0),
                "released with its owner");

        Arena arena = Arena.ofConfined();
        java.lang.foreign.MemorySegment mapped = arena.allocate(64);
        java.lang.foreign.MemorySegment view = WeightMemory.view(mapped);
        assertEquals(mapped.address(), view.address());
        arena.close();
        assertThrows(IllegalStateException.class, () -> view.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0),
                "a view dies with the arena of what it views");
    }

    @Test
    void aClosedBackendRefusesWorkInsteadOfHangingOrCrashing() {
        QuantMatrixTest.Built b = build(DType.Q8_0, 8, 2112, 4);
        CpuBackend be = new CpuBackend(2);
        Weight w = be.weight(b.tensor());
        Activations x = be.allocate(1, 2112), out = be.allocate(1, 8);
        be.close();
        be.close();
        assertThrows(IllegalStateException.class, () -> be.matmul(x, w, 1, out));
        if (WeightMemory.enabled())
            assertThrows(IllegalStateException.class, () -> ((CpuWeight) w).matrix.dot(0, new float[2112], 0),
                    "the panels were released with the backend");
    }

    @Test
    void aWidthThatSplitsABlockIsRefused() {
        QuantMatrixTest.Built b = build(DType.Q8_0, 2, 128, 1);
        AlmaException e = assertThrows(AlmaException.class, () -> new PanelMatrix(b.tensor(), 48, (bytes, what) -> Arena.ofAuto().allocate(bytes, 64)));
        assertTrue(e.getMessage().contains("panels of 48"), e.getMessage());
    }

    @Test
    void theBackendMultipliesByAPanelledMatrix() {
        // 2112 columns: Q8_0 in panels of 2048 and 64, F16 in place; 2304 columns of Q6_K in panels of 2048 and
        // 256; one token goes through the parallel chunks, three through the block kernels (FewTokens) or Gemm, 7
        // through Gemm
        int rows = 45;
        Random rnd = new Random(9);
        try (CpuBackend be = new CpuBackend(2)) {
            for (DType type : new DType[]{DType.F16, DType.Q8_0, DType.Q6_K}) {
                int cols = type == DType.Q6_K ? 2304 : 2112;
                QuantMatrixTest.Built b = build(type, rows, cols, 11);
                Weight w = be.weight(b.tensor());
                if (type != DType.F16 && WeightMemory.enabled()) assertInstanceOf(PanelMatrix.class, ((CpuWeight) w).matrix);
                for (int n : new int[]{1, 3, 7}) {
                    float[] x = QuantMatrixTest.randomX(rnd, n * cols);
                    Activations xa = be.allocate(n, cols), out = be.allocate(n, rows);
                    System.arraycopy(x, 0, ((CpuActivations) xa).data, 0, x.length);
                    be.matmul(xa, w, n, out);
                    float[] o = ((CpuActivations) out).data;
                    for (int i = 0; i < n; i++)
                        for (int r = 0; r < rows; r++)
                            assertRow(b, r, x, i * cols, o[i * rows + r], type + ", " + n + " tokens, token " + i + " row " + r);
                }
            }
        }
    }
}
