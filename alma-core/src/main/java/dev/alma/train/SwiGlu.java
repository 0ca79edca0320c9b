package dev.alma.train;

/** LLaMA's gated activation {@code a = silu(g) ⊙ u} with {@code silu(g) = g·σ(g)}, and its backward pass. */
final class SwiGlu {
    private SwiGlu() {
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** {@code a[i] = silu(g[i])·u[i]}. */
    static void forward(float[] g, float[] u, float[] a) {
        int n = a.length;
        Gemm.parallel(Math.max(1, n >> 14), t -> {
            int tasks = Math.max(1, n >> 14), i0 = (int) ((long) n * t / tasks), i1 = (int) ((long) n * (t + 1) / tasks);
            for (int i = i0; i < i1; i++) a[i] = g[i] * sigmoid(g[i]) * u[i];
        });
    }

    /** Writes (not adds) the gradients {@code dg}, {@code du} from {@code da}. */
    static void backward(float[] da, float[] g, float[] u, float[] dg, float[] du) {
        int n = da.length;
        Gemm.parallel(Math.max(1, n >> 14), t -> {
            int tasks = Math.max(1, n >> 14), i0 = (int) ((long) n * t / tasks), i1 = (int) ((long) n * (t + 1) / tasks);
            for (int i = i0; i < i1; i++) {
                float s = sigmoid(g[i]), silu = g[i] * s;
                du[i] = da[i] * silu;
                dg[i] = da[i] * u[i] * s * (1 + g[i] * (1 - s));
            }
        });
    }
}
