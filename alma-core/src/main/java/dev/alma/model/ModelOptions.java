package dev.alma.model;

import java.nio.file.Path;
import java.util.List;

/**
 * How to open a model.
 *
 * @param device  {@code cpu} (default), {@code cuda}, {@code cuda:N}
 * @param threads CPU threads (0: one per core)
 * @param loras   PEFT LoRA adapter directories applied on top of the base weights
 */
public record ModelOptions(String device, int threads, List<Path> loras) {
    public ModelOptions {
        device = device == null ? "cpu" : device;
        loras = loras == null ? List.of() : List.copyOf(loras);
    }

    /** CPU, all cores, no adapter. */
    public static ModelOptions defaults() {
        return new ModelOptions("cpu", 0, List.of());
    }

    public ModelOptions withDevice(String device) {
        return new ModelOptions(device, threads, loras);
    }

    public ModelOptions withThreads(int threads) {
        return new ModelOptions(device, threads, loras);
    }

    public ModelOptions withLoras(List<Path> loras) {
        return new ModelOptions(device, threads, loras);
    }
}
