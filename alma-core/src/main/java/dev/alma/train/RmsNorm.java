package dev.alma.train;

/**
 * LLaMA's RMSNorm, {@code y = w ⊙ x / sqrt(mean(x²) + eps)} over each row, and its backward pass. The backward
 * pass recomputes the row scale from the saved input instead of storing the normalised activations.
 */
final class RmsNorm {
    private RmsNorm() {
    }

    /** Row scale {@code 1/sqrt(mean(x²)+eps)} of row {@code r}. */
    static float scale(float[] x, int r, int h, float eps) {
        double ss = 0;
        for (int i = 0, o = r * h; i < h; i++, o++) ss += (double) x[o] * x[o];
        return (float) (1.0 / Math.sqrt((float) (ss / h) + eps));
    }

    /** {@code y[n,h] = norm(x[n,h]) ⊙ w}. */
    static void forward(float[] x, int n, int h, float[] w, float eps, float[] y) {
        Gemm.parallel(Math.max(1, n / 64), t -> {
            int r0 = t * 64, r1 = t == Math.max(1, n / 64) - 1 ? n : r0 + 64;
            for (int r = r0; r < r1; r++) {
                float s = scale(x, r, h, eps);
                for (int i = 0, o = r * h; i < h; i++, o++) y[o] = w[i] * (x[o] * s);
            }
        });
    }

    /**
     * Adds the input gradient to {@code dx} and, when {@code dw} is not null, the weight gradient to {@code dw}.
     */
    static void backward(float[] dy, float[] x, int n, int h, float[] w, float eps, float[] dx, float[] dw) {
        if (dw != null) {
            // weight gradient: parallel over columns so every dw[i] is summed by one thread in row order
            int tiles = Math.max(1, h / 32);
            float[] scales = new float[n];
            for (int r = 0; r < n; r++) scales[r] = scale(x, r, h, eps);
            Gemm.parallel(tiles, t -> {
                int c0 = t * 32, c1 = t == tiles - 1 ? h : c0 + 32;
                for (int r = 0; r < n; r++) {
                    float s = scales[r];
                    for (int i = c0, o = r * h + c0; i < c1; i++, o++) dw[i] += dy[o] * (x[o] * s);
                }
            });
        }
        Gemm.parallel(Math.max(1, n / 64), t -> {
            int r0 = t * 64, r1 = t == Math.max(1, n / 64) - 1 ? n : r0 + 64;
            for (int r = r0; r < r1; r++) {
                float s = scale(x, r, h, eps);
                double dot = 0;
                for (int i = 0, o = r * h; i < h; i++, o++) dot += (double) dy[o] * w[i] * x[o];
                float c = (float) (dot / h) * s * s * s;
                for (int i = 0, o = r * h; i < h; i++, o++) dx[o] += s * dy[o] * w[i] - c * x[o];
            }
        });
    }
}
