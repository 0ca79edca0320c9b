package dev.alma.eval;

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
     * Scores hypotheses against reference streams.
     *
     * @param tokenizer    BLEU's tokenizer
     * @param lowercase    case-insensitive BLEU and chrF (TER is case-insensitive by default anyway)
     * @param paperSwapped also compute the swapped-order BLEU (needs exactly one reference stream)
     */
    public static CorpusReport score(List<String> hypotheses, List<List<String>> references, BleuTokenizer tokenizer,
                                     boolean lowercase, boolean paperSwapped) {
        Bleu bleu = Bleu.DEFAULT.withTokenizer(tokenizer).withLowercase(lowercase);
        BleuScore swapped = null;
        if (paperSwapped) {
            if (references.size() != 1)
                throw new IllegalArgumentException("the swapped (paper) order needs exactly one reference, got "
                        + references.size());
            swapped = bleu.corpusScore(references.get(0), List.of(hypotheses));
        }
        return new CorpusReport(hypotheses.size(), bleu.corpusScore(hypotheses, references),
                Chrf.CHRF.withLowercase(lowercase).corpusScore(hypotheses, references),
                Chrf.CHRF_PLUS_PLUS.withLowercase(lowercase).corpusScore(hypotheses, references),
                Ter.DEFAULT.corpusScore(hypotheses, references), swapped);
    }
}
