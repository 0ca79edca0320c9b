package dev.alma.decode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The finished hypotheses of one prompt in beam search: the best {@code capacity} by score, best first. New
 * hypotheses rank after equal-scoring older ones.
 */
final class FinishedBeams {
    private final int capacity;
    private final List<Hypothesis> best = new ArrayList<>();

    FinishedBeams(int capacity) {
        this.capacity = capacity;
    }

    /** Merges {@code fresh} (in rank order) into the list, keeping the best {@code capacity}. */
    void offer(List<Hypothesis> fresh) {
        if (fresh.isEmpty()) return;
        best.addAll(fresh);
        best.sort(Comparator.comparingDouble(Hypothesis::score).reversed());
        while (best.size() > capacity) best.removeLast();
    }

    boolean full() {
        return best.size() >= capacity;
    }

    int size() {
        return best.size();
    }

    /** The lowest score kept (only meaningful when {@link #full}). */
    double worst() {
        return best.getLast().score();
    }

    /** The {@code k} best, best first. */
    List<Hypothesis> top(int k) {
        return List.copyOf(best.subList(0, Math.min(k, best.size())));
    }
}
