package dev.alma.train;

/**
 * Rotary position embedding in Hugging Face's rotate-half layout: within each head, element {@code i} of the first
 * half and element {@code i} of the second half form a pair rotated by {@code pos·θ^(-2i/d)}. Angles are computed
 * in float32 as transformers does. The backward pass is the rotation by the opposite angle.
 */
final class Rope {
    private final int headDim;
    private final float[] cos, sin; // [maxPos, headDim/2]

    Rope(int headDim, double theta, int maxPos) {
        this.headDim = headDim;
        int half = headDim / 2;
        cos = new float[maxPos * half];
        sin = new float[maxPos * half];
        for (int i = 0; i < half; i++) {
            float invFreq = (float) (1.0 / (float) Math.pow(theta, (float) (2 * i) / headDim));
            for (int p = 0; p < maxPos; p++) {
                float angle = (float) p * invFreq;
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * Rotates, in place, every head of {@code x[n, heads·headDim]}; row {@code r} has position {@code r % seqLen}.
     * {@code inverse} rotates backwards (the gradient of the forward rotation).
     */
    void apply(float[] x, int n, int heads, int seqLen, boolean inverse) {
        int half = headDim / 2, width = heads * headDim;
        Gemm.parallel(Math.max(1, n / 64), t -> {
            int r0 = t * 64, r1 = t == Math.max(1, n / 64) - 1 ? n : r0 + 64;
            for (int r = r0; r < r1; r++) {
                int pos = r % seqLen, tb = pos * half;
                for (int h = 0; h < heads; h++) {
                    int o = r * width + h * headDim;
                    for (int i = 0; i < half; i++) {
                        float c = cos[tb + i], s = inverse ? -sin[tb + i] : sin[tb + i];
                        float a = x[o + i], b = x[o + half + i];
                        x[o + i] = a * c - b * s;
                        x[o + half + i] = b * c + a * s;
                    }
                }
            }
        });
    }
}
