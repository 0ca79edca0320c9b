package dev.alma.cuda;

import dev.alma.backend.Backend;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

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
