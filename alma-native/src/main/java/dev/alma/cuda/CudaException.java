package dev.alma.cuda;

import dev.alma.AlmaException;

/** A CUDA call failed: names the call and the CUDA error. */
public final class CudaException extends AlmaException {
    private final int code;

    CudaException(String call, int code, String error) {
        super("CUDA " + call + " failed: " + error + " (error " + code + ")");
        this.code = code;
    }

    CudaException(String message) {
        super(message);
        this.code = -1;
    }

    /** The {@code cudaError_t} value, or -1 when the failure was not a CUDA error code. */
    public int code() {
        return code;
    }
}
