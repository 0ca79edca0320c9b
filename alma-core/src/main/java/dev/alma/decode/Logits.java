package dev.alma.decode;

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
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        if (max == Float.NEGATIVE_INFINITY) return max;
        double s = 0;
        for (float v : x) s += Math.exp(v - max);
        return max + Math.log(s);
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
        k = Math.min(k, x.length);
        int[] idx = new int[k];
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (n == k && !(x[i] > x[idx[k - 1]])) continue;
            int j = n < k ? n++ : k - 1;
            while (j > 0 && x[i] > x[idx[j - 1]]) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = i;
        }
        return idx;
    }
}
