package dev.alma.eval;

import java.util.Locale;

/** A TER score (edits per reference word × 100) with the total edits and the summed average reference length. */
public record TerScore(double score, double numEdits, double refLength, String signature) implements Score {
    @Override
    public String name() {
        return "TER";
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TER|%s = %.2f", signature, score);
    }
}
