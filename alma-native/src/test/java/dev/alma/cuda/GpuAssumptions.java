package dev.alma.cuda;

import org.junit.jupiter.api.Assumptions;

/** Skips GPU tests, saying why, where no CUDA device can be used; fails them where one was promised. */
final class GpuAssumptions {
    /** Set (to anything) by the GPU machine's script: a missing device is then an error, not a skip. */
    static final String EXPECT_GPU = "ALMA_EXPECT_GPU";

    private GpuAssumptions() {
    }

    static void assumeDevice() {
        String why = CudaRuntime.unavailableReason();
        if (why != null && System.getenv(EXPECT_GPU) != null)
            throw new AssertionError(EXPECT_GPU + " is set but CUDA is unavailable: " + why);
        Assumptions.assumeTrue(why == null, () -> "GPU tests skipped: " + why);
    }
}
