package dev.alma.eval;

import dev.alma.PyStrings;
import java.util.ArrayList;
import java.util.List;

/**
 * Translation edit rate (Snover et al., 2006) as sacreBLEU 2.x computes it: its tercom tokenizer (by default
 * lower-casing and whitespace splitting only), tercom's greedy shifts and beam edit distance, the fewest edits
 * over the references divided by the average reference length, summed over the corpus.
 */
public final class Ter implements Metric<TerScore> {
    /** sacreBLEU's defaults: case-insensitive, no normalisation, punctuation kept, no Asian support. */
    public static final Ter DEFAULT = new Ter(false, false, false, false);

    private final boolean normalized;
    private final boolean noPunct;
    private final boolean asianSupport;
    private final boolean caseSensitive;
    private final TercomTokenizer tokenizer;

    /**
     * @param normalized    apply tercom's normalisation (Western punctuation splitting; CJK splitting with asianSupport)
     * @param noPunct       remove punctuation (also CJK punctuation with asianSupport)
     * @param asianSupport  treat CJK characters specially in the two options above
     * @param caseSensitive keep case (default: lower-case)
     */
    public Ter(boolean normalized, boolean noPunct, boolean asianSupport, boolean caseSensitive) {
        this.normalized = normalized;
        this.noPunct = noPunct;
        this.asianSupport = asianSupport;
        this.caseSensitive = caseSensitive;
        this.tokenizer = new TercomTokenizer(normalized, noPunct, asianSupport, caseSensitive);
    }

    @Override
    public String name() {
        return "TER";
    }

    @Override
    public String signature(int numRefs) {
        return Signature.of(numRefs, "case:" + (caseSensitive ? "mixed" : "lc"), "tok:tercom",
                "norm:" + Signature.yesNo(normalized), "punct:" + Signature.yesNo(!noPunct),
                "asian:" + Signature.yesNo(asianSupport));
    }

    /** The hypothesis words TER compares. */
    List<String> words(String line) {
        return PyStrings.split(preprocess(line));
    }

    /**
     * The reference words. sacreBLEU preprocesses a reference twice (once when caching the references, once more
     * when extracting its words); with the default options that changes nothing, but the normalising options are
     * not idempotent (e.g. {@code it's} before a non-ASCII space is split only on the second pass), so this does
     * the same.
     */
    List<String> referenceWords(String line) {
        return PyStrings.split(preprocess(preprocess(line)));
    }

    private String preprocess(String line) {
        return tokenizer.tokenize(PyStrings.rstrip(line));
    }

    /** Statistics per segment: {@code [fewest edits over the references, average reference length]}. */
    @Override
    public double[][] segmentStatistics(List<String> hypotheses, List<List<String>> references) {
        References.count(hypotheses.size(), references);
        double[][] out = new double[hypotheses.size()][];
        for (int i = 0; i < out.length; i++) {
            List<String> refs = References.segment(references, i);
            if (refs.isEmpty()) throw new IllegalArgumentException("TER: segment " + (i + 1) + " has no reference");
            List<String> hyp = words(hypotheses.get(i));
            List<List<String>> refWords = new ArrayList<>();
            for (String r : refs) refWords.add(referenceWords(r));
            out[i] = segment(hyp, refWords);
        }
        return out;
    }

    private static double[] segment(List<String> hyp, List<List<String>> refs) {
        long refLengths = 0;
        int best = Integer.MAX_VALUE;
        for (List<String> ref : refs) {
            int[][] ids = TerAligner.ids(hyp, ref);
            int edits = TerAligner.edits(ids[0], ids[1]);
            refLengths += ref.size();
            best = Math.min(best, edits);
        }
        return new double[]{best, (double) refLengths / refs.size()};
    }

    @Override
    public TerScore fromStatistics(double[] totals, int numRefs) {
        if (totals.length != 2) throw new IllegalArgumentException("TER statistics need 2 values, got " + totals.length);
        double edits = totals[0], refLength = totals[1];
        double score;
        if (refLength > 0) score = edits / refLength;
        else score = edits > 0 ? 1.0 : 0.0; // empty references: any hypothesis word is all wrong
        return new TerScore(100 * score, edits, refLength, signature(numRefs));
    }
}
