package dev.alma.cuda;

import dev.alma.backend.Backend;
import dev.alma.backend.BackendProvider;

/** Makes {@link CudaBackend}s for device strings {@code cuda} and {@code cuda:N}. */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public String kind() {
        return "cuda";
    }

    @Override
    public String unavailableReason() {
        return CudaRuntime.unavailableReason();
    }

    @Override
    public Backend open(int index, int threads) {
        return new CudaBackend(index);
    }
}
