package dev.alma.decode;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Logits#logSumExp} (vectorised float32 exponentials where the Vector API is loaded, as in the tests) against
 * a double reference, on vocabulary-sized rows and on the edges: lengths around the vector width, masked entries
 * (-inf), one dominant entry, every entry masked.
 */
class LogitsTest {
    private static double reference(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        if (max == Double.NEGATIVE_INFINITY) return max;
        double s = 0;
        for (float v : x) s += Math.exp((double) v - max);
        return max + Math.log(s);
    }

    @Test
    void logSumExpMatchesDoubleOnVocabularyRowsAndEdges() {
        Random rnd = new Random(3);
        for (int n : new int[]{1, 7, 63, 64, 65, 100, 1000, 32000, 32003}) {
            for (float scale : new float[]{0.1f, 3f, 40f}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian() * scale;
                if (n > 10) x[n / 3] = Float.NEGATIVE_INFINITY;  // a masked token
                double want = reference(x), got = Logits.logSumExp(x);
                assertEquals(want, got, 1e-6 * Math.max(1, Math.abs(want)), "n=" + n + " scale " + scale);
                float[] lp = Logits.logSoftmax(x);
                assertEquals((float) (x[0] - want), lp[0], 2e-6f * Math.max(1, Math.abs(lp[0])), "log-softmax n=" + n);
            }
        }
        float[] masked = new float[200];
        java.util.Arrays.fill(masked, Float.NEGATIVE_INFINITY);
        assertEquals(Double.NEGATIVE_INFINITY, Logits.logSumExp(masked));
        masked[150] = 5f;  // one token left: log-sum-exp is its score
        assertEquals(5.0, Logits.logSumExp(masked), 1e-12);
        float[] big = new float[500];
        big[499] = 1000f;  // no overflow: exponentials are taken relative to the maximum
        double lse = Logits.logSumExp(big);
        assertTrue(Math.abs(lse - 1000.0) < 1e-6, "lse " + lse);
    }
}
