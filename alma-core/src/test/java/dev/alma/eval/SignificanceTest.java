package dev.alma.eval;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Paired bootstrap and approximate randomization on WMT'22 de-en. The reference p-values and intervals come from
 * sacreBLEU 2.6.0's {@code PairedTest} (seed 12345, 1,000 resamples, 10,000 trials) on the same data; the random
 * streams differ (NumPy's PCG64 there, a Mersenne Twister here), so they agree within Monte-Carlo error.
 */
class SignificanceTest {
    private static final List<String> REF = read("wmt-testset/deen/test.de-en.en");
    private static final List<String> ALMA = read("ALMA-13B-LoRA/deen/test.de-en.en");
    private static final List<String> WINNERS = read("WMT_Winners/deen/test.de-en.en");

    private static List<String> read(String path) {
        return TextLines.read(Fixtures.path("data/wmt22").resolve(Path.of(path)));
    }

    /** ALMA's output with its first k lines replaced by the winner's: a small, real difference. */
    private static List<String> mixture(int k) {
        List<String> mix = new ArrayList<>(WINNERS.subList(0, k));
        mix.addAll(ALMA.subList(k, ALMA.size()));
        return mix;
    }

    @Test
    void bootstrapAgreesWithSacrebleu() {
        // {k, metric, sacreBLEU p, system mean, system CI, baseline mean, baseline CI}
        Object[][] cases = {
                {40, Bleu.DEFAULT, 0.3696303696303696, 31.24882862731698, 0.8896902928510659, 31.25223999608342, 0.8795526910779898},
                {40, Chrf.CHRF, 0.16383616383616384, 56.115948, 0.64803696, 56.09489, 0.64681625},
                {150, Bleu.DEFAULT, 0.01998001998001998, 31.440787009997045, 0.8820903927087524, 31.25223999608342, 0.8795526910779898},
        };
        for (Object[] c : cases) {
            Metric<?> m = (Metric<?>) c[1];
            SignificanceResult r = Significance.pairedBootstrap(m, ALMA, mixture((Integer) c[0]), List.of(REF), 1000, 12345);
            String where = m.name() + " k=" + c[0];
            assertEquals((Double) c[2], r.pValue(), 0.04, where + " p");
            assertEquals((Double) c[3], r.systemMean(), 0.1, where + " mean");
            assertEquals((Double) c[4], r.systemCi(), 0.1, where + " CI");
            assertEquals((Double) c[5], r.baselineMean(), 0.1, where + " baseline mean");
            assertEquals((Double) c[6], r.baselineCi(), 0.1, where + " baseline CI");
            assertEquals(m.corpusScore(ALMA, List.of(REF)).score(), r.baselineScore(), 0.0);
        }
    }

    @Test
    void randomizationAgreesWithSacrebleu() {
        // {k, metric, sacreBLEU p with 10,000 trials}; 2,000 here keep the test fast
        Object[][] cases = {
                {40, Bleu.DEFAULT, 0.9423057694230577},
                {40, Chrf.CHRF, 0.46385361463853614},
                {150, Chrf.CHRF, 0.0031996800319968005},
        };
        for (Object[] c : cases) {
            Metric<?> m = (Metric<?>) c[1];
            SignificanceResult r = Significance.approximateRandomization(m, ALMA, mixture((Integer) c[0]), List.of(REF), 2000, 12345);
            assertEquals((Double) c[2], r.pValue(), 0.04, m.name() + " k=" + c[0]);
            assertTrue(Double.isNaN(r.systemCi()));
        }
    }

    @Test
    void clearlyBetterSystemIsSignificant() {
        SignificanceResult bs = Significance.pairedBootstrap(Bleu.DEFAULT, ALMA, WINNERS, List.of(REF), 1000, 12345);
        assertEquals(1.0 / 1001, bs.pValue(), 1e-15); // no resample reaches the observed 2.19 BLEU
        assertTrue(bs.significant(0.05));
        assertEquals("nrefs:1|bs:1000|seed:12345|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0", bs.signature());
        SignificanceResult ar = Significance.approximateRandomization(Ter.DEFAULT, ALMA, WINNERS, List.of(REF), 1000, 7);
        assertEquals(1.0 / 1001, ar.pValue(), 1e-15);
        assertEquals("nrefs:1|ar:1000|seed:7|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0", ar.signature());
    }

    /** As in sacreBLEU, a zero observed difference is never "exceeded": identical systems get 1 / (n + 1). */
    @Test
    void identicalSystemsGetTheMinimumPValueAsInSacrebleu() {
        SignificanceResult bs = Significance.pairedBootstrap(Chrf.CHRF, ALMA, ALMA, List.of(REF), 200, 12345);
        assertEquals(1.0 / 201, bs.pValue(), 1e-15);
        assertEquals(bs.baselineMean(), bs.systemMean(), 0.0);
        SignificanceResult ar = Significance.approximateRandomization(Bleu.DEFAULT, ALMA, ALMA, List.of(REF), 300, 12345);
        assertEquals(1.0 / 301, ar.pValue(), 1e-15);
    }

    /** Two systems of the same quality on synthetic data: no significant difference. */
    @Test
    void equalQualitySystemsAreNotSignificant() {
        java.util.Random rnd = new java.util.Random(3);
        List<String> ref = new ArrayList<>(), a = new ArrayList<>(), b = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            StringBuilder r = new StringBuilder(), x = new StringBuilder(), y = new StringBuilder();
            for (int w = 0; w < 12; w++) {
                String word = "w" + rnd.nextInt(50);
                r.append(word).append(' ');
                x.append(rnd.nextDouble() < 0.3 ? "x" + rnd.nextInt(50) : word).append(' ');
                y.append(rnd.nextDouble() < 0.3 ? "y" + rnd.nextInt(50) : word).append(' ');
            }
            ref.add(r.toString());
            a.add(x.toString());
            b.add(y.toString());
        }
        assertTrue(Significance.pairedBootstrap(Bleu.DEFAULT, a, b, List.of(ref), 1000, 12345).pValue() > 0.05);
        assertTrue(Significance.approximateRandomization(Bleu.DEFAULT, a, b, List.of(ref), 1000, 12345).pValue() > 0.05);
    }

    @Test
    void confidenceIntervalUsesRanksNOver40() {
        double[] scores = new double[80];
        for (int i = 0; i < 80; i++) scores[i] = 79 - i; // 79..0, unsorted order
        double[] mci = Significance.meanAndCi(scores);
        assertEquals(39.5, mci[0], 1e-12);
        assertEquals(0.5 * (77 - 2), mci[1], 1e-12); // ranks 2 and 80 - 2 - 1
    }
}
