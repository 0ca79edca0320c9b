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
     * Scores hypotheses against reference streams with sacreBLEU's default BLEU settings and this tokenizer.
     *
     * @param lowercase    case-insensitive BLEU and chrF (TER is case-insensitive by default anyway)
     * @param paperSwapped also compute the swapped-order BLEU (needs exactly one reference stream)
     */
    public static CorpusReport score(List<String> hypotheses, List<List<String>> references, BleuTokenizer tokenizer,
                                     boolean lowercase, boolean paperSwapped) {
        return score(hypotheses, references, Bleu.DEFAULT.withTokenizer(tokenizer).withLowercase(lowercase), lowercase,
                paperSwapped);
    }

    /**
     * Scores hypotheses against reference streams with the given BLEU configuration.
     *
     * @param lowercase    case-insensitive chrF
     * @param paperSwapped also compute the swapped-order BLEU (needs exactly one reference stream)
     */
    public static CorpusReport score(List<String> hypotheses, List<List<String>> references, Bleu bleu,
                                     boolean lowercase, boolean paperSwapped) {
        BleuScore swapped = null;
        if (paperSwapped) {
            if (references.size() != 1)
                throw new IllegalArgumentException("the swapped (paper) order needs exactly one reference, got "
                        + references.size());
            swapped = bleu.corpusScore(references.get(0), List.of(hypotheses));
        }
        Chrf chrf = Chrf.CHRF.withLowercase(lowercase), chrfpp = Chrf.CHRF_PLUS_PLUS.withLowercase(lowercase);
        int numRefs = References.count(hypotheses.size(), references);
        double[] pp = Statistics.sum(chrfpp.segmentStatistics(hypotheses, references));
        // with one reference, chrF's statistics are the character part of chrF++'s: no need to count them twice
        ChrfScore chrfScore = references.size() == 1
                ? chrf.fromStatistics(Arrays.copyOf(pp, 3 * chrf.charOrder()), numRefs)
                : chrf.corpusScore(hypotheses, references);
        return new CorpusReport(hypotheses.size(), bleu.corpusScore(hypotheses, references), chrfScore,
                chrfpp.fromStatistics(pp, numRefs), Ter.DEFAULT.corpusScore(hypotheses, references), swapped);
    }
}
