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
}
