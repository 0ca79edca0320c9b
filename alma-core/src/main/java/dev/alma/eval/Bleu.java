package dev.alma.eval;

import dev.alma.PyStrings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * BLEU (Papineni et al., 2002) exactly as sacreBLEU 2.x computes it: the chosen tokenizer on the right-stripped
 * (optionally lower-cased) line, word n-grams up to order 4 clipped by the maximum count over the references,
 * the closest reference length (shorter wins ties) for the brevity penalty, and the chosen smoothing.
 *
 * <p>Instances are immutable; configure them with the {@code with…} methods:
 * <pre>{@code
 * BleuScore s = Bleu.DEFAULT.withTokenizer(BleuTokenizer.ZH).corpusScore(hyps, List.of(refs));
 * double sentence = Bleu.DEFAULT.withEffectiveOrder(true).sentenceScore(hyp, List.of(ref)).score();
 * }</pre>
 */
public final class Bleu implements Metric<BleuScore> {
    /** sacreBLEU's defaults: 13a, mixed case, exp smoothing, order 4, no effective order. */
    public static final Bleu DEFAULT = new Bleu(BleuTokenizer.MTEVAL_13A, false, Smoothing.EXP, Double.NaN, 4, false);

    /** Stands for log(0), as sacreBLEU's {@code my_log}. */
    private static final double LOG_ZERO = -9999999999.0;

    private final BleuTokenizer tokenizer;
    private final boolean lowercase;
    private final Smoothing smoothing;
    private final double smoothValue;
    private final int maxOrder;
    private final boolean effectiveOrder;

    private Bleu(BleuTokenizer tokenizer, boolean lowercase, Smoothing smoothing, double smoothValue, int maxOrder,
                 boolean effectiveOrder) {
        if (maxOrder < 1) throw new IllegalArgumentException("BLEU max n-gram order must be at least 1, got " + maxOrder);
        this.tokenizer = tokenizer;
        this.lowercase = lowercase;
        this.smoothing = smoothing;
        this.smoothValue = smoothing.hasValue() && Double.isNaN(smoothValue) ? smoothing.defaultValue() : smoothValue;
        this.maxOrder = maxOrder;
        this.effectiveOrder = effectiveOrder;
    }

    public Bleu withTokenizer(BleuTokenizer t) {
        return new Bleu(t, lowercase, smoothing, smoothValue, maxOrder, effectiveOrder);
    }

    public Bleu withLowercase(boolean lc) {
        return new Bleu(tokenizer, lc, smoothing, smoothValue, maxOrder, effectiveOrder);
    }

    /** The smoothing method with its default value (0.1 for floor, 1 for add-k). */
    public Bleu withSmoothing(Smoothing s) {
        return new Bleu(tokenizer, lowercase, s, Double.NaN, maxOrder, effectiveOrder);
    }

    /** The smoothing method with an explicit value (ignored by exp and none). */
    public Bleu withSmoothing(Smoothing s, double value) {
        return new Bleu(tokenizer, lowercase, s, s.hasValue() ? value : Double.NaN, maxOrder, effectiveOrder);
    }

    /** Averages only the orders with hypothesis n-grams (sacreBLEU's sentence-level mode). */
    public Bleu withEffectiveOrder(boolean eff) {
        return new Bleu(tokenizer, lowercase, smoothing, smoothValue, maxOrder, eff);
    }

    public Bleu withMaxOrder(int order) {
        return new Bleu(tokenizer, lowercase, smoothing, smoothValue, order, effectiveOrder);
    }

    public BleuTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public String name() {
        return "BLEU";
    }

    /** The signature for this configuration and number of references (-1: varying). */
    @Override
    public String signature(int numRefs) {
        String smooth = smoothing.id();
        if (smoothing.hasValue()) smooth += String.format(Locale.ROOT, "[%.2f]", smoothValue);
        return Signature.of(numRefs, "case:" + (lowercase ? "lc" : "mixed"), "eff:" + Signature.yesNo(effectiveOrder),
                "tok:" + tokenizer.id(), "smooth:" + smooth);
    }

    /** The line as BLEU sees it: optionally lower-cased, right-stripped, tokenized. */
    String preprocess(String line) {
        if (lowercase) line = PyStrings.lower(line);
        return tokenizer.tokenize(PyStrings.rstrip(line));
    }

