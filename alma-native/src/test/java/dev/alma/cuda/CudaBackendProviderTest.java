package dev.alma.cuda;

import dev.alma.AlmaException;
import dev.alma.backend.Backend;
import dev.alma.backend.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The provider is found through ServiceLoader, and says clearly why CUDA cannot run when it cannot. */
class CudaBackendProviderTest {
    private final boolean expectGpu = System.getenv(GpuAssumptions.EXPECT_GPU) != null;

    @Test
    void reasonIsGivenExactlyWhenNoDeviceCanBeUsed() {
        String why = new CudaBackendProvider().unavailableReason();
        if (expectGpu) {
            assertEquals(null, why, "a GPU was promised");
        } else if (why != null) {
            assertTrue(why.contains("driver") || why.contains("device") || why.contains("jniAlmaCuda"), why);
        }
    }

    @Test
    void backendsOpenCudaOrExplainWhyNot() {
        String why = new CudaBackendProvider().unavailableReason();
        if (why == null) {
            try (Backend b = Backends.open("cuda", 0)) {
                assertEquals("cuda:0", b.name());
            }
            AlmaException e = assertThrows(AlmaException.class, () -> Backends.open("cuda:99", 0));
            assertTrue(e.getMessage().contains("no CUDA device 99"), e.getMessage());
        } else {
            AlmaException e = assertThrows(AlmaException.class, () -> Backends.open("cuda", 0));
            assertTrue(e.getMessage().contains("unavailable") && e.getMessage().contains(why), e.getMessage());
            assertFalse(expectGpu);
        }
    }

    /** -Dalma.cuda.gemmShape: 1..10, the default without it; anything else is an error naming the property and value. */
    @Test
    void gemmShapePropertyIsCheckedBeforeAnyDeviceIsTouched() {
        String before = System.getProperty(CudaBackend.GEMM_SHAPE_PROPERTY);
        try {
            System.clearProperty(CudaBackend.GEMM_SHAPE_PROPERTY);
            assertEquals(CudaBackend.WGMMA_GEMM_VARIANT, CudaBackend.gemmShape());
            System.setProperty(CudaBackend.GEMM_SHAPE_PROPERTY, " 8 ");
            assertEquals(8, CudaBackend.gemmShape());
            for (String bad : new String[]{"0", "11", "seven", "-1"}) {
                System.setProperty(CudaBackend.GEMM_SHAPE_PROPERTY, bad);
                CudaException e = assertThrows(CudaException.class, CudaBackend::gemmShape);
                assertTrue(e.getMessage().contains("alma.cuda.gemmShape=" + bad) && e.getMessage().contains("1..10"),
                        e.getMessage());
            }
        } finally {
            if (before == null) System.clearProperty(CudaBackend.GEMM_SHAPE_PROPERTY);
            else System.setProperty(CudaBackend.GEMM_SHAPE_PROPERTY, before);
        }
    }
}
