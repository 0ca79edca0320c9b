package dev.alma.backend;

/**
 * Found through {@link java.util.ServiceLoader}: makes backends of one kind ({@code cpu}, {@code cuda}).
 * A module that adds a backend lists its provider in {@code META-INF/services/dev.alma.backend.BackendProvider}.
 */
public interface BackendProvider {
    /** The kind, matched against the part of a device string before {@code :}. */
    String kind();

    /** Whether this kind can run here (e.g. a CUDA device and driver are present); a reason when not. */
    String unavailableReason();

    /**
     * Opens a backend.
     *
     * @param index   device index after {@code :} (0 when absent)
     * @param threads CPU threads to use (0: one per core)
     */
    Backend open(int index, int threads);
}
