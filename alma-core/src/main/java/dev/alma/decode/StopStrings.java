package dev.alma.decode;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/** Detects a stop string in the decoded text of a sequence's generated tokens. */
final class StopStrings {
    private final List<String> stops;
    private final Function<int[], String> detokenizer;

    StopStrings(List<String> stops, Function<int[], String> detokenizer) {
        if (!stops.isEmpty() && detokenizer == null)
            throw new IllegalStateException("stop strings " + stops + " need a detokenizer (Generator.withDetokenizer)");
        this.stops = stops;
        this.detokenizer = detokenizer;
    }

    /** Whether the text of {@code generated[0..n)} contains a stop string. */
    boolean hit(int[] generated, int n) {
        if (stops.isEmpty() || n == 0) return false;
        String text = detokenizer.apply(Arrays.copyOf(generated, n));
        for (String s : stops) if (text.contains(s)) return true;
        return false;
    }
}
