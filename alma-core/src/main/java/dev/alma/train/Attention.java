package dev.alma.train;

/**
 * Causal scaled-dot-product attention with grouped-query heads: query head {@code h} reads key/value head
 * {@code h / (heads/kvHeads)}. Rows are {@code [batch·seqLen]}, features {@code [head·headDim]}. The backward pass
 * recomputes the attention probabilities from the saved queries and keys rather than storing {@code T²} of them.
 */
final class Attention {
    private Attention() {
    }

    /** {@code out[n, heads·hd] = softmax(q kᵀ / sqrt(hd) + causal) v}. */
    static void forward(float[] q, float[] k, float[] v, int batch, int seqLen, int heads, int kvHeads, int hd, float[] out) {
        int group = heads / kvHeads, qw = heads * hd, kw = kvHeads * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        Gemm.parallel(batch * heads, task -> {
            int b = task / heads, h = task % heads, g = h / group;
            float[] p = new float[seqLen];
            for (int i = 0; i < seqLen; i++) {
                int qo = (b * seqLen + i) * qw + h * hd;
                probabilities(q, qo, k, b * seqLen, kw, g * hd, hd, i, scale, p);
                int oo = (b * seqLen + i) * qw + h * hd;
                java.util.Arrays.fill(out, oo, oo + hd, 0f);
                for (int j = 0; j <= i; j++) Gemm.axpy(p[j], v, (b * seqLen + j) * kw + g * hd, out, oo, hd);
            }
        });
    }

    /** Softmax over keys {@code 0..i} of the scaled scores of the query at {@code qo}, into {@code p[0..i]}. */
    private static void probabilities(float[] q, int qo, float[] k, int row0, int kw, int ko, int hd, int i, float scale, float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
            p[j] = Gemm.dot(q, qo, k, (row0 + j) * kw + ko, hd) * scale;
            max = Math.max(max, p[j]);
        }
        float sum = 0;
        for (int j = 0; j <= i; j++) {
            p[j] = (float) Math.exp(p[j] - max);
            sum += p[j];
        }
        float inv = 1f / sum;
        for (int j = 0; j <= i; j++) p[j] *= inv;
    }

    /** Adds the gradients of {@link #forward} with respect to {@code q}, {@code k} and {@code v}. */
    static void backward(float[] dOut, float[] q, float[] k, float[] v, int batch, int seqLen, int heads, int kvHeads, int hd,
                         float[] dq, float[] dk, float[] dv) {
        int group = heads / kvHeads, qw = heads * hd, kw = kvHeads * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        // one task per (sequence, key/value head): it owns that head's dk and dv, so nothing is written twice
        Gemm.parallel(batch * kvHeads, task -> {
            int b = task / kvHeads, g = task % kvHeads, row0 = b * seqLen, ko = g * hd;
            float[] p = new float[seqLen], dp = new float[seqLen];
            for (int h = g * group; h < (g + 1) * group; h++) {
                for (int i = 0; i < seqLen; i++) {
                    int qo = (row0 + i) * qw + h * hd;
                    probabilities(q, qo, k, row0, kw, ko, hd, i, scale, p);
                    float sum = 0;
                    for (int j = 0; j <= i; j++) {
                        dp[j] = Gemm.dot(dOut, qo, v, (row0 + j) * kw + ko, hd);
                        sum += p[j] * dp[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        int kvo = (row0 + j) * kw + ko;
                        Gemm.axpy(p[j], dOut, qo, dv, kvo, hd);
                        float ds = p[j] * (dp[j] - sum) * scale;
                        Gemm.axpy(ds, k, kvo, dq, qo, hd);
                        Gemm.axpy(ds, q, qo, dk, kvo, hd);
                    }
                }
            }
        });
    }
}
