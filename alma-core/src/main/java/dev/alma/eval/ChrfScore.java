package dev.alma.eval;

import java.util.Locale;

/** A chrF or chrF++ score (0–100) with its configuration. */
public record ChrfScore(double score, int charOrder, int wordOrder, int beta, String signature) implements Score {
    /** {@code chrF2} for chrF, {@code chrF2++} for word order 2, as sacreBLEU names them. */
    @Override
    public String name() {
        return "chrF" + beta + "+".repeat(wordOrder);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s|%s = %.2f", name(), signature, score);
    }
}