    /**
     * Statistics per segment: {@code [hyp_len, ref_len, correct_1..correct_N, total_1..total_N]}, with the
     * closest reference length and n-gram counts clipped by the maximum over the references.
     */
    @Override
    public double[][] segmentStatistics(List<String> hypotheses, List<List<String>> references) {
        References.count(hypotheses.size(), references);
        double[][] out = new double[hypotheses.size()][];
        for (int i = 0; i < out.length; i++) {
            List<String> refs = References.segment(references, i);
            List<List<String>> tokens = new ArrayList<>(refs.size() + 1);
            tokens.add(PyStrings.split(preprocess(hypotheses.get(i))));
            for (String r : refs) tokens.add(PyStrings.split(preprocess(r)));
            out[i] = segment(tokens);
        }
        return out;
    }

    /** The statistics of the hypothesis {@code tokens.get(0)} against the references {@code tokens.get(1..)}. */
    private double[] segment(List<List<String>> tokens) {
        NgramKeys keys = new NgramKeys(NgramKeys.wordIds(tokens), maxOrder);
        int[] refLens = new int[tokens.size() - 1];
        for (int r = 0; r < refLens.length; r++) refLens[r] = tokens.get(r + 1).size();
        double[] stats = new double[2 + 2 * maxOrder];
        stats[0] = tokens.get(0).size();
        stats[1] = closestRefLen(tokens.get(0).size(), refLens);
        for (int n = 1; n <= maxOrder; n++) {
            int[] hyp = keys.counts(n, 0);
            int[] ref = new int[hyp.length]; // per n-gram, the maximum count over the references
            for (int r = 1; r < tokens.size(); r++) {
                int[] c = keys.counts(n, r);
                for (int k = 0; k < c.length; k++) ref[k] = Math.max(ref[k], c[k]);
            }
            long correct = 0;
            for (int k = 0; k < hyp.length; k++) correct += Math.min(hyp[k], ref[k]);
            stats[2 + n - 1] = correct;
            stats[2 + maxOrder + n - 1] = keys.total(n, 0);
        }
        return stats;
    }

    /** sacreBLEU's {@code _get_closest_ref_len}: the nearest length; on a tie the shorter; -1 without references. */
    private static int closestRefLen(int hypLen, int[] refLens) {
        int closestDiff = -1, closestLen = -1;
        for (int len : refLens) {
            int diff = Math.abs(hypLen - len);
            if (closestDiff == -1 || diff < closestDiff) {
                closestDiff = diff;
                closestLen = len;
            } else if (diff == closestDiff && len < closestLen) {
                closestLen = len;
            }
        }
        return closestLen;
    }

    @Override
    public BleuScore fromStatistics(double[] totals, int numRefs) {
        if (totals.length != 2 + 2 * maxOrder)
            throw new IllegalArgumentException("BLEU statistics need " + (2 + 2 * maxOrder) + " values, got " + totals.length);
        double[] correct = Arrays.copyOfRange(totals, 2, 2 + maxOrder);
        double[] total = Arrays.copyOfRange(totals, 2 + maxOrder, 2 + 2 * maxOrder);
        return compute(correct, total, (long) totals[0], (long) totals[1], signature(numRefs));
    }

    /** sacreBLEU's {@code compute_bleu}, operation for operation. */
    private BleuScore compute(double[] correct, double[] total, long sysLen, long refLen, String signature) {
        double bp = 1.0;
        if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - (double) refLen / sysLen) : 0.0;
        double[] precisions = new double[maxOrder];
        boolean anyMatch = false;
        for (double c : correct) anyMatch |= c != 0;
        if (!anyMatch) return new BleuScore(0.0, correct, total, precisions, bp, sysLen, refLen, signature);

        double smoothMteval = 1.0;
        int effOrder = maxOrder;
        for (int n = 1; n <= maxOrder; n++) {
            if (smoothing == Smoothing.ADD_K && n > 1) {
                correct[n - 1] += smoothValue;
                total[n - 1] += smoothValue;
            }
            if (total[n - 1] == 0) break;
            if (effectiveOrder) effOrder = n;
            if (correct[n - 1] == 0) {
                if (smoothing == Smoothing.EXP) {
                    smoothMteval *= 2;
                    precisions[n - 1] = 100. / (smoothMteval * total[n - 1]);
                } else if (smoothing == Smoothing.FLOOR) {
                    precisions[n - 1] = 100. * smoothValue / total[n - 1];
                }
            } else {
                precisions[n - 1] = 100. * correct[n - 1] / total[n - 1];
            }
        }
        double logSum = 0;
        for (int i = 0; i < effOrder; i++) logSum += precisions[i] == 0.0 ? LOG_ZERO : Math.log(precisions[i]);
        double score = bp * Math.exp(logSum / effOrder);
        return new BleuScore(score, correct, total, precisions, bp, sysLen, refLen, signature);
    }
}
