package dev.alma.eval;

import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.stat.StatUtils;

import java.util.Arrays;
import java.util.List;

/**
 * Paired significance tests between a baseline and a system on the same references, by sacreBLEU's methods:
 * <ul>
 * <li><b>paired bootstrap resampling</b> (Koehn, 2004; sacreBLEU's {@code --paired-bs}): the same random resamples
 * of segments (with replacement) are scored for both systems; the p-value counts resamples whose centred absolute
 * difference exceeds the observed one; each system gets the mean and 95% confidence interval of its resampled
 * scores.</li>
 * <li><b>approximate randomization</b> (Riezler and Maxwell, 2005; {@code --paired-ar}): in each trial every
 * segment's statistics are swapped between the two systems with probability ½; the p-value counts trials whose
 * absolute difference exceeds the observed one.</li>
 * </ul>
 * Both count with sacreBLEU's {@code (c + 1) / (n + 1)} and a strict {@code >}, so, as in sacreBLEU, a system
 * compared with itself gets the smallest p-value, 1 / (n + 1): a zero difference is not attributed to chance
 * (sacreBLEU's command line never runs that comparison, it skips a system named like the baseline). The random numbers come from Commons Math's Mersenne
 * Twister seeded as given (sacreBLEU's default seed is 12345); they are not NumPy's stream, so p-values agree with
 * sacreBLEU's statistically, not digit for digit.
 */
public final class Significance {
    /** sacreBLEU's default seed ({@code SACREBLEU_SEED}). */
    public static final long DEFAULT_SEED = 12345;
    /** sacreBLEU's default number of bootstrap resamples. */
    public static final int DEFAULT_BOOTSTRAP_SAMPLES = 1000;
    /** sacreBLEU's default number of randomization trials. */
    public static final int DEFAULT_AR_TRIALS = 10000;

    private Significance() {
    }

    /** Paired bootstrap resampling of {@code system} against {@code baseline}, on the given reference streams. */
    public static SignificanceResult pairedBootstrap(Metric<?> metric, List<String> baseline, List<String> system,
                                                     List<List<String>> references, int samples, long seed) {
        checkSizes(baseline, system);
        int numRefs = References.count(system.size(), references);
        return pairedBootstrap(metric, metric.segmentStatistics(baseline, references),
                metric.segmentStatistics(system, references), numRefs, samples, seed);
    }

    /** Approximate randomization of {@code system} against {@code baseline}, on the given reference streams. */
    public static SignificanceResult approximateRandomization(Metric<?> metric, List<String> baseline,
                                                              List<String> system, List<List<String>> references,
                                                              int trials, long seed) {
        checkSizes(baseline, system);
        int numRefs = References.count(system.size(), references);
        return approximateRandomization(metric, metric.segmentStatistics(baseline, references),
                metric.segmentStatistics(system, references), numRefs, trials, seed);
    }

    /** Paired bootstrap on precomputed segment statistics of the same metric. */
    public static SignificanceResult pairedBootstrap(Metric<?> metric, double[][] baseline, double[][] system,
                                                     int numRefs, int samples, long seed) {
        checkStats(baseline, system, samples);
        double blScore = metric.fromStatistics(Statistics.sum(baseline), numRefs).score();
        double sysScore = metric.fromStatistics(Statistics.sum(system), numRefs).score();
        RandomGenerator rng = new MersenneTwister(seed);
        int n = system.length;
        double[] blScores = new double[samples], sysScores = new double[samples], diffs = new double[samples];
        int[] idx = new int[n];
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < n; i++) idx[i] = rng.nextInt(n);
            blScores[s] = metric.fromStatistics(Statistics.sum(baseline, idx), numRefs).score();
            sysScores[s] = metric.fromStatistics(Statistics.sum(system, idx), numRefs).score();
            diffs[s] = Math.abs(sysScores[s] - blScores[s]);
        }
        double observed = Math.abs(blScore - sysScore);
        double meanDiff = StatUtils.mean(diffs);
        int exceed = 0;
        for (double d : diffs) if (d - meanDiff > observed) exceed++;
        double[] bl = meanAndCi(blScores), sys = meanAndCi(sysScores);
        String sig = Signature.withTest(metric.signature(numRefs), samples, 0, Long.toString(seed));
        return new SignificanceResult(metric.name(), sig, blScore, sysScore, pValue(exceed, samples), bl[0], bl[1],
                sys[0], sys[1]);
    }

    /** Approximate randomization on precomputed segment statistics of the same metric. */
    public static SignificanceResult approximateRandomization(Metric<?> metric, double[][] baseline,
                                                              double[][] system, int numRefs, int trials, long seed) {
        checkStats(baseline, system, trials);
        double[] blTotal = Statistics.sum(baseline), sysTotal = Statistics.sum(system);
        double blScore = metric.fromStatistics(blTotal, numRefs).score();
        double sysScore = metric.fromStatistics(sysTotal, numRefs).score();
        double observed = Math.abs(blScore - sysScore);
        RandomGenerator rng = new MersenneTwister(seed);
        int width = blTotal.length;
        double[] a = new double[width], b = new double[width];
        int exceed = 0;
        for (int t = 0; t < trials; t++) {
            Arrays.fill(a, 0);
            int bits = 0;
            for (int i = 0; i < system.length; i++) {
                if ((i & 31) == 0) bits = rng.nextInt(); // 32 fair coins at a time
                double[] row = (bits & (1 << (i & 31))) != 0 ? baseline[i] : system[i];
                for (int j = 0; j < width; j++) a[j] += row[j];
            }
            // the other pseudo-system holds every segment a did not take
            for (int j = 0; j < width; j++) b[j] = blTotal[j] + sysTotal[j] - a[j];
            double diff = Math.abs(metric.fromStatistics(a, numRefs).score() - metric.fromStatistics(b, numRefs).score());
            if (diff > observed) exceed++;
        }
        String sig = Signature.withTest(metric.signature(numRefs), 0, trials, Long.toString(seed));
        return new SignificanceResult(metric.name(), sig, blScore, sysScore, pValue(exceed, trials), Double.NaN,
                Double.NaN, Double.NaN, Double.NaN);
    }

    /** sacreBLEU's {@code _compute_p_value}: (c + 1) / (n + 1), so a p-value is never 0. */
    private static double pValue(int exceed, int n) {
        return (exceed + 1.0) / (n + 1.0);
    }

    /**
     * Mean of the resampled scores and half the width of the interval between the scores at ranks n/40 and
     * n - n/40 - 1 (sacreBLEU's 95% interval).
     */
    static double[] meanAndCi(double[] scores) {
        double[] sorted = scores.clone();
        Arrays.sort(sorted);
        int lower = sorted.length / 40, upper = sorted.length - lower - 1;
        return new double[]{StatUtils.mean(sorted), 0.5 * (sorted[upper] - sorted[lower])};
    }

    private static void checkSizes(List<String> baseline, List<String> system) {
        if (baseline.size() != system.size())
            throw new IllegalArgumentException("baseline has " + baseline.size() + " segments but the system has "
                    + system.size());
    }

    private static void checkStats(double[][] baseline, double[][] system, int samples) {
        if (baseline.length != system.length || baseline.length == 0)
            throw new IllegalArgumentException("paired test needs the same, non-zero number of segments (baseline "
                    + baseline.length + ", system " + system.length + ")");
        if (samples < 1) throw new IllegalArgumentException("number of samples must be positive, got " + samples);
    }
}
