package dev.alma.eval;

import java.util.Arrays;
import java.util.List;

/**
 * The standard scores of one system output: BLEU, chrF2, chrF2++ and TER, each with its signature, and
 * optionally BLEU in the ALMA paper's swapped order (the hypotheses scored as references of the references).
 *
 * @param lines            number of segments
 * @param bleu             corpus BLEU
 * @param chrf             chrF2
 * @param chrfpp           chrF2++
 * @param ter              TER
 * @param bleuPaperSwapped BLEU with hypotheses and references swapped, or null when not asked for
 */
public record CorpusReport(int lines, BleuScore bleu, ChrfScore chrf, ChrfScore chrfpp, TerScore ter,
                           BleuScore bleuPaperSwapped) {

    /**
     * Scores hypotheses against reference streams with sacreBLEU's defaults and this BLEU tokenizer.
     *
     * @param paperSwapped also compute the swapped-order BLEU (needs exactly one reference stream)
     */
    public static CorpusReport score(List<String> hypotheses, List<List<String>> references, BleuTokenizer tokenizer,
                                     boolean paperSwapped) {
        return score(hypotheses, references, Bleu.DEFAULT.withTokenizer(tokenizer), false, Ter.DEFAULT, paperSwapped);
    }

    /**
     * Scores hypotheses against reference streams with the given BLEU and TER configurations.
     *
     * @param chrfLowercase case-insensitive chrF and chrF++ (sacreBLEU's {@code --chrf-lowercase})
     * @param paperSwapped  also compute the swapped-order BLEU (needs exactly one reference stream)
     */
    public static CorpusReport score(List<String> hypotheses, List<List<String>> references, Bleu bleu,
                                     boolean chrfLowercase, Ter ter, boolean paperSwapped) {
        BleuScore swapped = null;
        if (paperSwapped) {
            if (references.size() != 1)
                throw new IllegalArgumentException("the swapped (paper) order needs exactly one reference, got "
                        + references.size());
            swapped = bleu.corpusScore(references.get(0), List.of(hypotheses));
        }
        Chrf chrf = Chrf.CHRF.withLowercase(chrfLowercase), chrfpp = Chrf.CHRF_PLUS_PLUS.withLowercase(chrfLowercase);
        int numRefs = References.count(hypotheses.size(), references);
        double[] pp = Statistics.sum(chrfpp.segmentStatistics(hypotheses, references));
        // with one reference, chrF's statistics are the character part of chrF++'s: no need to count them twice
        ChrfScore chrfScore = references.size() == 1
                ? chrf.fromStatistics(Arrays.copyOf(pp, 3 * chrf.charOrder()), numRefs)
                : chrf.corpusScore(hypotheses, references);
        return new CorpusReport(hypotheses.size(), bleu.corpusScore(hypotheses, references), chrfScore,
                chrfpp.fromStatistics(pp, numRefs), ter.corpusScore(hypotheses, references), swapped);
    }
}
