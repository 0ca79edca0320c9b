package dev.alma.backend;

import dev.alma.AlmaException;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Opens a backend by device string: {@code cpu}, {@code cuda}, {@code cuda:1}. */
public final class Backends {
    private Backends() {
    }

    /**
     * Opens the backend {@code device} names.
     *
     * @param threads CPU threads (0: one per core)
     * @throws AlmaException when the kind is unknown or cannot run here, with the reason
     */
    public static Backend open(String device, int threads) {
        String spec = device == null || device.isBlank() ? "cpu" : device.trim().toLowerCase(java.util.Locale.ROOT);
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? spec : spec.substring(0, colon);
        int index = 0;
        if (colon >= 0) {
            try {
                index = Integer.parseInt(spec.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new AlmaException("device '" + device + "': index after ':' must be a number");
            }
            if (index < 0) throw new AlmaException("device '" + device + "': index must be >= 0");
        }
        if (threads < 0) throw new AlmaException("threads " + threads + " must be >= 0");
        List<String> kinds = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            kinds.add(p.kind());
            if (!p.kind().equals(kind)) continue;
            String why = p.unavailableReason();
            if (why != null) throw new AlmaException("device '" + device + "' is unavailable: " + why);
            return p.open(index, threads);
        }
        throw new AlmaException("unknown device '" + device + "' (available kinds: " + String.join(", ", kinds)
                + (kind.equals("cuda") ? "; add alma-native to the class path for CUDA" : "") + ")");
    }
}
