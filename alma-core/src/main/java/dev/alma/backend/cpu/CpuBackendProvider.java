package dev.alma.backend.cpu;

import dev.alma.backend.Backend;
import dev.alma.backend.BackendProvider;

/** Makes {@link CpuBackend}s; always available. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String kind() {
        return "cpu";
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public Backend open(int index, int threads) {
        if (index != 0) throw new dev.alma.AlmaException("device 'cpu:" + index + "': the CPU backend has only index 0");
        return new CpuBackend(threads);
    }
}
