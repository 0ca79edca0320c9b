package dev.alma.cuda;

import dev.alma.backend.Activations;
import dev.alma.backend.Backend;
import dev.alma.backend.Weight;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA backend against the float64 reference and against its CPU twin (the CPU backend). Skipped, with the
 * reason, where no CUDA device can be used.
 */
class CudaBackendContractTest extends BackendContract {
    private static CudaBackend gpu;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        if (CudaRuntime.unavailableReason() != null) return;
        gpu = new CudaBackend(0);
        cpu = new CpuBackend(2);
    }

    @BeforeEach
    void needsDevice() {
        GpuAssumptions.assumeDevice();
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
        if (cpu != null) cpu.close();
    }

    @Override
    Backend backend() {
        return gpu;
    }

    @Override
    Backend twin() {
        return cpu;
    }

    /**
     * {@code -Dalma.cuda.gemmShape=N} makes a backend on a compute capability 9.0 device (the emulator is one) select
     * wgmma GEMM shape N for prompts, here a TMA-fed one, and products stay right.
     */
    @Test
    void gemmShapePropertySelectsTheWgmmaShape() {
        int before = AlmaCuda.alma_gemm_variant();
        System.setProperty(CudaBackend.GEMM_SHAPE_PROPERTY, "8");
        try (CudaBackend b = new CudaBackend(0)) {
            System.clearProperty(CudaBackend.GEMM_SHAPE_PROPERTY);
            org.junit.jupiter.api.Assumptions.assumeTrue(b.capability() == 90 && System.getProperty(
                    CudaBackend.WGMMA_PROPERTY) == null, "no wgmma kernels here: the property is ignored");
            assertEquals(8, AlmaCuda.alma_gemm_variant());
            java.util.Random rnd = new java.util.Random(10);
            int rows = 130, cols = 72, n = 133;
            float[] w = TestData.round(TestData.random(rnd, rows * cols, 1f), DType.BF16);
            float[][] x = TestData.randomRows(rnd, n, cols, 1f);
            Activations out = b.allocate(n, rows);
            b.matmul(TestData.load(b, x, n, cols), b.weight(TestData.tensor("w", DType.BF16, rows, cols, w)), n, out);
            double err = TestData.relError(TestData.read(b, out, n), Twins.gemm16(cpu, DType.BF16, rows, cols, w, x));
            assertTrue(err <= F32_TOL, "GEMM shape 8: " + err);
        } finally {
            System.clearProperty(CudaBackend.GEMM_SHAPE_PROPERTY);
            CudaRuntime.check(AlmaCuda.alma_gemm_set_variant(before), "alma_gemm_set_variant");
        }
    }

    /**
     * The paged attention's short-split path is the default; {@code -Dalma.cuda.pagedShort=false} selects the general
     * one.
     */
    @Test
    void pagedShortPropertySelectsTheGeneralPath() {
        int before = AlmaCuda.alma_attention_paged_variant();
        try {
            System.setProperty(CudaBackend.PAGED_SHORT_PROPERTY, "false");
            try (CudaBackend b = new CudaBackend(0)) {
                assertEquals(0, AlmaCuda.alma_attention_paged_variant());
            } finally {
                System.clearProperty(CudaBackend.PAGED_SHORT_PROPERTY);
            }
            try (CudaBackend b = new CudaBackend(0)) {
                assertEquals(1, AlmaCuda.alma_attention_paged_variant());
            }
        } finally {
            CudaRuntime.check(AlmaCuda.alma_attention_paged_set_variant(before), "alma_attention_paged_set_variant");
        }
    }

    /**
     * {@code -Dalma.cuda.ropeFold=false} (for timing the fold on a GPU) swaps the one folded launch for the Q/K/V GEMV
     * and the RoPE kernel, greedy and with beams, and gives the same q, k and v.
     */
    @Test
    void ropeFoldCanBeTurnedOffWithTheSameResults() {
        CudaBackend off;
        System.setProperty(CudaBackend.ROPE_FOLD_PROPERTY, "false");
        try {
            off = new CudaBackend(0);
        } finally {
            System.clearProperty(CudaBackend.ROPE_FOLD_PROPERTY);
        }
        java.util.Random rnd = new java.util.Random(9);
        int heads = 4, kvHeads = 2, hd = 16, cols = 64;
        int[] rows = {heads * hd, kvHeads * hd, kvHeads * hd};
        float[] gamma = TestData.random(rnd, cols, 2f);
        float[][] w = new float[3][];
        for (int j = 0; j < 3; j++) w[j] = TestData.round(TestData.random(rnd, rows[j] * cols, 1f), DType.BF16);
        try (off) {
            assertTrue(gpu.ropeFold);
            assertFalse(off.ropeFold);
            for (int n : new int[]{1, 5}) {
                float[][] x = TestData.randomRows(rnd, n, cols, 3f);
                int[] positions = new int[n];
                for (int i = 0; i < n; i++) positions[i] = 17 + 3 * i;
                float[][][] got = new float[2][][];
                List<List<String>> kernels = new java.util.ArrayList<>();
                for (CudaBackend b : new CudaBackend[]{gpu, off}) {
                    Weight g = b.weight(TestData.tensor("g", DType.F32, 0, cols, gamma));
                    Weight[] ws = new Weight[3];
                    Activations[] outs = new Activations[3];
                    for (int j = 0; j < 3; j++) {
                        ws[j] = b.weight(TestData.tensor("w" + j, DType.BF16, rows[j], cols, w[j]));
                        outs[j] = b.allocate(n, rows[j]);
                    }
                    Activations xa = TestData.load(b, x, n, cols), h = b.allocate(n, cols);
                    try (LaunchProfile p = new LaunchProfile(b.stream())) {
                        b.profileLaunches(p);
                        b.rmsNormQkvRope(xa, g, 1e-5f, n, h, ws, outs, heads, kvHeads, hd, positions, 10000.0, false);
                        b.synchronize();
                        kernels.add(p.totals().stream().map(LaunchProfile.Total::kernel).toList());
                        b.profileLaunches(null);
                    }
                    float[][] all = new float[n][];
                    for (int i = 0; i < n; i++) {
                        float[] row = new float[rows[0] + rows[1] + rows[2]];
                        int at = 0;
                        for (int j = 0; j < 3; j++) {
                            float[] part = new float[rows[j]];
                            b.read(outs[j], i, part, 0);
                            System.arraycopy(part, 0, row, at, rows[j]);
                            at += rows[j];
                        }
                        all[i] = row;
                    }
                    got[b == gpu ? 0 : 1] = all;
                }
                String what = "n=" + n + ", launches folded " + kernels.get(0) + ", not folded " + kernels.get(1);
                assertEquals(1, kernels.get(0).size(), what);
                assertTrue(kernels.get(0).get(0).endsWith("_norm_rope"), what);
                assertEquals(2, kernels.get(1).size(), what);
                assertTrue(kernels.get(1).get(1).contains("rope"), what);
                double err = TestData.relError(got[1], got[0]);
                assertTrue(err <= 1e-5, what + ": relative difference " + err);
            }
        }
    }

    /**
     * The device's copy of a 16-bit weight against the tensor's bytes (rows differing, and the first one's words), and
     * the 16-bit activation copies the tensor-core GEMM last read against the activations rounded.
     */
    @Override
    String deviceDiagnosis(Tensor t, Weight wt, Activations xa, float[][] x, double[][] ref) {
        CudaWeight m = (CudaWeight) wt;
        if (m.type != CudaWeight.F16 && m.type != CudaWeight.BF16) return "";
        int rows = t.rows(), cols = t.cols(), n = x.length;
        byte[] device = new byte[rows * cols * 2];
        gpu.copyToHost(m.data.ptr, device);
        MemorySegment host = t.data();
        StringBuilder d = new StringBuilder("; device weight rows differing:");
        String first = null;
        for (int r = 0; r < rows; r++) {
            boolean off = false;
            for (int k = 0; k < cols; k++) {
                long i = (long) r * cols + k;
                short want = host.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                short have = half(device, i);
                if (want != have) off = true;
            }
            if (off) {
                d.append(' ').append(r);
                if (first == null) {
                    StringBuilder words = new StringBuilder();
                    for (int k = 0; k < Math.min(cols, 8); k++) {
                        long i = (long) r * cols + k;
                        words.append(String.format(" %04x", half(device, i) & 0xFFFF));
                    }
                    first = " (row " + r + " holds" + words + " ...)";
                }
            }
        }
        d.append(first != null ? first : " none");
        long[] half = gpu.halfScratch();
        if (half[1] >= (long) n * cols * 2) {
            byte[] copies = new byte[n * cols * 2];
            gpu.copyToHost(half[0], copies);
            int off = 0, firstRow = -1;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < cols; k++) {
                    long e = (long) i * cols + k;
                    int have = half(copies, e) & 0xFFFF;
                    int want = (m.type == CudaWeight.F16 ? Float.floatToFloat16(x[i][k]) : TestData.toBf16(x[i][k])) & 0xFFFF;
                    if (have != want) {
                        off++;
                        if (firstRow < 0) firstRow = i;
                    }
                }
            d.append("; 16-bit activation copies differing: ").append(off)
                    .append(firstRow >= 0 ? " (first in row " + firstRow + ")" : "");
        }
        // The same product again: with the weight uploaded anew, and on the mma.sync GEMM instead of the wgmma one.
        Weight fresh = gpu.weight(t);
        Activations out = gpu.allocate(n, rows);
        gpu.matmul(xa, fresh, n, out);
        d.append("; fresh weight: relative error ").append(TestData.relError(TestData.read(gpu, out, n), ref));
        int variant = AlmaCuda.alma_gemm_variant();
        if (variant != 0 && AlmaCuda.alma_gemm_set_variant(0) == 0) {
            try {
                gpu.matmul(xa, wt, n, out);
                d.append("; mma.sync GEMM: relative error ").append(TestData.relError(TestData.read(gpu, out, n), ref));
            } finally {
                AlmaCuda.alma_gemm_set_variant(variant);
            }
        }
        return d.toString();
    }

    /** 16-bit element {@code i} of little-endian bytes. */
    private static short half(byte[] b, long i) {
        return (short) ((b[(int) (2 * i)] & 0xFF) | (b[(int) (2 * i + 1)] << 8));
    }

    @Override
    double matmulTolerance(DType type, int n) {
        // More than one row with 16-bit weights goes to the tensor cores, which round activations to 16 bits.
        return n > 1 && type != DType.F32 ? HALF_TOL : F32_TOL;
    }

    @Override
    double attentionTolerance(int headDim, int qCols, boolean prompt) {
        // Prompts with head dims 64 and 128 attend on tensor cores with bf16 operands.
        return prompt && gpu.tensorCorePrefill(headDim, qCols) ? HALF_TOL : F32_TOL;
    }
}
