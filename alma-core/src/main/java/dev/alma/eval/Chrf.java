package dev.alma.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
            List<List<Map<String, Integer>>> refNgrams = new ArrayList<>();
            for (String ref : References.segment(references, i)) refNgrams.add(ngrams(preprocess(ref)));
            out[i] = segment(ngrams(preprocess(hypotheses.get(i))), refNgrams);
        }
        return out;
    }

    private String preprocess(String line) {
        return lowercase ? PyText.lower(line) : line;
    }

    private double[] segment(List<Map<String, Integer>> hyp, List<List<Map<String, Integer>>> refs) {
        double[] best = new double[0];
        double bestF = -1.0;
        for (List<Map<String, Integer>> ref : refs) {
            double[] stats = new double[3 * hyp.size()];
            for (int o = 0; o < hyp.size(); o++) match(hyp.get(o), ref.get(o), stats, 3 * o);
            double f = fScore(stats);
            if (f > bestF) {
                bestF = f;
                best = stats;
            }
        }
        if (best.length == 0) best = new double[3 * (charOrder + wordOrder)];
        return best;
    }

    private static void match(Map<String, Integer> hyp, Map<String, Integer> ref, double[] stats, int at) {
        long matches = 0, hypCount = 0, refCount = 0;
        for (Map.Entry<String, Integer> e : hyp.entrySet()) {
            hypCount += e.getValue();
            Integer r = ref.get(e.getKey());
            if (r != null) matches += Math.min(e.getValue(), r);
        }
        for (int c : ref.values()) refCount += c;
        stats[at] = ref.isEmpty() ? 0 : hypCount; // no hits are counted where the reference has no n-gram
        stats[at + 1] = refCount;
        stats[at + 2] = matches;
    }

    /** Character n-gram counters of orders 1..charOrder, then word n-gram counters of orders 1..wordOrder. */
    private List<Map<String, Integer>> ngrams(String line) {
        List<Map<String, Integer>> out = new ArrayList<>(charOrder + wordOrder);
        int[] cps = PyText.codePoints(whitespace ? line : PyText.removeSpaces(line));
        for (int n = 1; n <= charOrder; n++) {
            Map<String, Integer> counts = new HashMap<>(2 * cps.length);
            for (int i = 0; i + n <= cps.length; i++) counts.merge(new String(cps, i, n), 1, Integer::sum);
            out.add(counts);
        }
        if (wordOrder > 0) {
            List<String> words = splitPunctuation(line);
            for (int n = 1; n <= wordOrder; n++) {
                Map<String, Integer> counts = new HashMap<>(2 * words.size());
                for (int i = 0; i + n <= words.size(); i++)
                    counts.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
                out.add(counts);
            }
        }
        return out;
    }

    /**
     * sacreBLEU's {@code _remove_punctuation}: a word of two or more code points loses one trailing ASCII
     * punctuation mark, or else one leading one, as a separate word ({@code (hi)} gives {@code (hi} and {@code )}).
     */
    static List<String> splitPunctuation(String line) {
        List<String> out = new ArrayList<>();
        for (String w : PyText.split(line)) {
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
