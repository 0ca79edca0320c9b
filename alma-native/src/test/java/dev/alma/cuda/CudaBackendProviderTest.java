package dev.alma.cuda;

import dev.alma.AlmaException;
import dev.alma.backend.Backend;
import dev.alma.backend.Backends;
import org.junit.jupiter.api.Test;

import java.util.function.IntSupplier;

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
        checkChoice(CudaBackend.GEMM_SHAPE_PROPERTY, CudaBackend::gemmShape, CudaBackend.WGMMA_GEMM_VARIANT, 8,
                new String[]{"0", "11", "seven", "-1"}, "1..10");
    }

    /** -Dalma.cuda.gemvStream: 0 to 7, the default without it; anything else is an error naming the property and value. */
    @Test
    void gemvStreamPropertyIsCheckedBeforeAnyDeviceIsTouched() {
        checkChoice(CudaBackend.GEMV_STREAM_PROPERTY, CudaBackend::gemvStream, CudaBackend.GEMV_STREAM_DEFAULT, 5,
                new String[]{"8", "-1", "yes", "1.0", "12"}, "1..7");
    }

    /** -Dalma.cuda.gemvStreamBeams: true or false, false without it; anything else names the property and value. */
    @Test
    void gemvStreamBeamsPropertyIsCheckedBeforeAnyDeviceIsTouched() {
        String property = CudaBackend.GEMV_STREAM_BEAMS_PROPERTY, before = System.getProperty(property);
        try {
            System.clearProperty(property);
            assertFalse(CudaBackend.gemvStreamBeams());
            System.setProperty(property, " TRUE ");
            assertTrue(CudaBackend.gemvStreamBeams());
            System.setProperty(property, "false");
            assertFalse(CudaBackend.gemvStreamBeams());
            for (String bad : new String[]{"1", "yes", "on"}) {
                System.setProperty(property, bad);
                CudaException e = assertThrows(CudaException.class, CudaBackend::gemvStreamBeams);
                assertTrue(e.getMessage().contains(property + "=" + bad) && e.getMessage().contains("true or false"),
                        e.getMessage());
            }
        } finally {
            if (before == null) System.clearProperty(property);
            else System.setProperty(property, before);
        }
    }

    /**
     * A numbered choice read from a system property: {@code fallback} without it, {@code good} given with spaces
     * around, and for each of {@code bad} an error naming the property, the value and ({@code says}) what is allowed.
     */
    private static void checkChoice(String property, IntSupplier read, int fallback, int good, String[] bad,
                                    String says) {
        String before = System.getProperty(property);
        try {
            System.clearProperty(property);
            assertEquals(fallback, read.getAsInt());
            System.setProperty(property, " " + good + " ");
            assertEquals(good, read.getAsInt());
            for (String b : bad) {
                System.setProperty(property, b);
                CudaException e = assertThrows(CudaException.class, read::getAsInt);
                assertTrue(e.getMessage().contains(property + "=" + b) && e.getMessage().contains(says),
                        e.getMessage());
            }
        } finally {
            if (before == null) System.clearProperty(property);
            else System.setProperty(property, before);
        }
    }
}
