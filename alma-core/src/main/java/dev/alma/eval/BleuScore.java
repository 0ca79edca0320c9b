package dev.alma.eval;

import java.util.Arrays;
import java.util.Locale;

/**
 * A BLEU score with its parts: matched and total n-gram counts per order, precisions (0–100), brevity penalty and
 * the hypothesis and (closest) reference lengths in tokens.
 */
public final class BleuScore implements Score {
    private final double score;
    private final double[] counts;
    private final double[] totals;
    private final double[] precisions;
    private final double bp;
    private final long sysLen;
    private final long refLen;
    private final String signature;

    BleuScore(double score, double[] counts, double[] totals, double[] precisions, double bp, long sysLen,
              long refLen, String signature) {
        this.score = score;
        this.counts = counts.clone();
        this.totals = totals.clone();
        this.precisions = precisions.clone();
        this.bp = bp;
        this.sysLen = sysLen;
        this.refLen = refLen;
        this.signature = signature;
    }

    @Override
    public String name() {
        return "BLEU";
    }

    @Override
    public double score() {
        return score;
    }

    @Override
    public String signature() {
        return signature;
    }

    /** Matched n-grams per order (after add-k smoothing, when used). */
    public double[] counts() {
        return counts.clone();
    }

    /** Hypothesis n-grams per order (after add-k smoothing, when used). */
    public double[] totals() {
        return totals.clone();
    }

    /** n-gram precisions, 0–100. */
    public double[] precisions() {
        return precisions.clone();
    }

    /** The brevity penalty. */
    public double bp() {
        return bp;
    }

    /** Hypothesis length in tokens. */
    public long sysLen() {
        return sysLen;
    }

    /** Reference length in tokens (closest reference per segment). */
    public long refLen() {
        return refLen;
    }

    /** sacreBLEU's line: {@code BLEU|signature = 45.36 78.1/52.3/36.9/26.4 (BP = 1.000 ratio = …)}. */
    @Override
    public String toString() {
        StringBuilder p = new StringBuilder();
        for (int i = 0; i < precisions.length; i++) {
            if (i > 0) p.append('/');
            p.append(String.format(Locale.ROOT, "%.1f", precisions[i]));
        }
        double ratio = refLen == 0 ? 0 : (double) sysLen / refLen;
        return String.format(Locale.ROOT, "BLEU|%s = %.2f %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
                signature, score, p, bp, ratio, sysLen, refLen);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BleuScore b && b.score == score && Arrays.equals(b.counts, counts)
                && Arrays.equals(b.totals, totals) && b.sysLen == sysLen && b.refLen == refLen
                && b.signature.equals(signature);
    }

    @Override
    public int hashCode() {
        return Double.hashCode(score) * 31 + signature.hashCode();
    }
}
