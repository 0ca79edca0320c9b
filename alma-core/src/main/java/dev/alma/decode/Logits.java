package dev.alma.decode;

import dev.alma.backend.RowTops;

/** Small numeric helpers over a vocabulary's scores. */
public final class Logits {
    private Logits() {
    }

    /** Index of the largest value; the first one on ties. */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /**
     * log Σ exp(x), computed stably: the exponentials of {@code x - max} summed in double — with the Vector API (where
     * its module is loaded) as float32 exponentials, otherwise in double.
     */
    public static double logSumExp(float[] x) {
        if (VectorExp.AVAILABLE && x.length >= 64) return VectorExp.logSumExp(x);
        return RowTops.logSumExp(x);
    }

    /** Float32 log-softmax ({@code x - logSumExp(x)}), as transformers computes it before adding beam scores. */
    public static float[] logSoftmax(float[] x) {
        double lse = logSumExp(x);
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) (x[i] - lse);
        return out;
    }

    /** Indexes of the {@code k} largest values, largest first (lower index first on ties). */
    public static int[] topK(float[] x, int k) {
        return RowTops.top(x, Math.min(k, x.length));
    }
}
