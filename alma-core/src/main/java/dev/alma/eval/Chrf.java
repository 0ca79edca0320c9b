package dev.alma.eval;

import dev.alma.PyStrings;
import java.util.ArrayList;
import java.util.List;

/**
 * chrF (Popović, 2015) and chrF++ (Popović, 2017) as sacreBLEU 2.x computes them: character n-grams of orders
 * 1..6 over the line without whitespace, plus (chrF++) word n-grams of orders 1..2 over words whose leading or
 * trailing ASCII punctuation is split off; per order precision and recall, averaged over the orders that occur in
 * both hypothesis and reference, combined into F-beta with beta 2. With several references, each segment takes
 * the statistics of the reference with the best sentence-level F.
 */
public final class Chrf implements Metric<ChrfScore> {
    /** chrF2 with sacreBLEU's defaults: char order 6, word order 0, beta 2, whitespace excluded. */
    public static final Chrf CHRF = new Chrf(6, 0, 2, false, false, false);
    /** chrF2++: as {@link #CHRF} with word order 2. */
    public static final Chrf CHRF_PLUS_PLUS = new Chrf(6, 2, 2, false, false, false);

    /** Python's {@code string.punctuation}. */
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private final int charOrder;
    private final int wordOrder;
    private final int beta;
    private final boolean lowercase;
    private final boolean whitespace;
    private final boolean epsSmoothing;

    /**
     * @param charOrder    character n-gram order (6)
     * @param wordOrder    word n-gram order (0 for chrF, 2 for chrF++)
     * @param beta         weight of recall over precision (2)
     * @param lowercase    compare lower-cased text
     * @param whitespace   keep whitespace inside character n-grams
     * @param epsSmoothing average F over all orders with epsilon smoothing (chrF++.py, Moses, NLTK) instead of
     *                     sacreBLEU's effective-order averaging
     */
    public Chrf(int charOrder, int wordOrder, int beta, boolean lowercase, boolean whitespace, boolean epsSmoothing) {
        if (charOrder < 0 || wordOrder < 0 || charOrder + wordOrder == 0)
            throw new IllegalArgumentException("chrF needs a positive total order, got char " + charOrder + ", word " + wordOrder);
        if (beta < 0) throw new IllegalArgumentException("chrF beta must not be negative, got " + beta);
        this.charOrder = charOrder;
        this.wordOrder = wordOrder;
        this.beta = beta;
        this.lowercase = lowercase;
        this.whitespace = whitespace;
        this.epsSmoothing = epsSmoothing;
    }

    public Chrf withLowercase(boolean lc) {
        return new Chrf(charOrder, wordOrder, beta, lc, whitespace, epsSmoothing);
    }

    /** The character n-gram order. */
    public int charOrder() {
        return charOrder;
    }

    /** The word n-gram order (0 for chrF, 2 for chrF++). */
    public int wordOrder() {
        return wordOrder;
    }

    @Override
    public String name() {
        return "chrF" + beta + "+".repeat(wordOrder);
    }

    @Override
    public String signature(int numRefs) {
        return Signature.of(numRefs, "case:" + (lowercase ? "lc" : "mixed"), "eff:" + Signature.yesNo(!epsSmoothing),
                "nc:" + charOrder, "nw:" + wordOrder, "space:" + Signature.yesNo(whitespace));
    }

    /** Statistics per segment: {@code [hyp, ref, match]} n-gram counts for each char order, then each word order. */
    @Override
    public double[][] segmentStatistics(List<String> hypotheses, List<List<String>> references) {
        References.count(hypotheses.size(), references);
        double[][] out = new double[hypotheses.size()][];
        for (int i = 0; i < out.length; i++) {
            List<String> lines = new ArrayList<>();
            lines.add(preprocess(hypotheses.get(i)));
            for (String ref : References.segment(references, i)) lines.add(preprocess(ref));
            out[i] = segment(lines);
        }
        return out;
    }

    private String preprocess(String line) {
        return lowercase ? PyStrings.lower(line) : line;
    }

