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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
        if (AlmaCuda.alma_gemm_set_variant(0) == 0) {
            try {
                gpu.matmul(xa, wt, n, out);
                d.append("; mma.sync GEMM: relative error ").append(TestData.relError(TestData.read(gpu, out, n), ref));
            } finally {
                AlmaCuda.alma_gemm_set_variant(CudaBackend.WGMMA_GEMM_VARIANT);
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
