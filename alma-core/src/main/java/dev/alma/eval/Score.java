package dev.alma.eval;

/** A corpus- or sentence-level metric value with the sacreBLEU-style signature that says how it was computed. */
public interface Score {
    /** The metric's display name: {@code BLEU}, {@code chrF2}, {@code chrF2++}, {@code TER}. */
    String name();

    /** The value, 0–100 (TER can exceed 100). */
    double score();

    /** The reproducibility signature, e.g. {@code nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0}. */
    String signature();
}