    /** The statistics of the hypothesis {@code lines.get(0)} against the best of the references after it. */
    private double[] segment(List<String> lines) {
        int[][] chars = new int[lines.size()][];
        List<List<String>> words = new ArrayList<>();
        for (int s = 0; s < chars.length; s++) {
            chars[s] = PyStrings.codePoints(whitespace ? lines.get(s) : PyStrings.removeSpaces(lines.get(s)));
            if (wordOrder > 0) words.add(splitPunctuation(lines.get(s)));
        }
        NgramKeys charKeys = charOrder > 0 ? new NgramKeys(chars, charOrder) : null;
        NgramKeys wordKeys = wordOrder > 0 ? new NgramKeys(NgramKeys.wordIds(words), wordOrder) : null;
        double[] best = new double[3 * (charOrder + wordOrder)];
        double bestF = -1.0;
        for (int r = 1; r < lines.size(); r++) {
            double[] stats = new double[3 * (charOrder + wordOrder)];
            for (int n = 1; n <= charOrder; n++) match(charKeys, n, r, stats, 3 * (n - 1));
            for (int n = 1; n <= wordOrder; n++) match(wordKeys, n, r, stats, 3 * (charOrder + n - 1));
            double f = fScore(stats);
            if (f > bestF) {
                bestF = f;
                best = stats;
            }
        }
        return best;
    }

    /** {@code [hyp count (0 when the reference has no n-gram of this order), ref count, clipped matches]}. */
    private static void match(NgramKeys keys, int order, int ref, double[] stats, int at) {
        int[] h = keys.counts(order, 0), r = keys.counts(order, ref);
        long matches = 0;
        for (int k = 0; k < h.length; k++) matches += Math.min(h[k], r[k]);
        int refTotal = keys.total(order, ref);
        stats[at] = refTotal == 0 ? 0 : keys.total(order, 0);
        stats[at + 1] = refTotal;
        stats[at + 2] = matches;
    }

    /**
     * sacreBLEU's {@code _remove_punctuation}: a word of two or more code points loses one trailing ASCII
     * punctuation mark, or else one leading one, as a separate word ({@code (hi)} gives {@code (hi} and {@code )}).
     */
    static List<String> splitPunctuation(String line) {
        List<String> out = new ArrayList<>();
        for (String w : PyStrings.split(line)) {
            int first = w.codePointAt(0);
            if (Character.charCount(first) == w.length()) {
                out.add(w);
                continue;
            }
            int last = w.codePointBefore(w.length());
            if (last < 128 && PUNCTUATION.indexOf(last) >= 0) {
                out.add(w.substring(0, w.length() - 1));
                out.add(w.substring(w.length() - 1));
            } else if (first < 128 && PUNCTUATION.indexOf(first) >= 0) {
                out.add(w.substring(0, 1));
                out.add(w.substring(1));
            } else {
                out.add(w);
            }
        }
        return out;
    }

    /** sacreBLEU's {@code _compute_f_score}. */
    private double fScore(double[] stats) {
        double eps = 1e-16;
        double score = 0.0, avgPrec = 0.0, avgRec = 0.0;
        int effectiveOrder = 0;
        int factor = beta * beta;
        int order = stats.length / 3;
        for (int i = 0; i < order; i++) {
            double nHyp = stats[3 * i], nRef = stats[3 * i + 1], nMatch = stats[3 * i + 2];
            double prec = nHyp > 0 ? nMatch / nHyp : eps;
            double rec = nRef > 0 ? nMatch / nRef : eps;
            double denom = factor * prec + rec;
            score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
            if (nHyp > 0 && nRef > 0) {
                avgPrec += prec;
                avgRec += rec;
                effectiveOrder++;
            }
        }
        if (epsSmoothing) return 100 * score / order;
        if (effectiveOrder == 0) {
            avgPrec = avgRec = 0.0;
        } else {
            avgPrec /= effectiveOrder;
            avgRec /= effectiveOrder;
        }
        if (avgPrec + avgRec != 0) {
            score = (1 + factor) * avgPrec * avgRec;
            score /= (factor * avgPrec) + avgRec;
            return 100 * score;
        }
        return 0.0;
    }

    @Override
    public ChrfScore fromStatistics(double[] totals, int numRefs) {
        if (totals.length != 3 * (charOrder + wordOrder))
            throw new IllegalArgumentException("chrF statistics need " + 3 * (charOrder + wordOrder) + " values, got " + totals.length);
        return new ChrfScore(fScore(totals), charOrder, wordOrder, beta, signature(numRefs));
    }
}
