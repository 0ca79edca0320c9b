package dev.alma.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks of sacreBLEU's reference-stream layout. */
final class References {
    private References() {
    }

    /**
     * Validates that every stream is as long as the hypotheses and returns the number of references per segment
     * (nulls not counted), or -1 when it differs between segments.
     */
    static int count(int hypotheses, List<List<String>> streams) {
        if (streams.isEmpty()) throw new IllegalArgumentException("no reference stream given");
        for (int k = 0; k < streams.size(); k++) {
            if (streams.get(k).size() != hypotheses)
                throw new IllegalArgumentException("reference stream " + (k + 1) + " has " + streams.get(k).size()
                        + " segments but there are " + hypotheses + " hypotheses");
        }
        Set<Integer> counts = new HashSet<>();
        for (int i = 0; i < hypotheses; i++) counts.add(segment(streams, i).size());
        if (counts.size() > 1) return -1;
        return counts.isEmpty() ? streams.size() : counts.iterator().next();
    }

    /** The non-null references of segment {@code i}. */
    static List<String> segment(List<List<String>> streams, int i) {
        List<String> refs = new ArrayList<>(streams.size());
        for (List<String> s : streams) {
            String r = s.get(i);
            if (r != null) refs.add(r);
        }
        return refs;
    }
}
