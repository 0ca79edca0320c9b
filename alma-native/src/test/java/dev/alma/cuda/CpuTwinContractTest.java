package dev.alma.cuda;

import dev.alma.backend.Backend;
import dev.alma.backend.cpu.CpuBackend;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The CPU twins of the CUDA kernels, which are the CPU backend's operations, held to the float64 reference on the
 * shapes the CUDA kernels find hard. Runs everywhere.
 */
class CpuTwinContractTest extends BackendContract {
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Override
    Backend backend() {
        return cpu;
    }

    @Override
    double matmulTolerance(DType type, int n) {
        return F32_TOL;  // the CPU multiplies the stored weights with float32 activations
    }
}
