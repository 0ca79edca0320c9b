package dev.alma.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every corpus score of {@code fixtures/metrics/sacrebleu-wmt22.json} (sacreBLEU 2.6.0 on two systems and ten
 * WMT'22 directions), the swapped-order BLEU of the ALMA paper and sentence BLEU of the first 20 lines.
 */
class SacrebleuFixtureTest {
    private static final double CORPUS_TOL = 1e-9;
    /** Sentence BLEU sums four logarithms; Python may sum them with compensation, so allow a few ulps more. */
    private static final double SENTENCE_TOL = 1e-9;

    @Test
    void reproducesAllCorpusAndSentenceScores() {
        JsonNode fixture = Json.read(Fixtures.fixture("metrics/sacrebleu-wmt22.json"));
        Path root = Fixtures.path("data/wmt22");
        List<String> checked = new ArrayList<>();
        for (Map.Entry<String, JsonNode> system : fixture.get("systems").properties()) {
            List<AlmaTestSet.Direction> dirs = AlmaTestSet.directions(root, system.getKey());
            assertEquals(system.getValue().size(), dirs.size(), "directions of " + system.getKey());
            for (AlmaTestSet.Direction d : dirs) {
                JsonNode want = system.getValue().get(d.name());
                String where = system.getKey() + " " + d.name();
                List<List<String>> texts = TextLines.readAligned(d.hypothesis(), List.of(d.reference()));
                List<String> hyps = texts.get(0), refs = texts.get(1);
                assertEquals(want.get("lines").asInt(), hyps.size(), where + " lines");
                CorpusReport r = CorpusReport.score(hyps, List.of(refs), AlmaTestSet.tokenizerFor(d.target()), true);
                assertEquals(want.get("bleu").asDouble(), r.bleu().score(), CORPUS_TOL, where + " BLEU");
                assertEquals(want.get("bleu_signature").asText(), r.bleu().signature(), where);
                assertEquals(want.get("bleu_paper_swapped").asDouble(), r.bleuPaperSwapped().score(), CORPUS_TOL, where + " swapped BLEU");
                assertEquals(want.get("chrf").asDouble(), r.chrf().score(), CORPUS_TOL, where + " chrF");
                assertEquals(want.get("chrf_signature").asText(), r.chrf().signature(), where);
                assertEquals(want.get("chrfpp").asDouble(), r.chrfpp().score(), CORPUS_TOL, where + " chrF++");
                assertEquals(want.get("ter").asDouble(), r.ter().score(), CORPUS_TOL, where + " TER");

                Bleu sentence = Bleu.DEFAULT.withTokenizer(AlmaTestSet.tokenizerFor(d.target())).withEffectiveOrder(true);
                JsonNode first20 = want.get("sentence_bleu_first20");
                for (int i = 0; i < first20.size(); i++) {
                    assertEquals(first20.get(i).asDouble(), sentence.sentenceScore(hyps.get(i), List.of(refs.get(i))).score(),
                            SENTENCE_TOL, where + " sentence " + (i + 1));
                }
                checked.add(where);
            }
        }
        assertEquals(20, checked.size(), "system-direction pairs checked");
    }

    /** chrF computed on its own equals the character part of chrF++ that the report reuses. */
    @Test
    void chrfAloneEqualsReportChrf() {
        Path root = Fixtures.path("data/wmt22");
        AlmaTestSet.Direction d = AlmaTestSet.directions(root, "WMT_Winners").get(0);
        List<List<String>> texts = TextLines.readAligned(d.hypothesis(), List.of(d.reference()));
        double alone = Chrf.CHRF.corpusScore(texts.get(0), texts.subList(1, 2)).score();
        double report = CorpusReport.score(texts.get(0), texts.subList(1, 2), BleuTokenizer.MTEVAL_13A, false).chrf().score();
        assertEquals(alone, report, 0.0);
    }
}
