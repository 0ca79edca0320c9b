package dev.alma.decode;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws a token from the logits after Hugging Face's sampling warpers, in their order: temperature, top-k, top-p
 * (each keeping at least one token). Reproducible: the draw depends only on the logits and the random generator.
 */
final class Sampler {
    private final float temperature;
    private final int topK;
    private final double topP;

    Sampler(DecodingOptions o) {
        this.temperature = (float) o.temperature();
        this.topK = o.topK();
        this.topP = o.topP();
    }

    /** Samples a token id; {@code logits} is modified (warped) in place. */
    int sample(float[] logits, SplittableRandom random) {
        warp(logits);
        return draw(logits, random.nextDouble());
    }

    /** Applies temperature, top-k and top-p to {@code logits}: removed tokens get {@code -inf}. */
    void warp(float[] logits) {
        if (temperature != 1f)
            for (int i = 0; i < logits.length; i++) logits[i] /= temperature;
        if (topK > 0 && topK < logits.length) {
            int[] top = Logits.topK(logits, topK);
            float kth = logits[top[top.length - 1]];
            for (int i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = Float.NEGATIVE_INFINITY;
        }
        if (topP < 1.0) nucleus(logits);
    }

    /**
     * Top-p: going through the tokens from the least likely up, removes those whose cumulative probability stays
     * at or below {@code 1 - topP}; the most likely token always stays.
     */
    private void nucleus(float[] logits) {
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        double max = sorted[sorted.length - 1];
        double total = 0;
        for (float v : sorted) total += Math.exp(v - max);
        double cumulative = 0;
        int keepFrom = sorted.length - 1;
        for (int i = 0; i < sorted.length - 1; i++) {
            cumulative += Math.exp(sorted[i] - max) / total;
            if (cumulative > 1 - topP) {
                keepFrom = i;
                break;
            }
        }
        float threshold = sorted[keepFrom];
        for (int i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = Float.NEGATIVE_INFINITY;
    }

    /** The token whose cumulative softmax probability (in id order) first exceeds {@code u} in [0, 1). */
    static int draw(float[] logits, double u) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double total = 0;
        for (float v : logits) total += Math.exp(v - max);
        double target = u * total;
        double cumulative = 0;
        int last = Logits.argmax(logits);
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] == Float.NEGATIVE_INFINITY) continue;
            cumulative += Math.exp(logits[i] - max);
            last = i;
            if (cumulative > target) return i;
        }
        return last;
    }
}
