package dev.alma.cuda;

import org.bytedeco.javacpp.Loader;

/**
 * Loads the JNI library once and turns CUDA error codes into {@link CudaException}s. {@link #unavailableReason()}
 * says, without throwing, why CUDA cannot be used here (library not built, no driver, no device).
 */
final class CudaRuntime {
    /** cudaErrorInsufficientDriver / cudaErrorNoDevice, for friendlier messages. */
    static final int INSUFFICIENT_DRIVER = 35, NO_DEVICE = 100;

    private static volatile String loadFailure;
    private static volatile boolean loaded;

    private CudaRuntime() {
    }

    /** Loads libjniAlmaCuda; null on success, else why it could not be loaded. */
    static synchronized String load() {
        if (loaded) return null;
        if (loadFailure != null) return loadFailure;
        try {
            Loader.load(AlmaCuda.class);
            loaded = true;
            return null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            loadFailure = "the CUDA kernels' JNI library (jniAlmaCuda) is not in alma-native.jar or cannot be loaded"
                    + " (it is built only where nvcc is installed): " + e.getMessage();
            return loadFailure;
        }
    }

    /** Why no CUDA device can be used, or null when at least one can. */
    static String unavailableReason() {
        String why = load();
        if (why != null) return why;
        int[] count = new int[1];
        int rc = AlmaCuda.alma_device_count(count);
        if (rc == INSUFFICIENT_DRIVER) return "no usable NVIDIA driver (" + AlmaCuda.alma_error_string(rc) + ")";
        if (rc == NO_DEVICE) return "no CUDA device found";
        if (rc != 0) return "cudaGetDeviceCount failed: " + AlmaCuda.alma_error_string(rc) + " (error " + rc + ")";
        if (count[0] == 0) return "no CUDA device found";
        return null;
    }

    /** Devices present (0 when CUDA is unavailable). */
    static int deviceCount() {
        if (unavailableReason() != null) return 0;
        int[] count = new int[1];
        check(AlmaCuda.alma_device_count(count), "cudaGetDeviceCount");
        return count[0];
    }

    /** Throws a {@link CudaException} naming {@code call} unless {@code rc} is 0. */
    static void check(int rc, String call) {
        if (rc != 0) throw new CudaException(call, rc, AlmaCuda.alma_error_string(rc));
    }
}
