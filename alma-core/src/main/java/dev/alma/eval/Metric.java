package dev.alma.eval;

import java.util.List;

/**
 * A corpus-level metric computed, as in sacreBLEU, from per-segment sufficient statistics that add up over the
 * corpus; that additivity is what the significance tests resample.
 *
 * <p>References follow sacreBLEU's layout: a list of reference <em>streams</em>, each as long as the hypotheses
 * ({@code references.get(k).get(i)} is the k-th reference of segment i). A {@code null} entry means "no k-th
 * reference for this segment".
 *
 * @param <S> the score type
 */
public interface Metric<S extends Score> {
    /** The display name of this metric's scores. */
    String name();

    /** The signature of this metric's scores with this many references per segment (-1: varying). */
    String signature(int numRefs);

    /** One row of sufficient statistics per segment. */
    double[][] segmentStatistics(List<String> hypotheses, List<List<String>> references);

    /**
     * The score of a corpus from the element-wise sum of its segment statistics.
     *
     * @param numRefs references per segment for the signature, or -1 when it varies ({@code nrefs:var})
     */
    S fromStatistics(double[] totals, int numRefs);

    /** The corpus score of the hypotheses against the reference streams. */
    default S corpusScore(List<String> hypotheses, List<List<String>> references) {
        int numRefs = References.count(hypotheses.size(), references);
        return fromStatistics(Statistics.sum(segmentStatistics(hypotheses, references)), numRefs);
    }

    /** The score of one hypothesis against its references. */
    default S sentenceScore(String hypothesis, List<String> references) {
        if (hypothesis == null || references.isEmpty() || references.stream().anyMatch(r -> r == null))
            throw new IllegalArgumentException("a sentence score needs a hypothesis and at least one reference, none null");
        List<List<String>> streams = references.stream().map(List::of).toList();
        return corpusScore(List.of(hypothesis), streams);
    }
}
