package dev.alma.eval;

import java.util.Locale;

/**
 * The outcome of a paired significance test of a system against a baseline on one metric.
 *
 * @param metric        the metric's name ({@code BLEU}, {@code chrF2}, …)
 * @param signature     the metric signature with the test's fields ({@code bs:1000|seed:12345} or {@code ar:…})
 * @param baselineScore the baseline's corpus score
 * @param systemScore   the system's corpus score
 * @param pValue        the probability of an absolute score difference at least this large arising by chance,
 *                      (c + 1) / (samples + 1)
 * @param baselineMean  the baseline's mean score over the bootstrap resamples (NaN without bootstrap)
 * @param baselineCi    half-width of the baseline's 95% confidence interval (NaN without bootstrap)
 * @param systemMean    the system's mean score over the bootstrap resamples (NaN without bootstrap)
 * @param systemCi      half-width of the system's 95% confidence interval (NaN without bootstrap)
 */
public record SignificanceResult(String metric, String signature, double baselineScore, double systemScore,
                                 double pValue, double baselineMean, double baselineCi, double systemMean,
                                 double systemCi) {
    /** Whether the difference is significant at the given level (p &lt; alpha). */
    public boolean significant(double alpha) {
        return pValue < alpha;
    }

    @Override
    public String toString() {
        String ci = Double.isNaN(systemCi) ? "" : String.format(Locale.ROOT, " (%.2f ± %.2f vs %.2f ± %.2f)",
                systemMean, systemCi, baselineMean, baselineCi);
        return String.format(Locale.ROOT, "%s: system %.2f vs baseline %.2f%s, p = %.4f%s", metric, systemScore,
                baselineScore, ci, pValue, pValue < 0.05 ? "*" : "");
    }
}
