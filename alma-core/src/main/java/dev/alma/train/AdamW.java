package dev.alma.train;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The AdamW optimiser exactly as {@code torch.optim.AdamW} computes it in float32: decoupled weight decay
 * {@code p ← p·(1 − lr·wd)}, moment updates, bias correction, {@code p ← p − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε)}.
 * Weight decay applies to parameters whose {@link Parameter#decay()} is set, unless {@code decayAll}.
 */
public final class AdamW {
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decayAll;
    private final Map<Parameter, float[][]> state = new IdentityHashMap<>();
    private long steps;

    /**
     * @param decayAll apply weight decay to every parameter (plain {@code torch.optim.AdamW} over
     *                 {@code model.parameters()}) instead of only those marked for decay (Hugging Face's Trainer)
     */
    public AdamW(double beta1, double beta2, double eps, double weightDecay, boolean decayAll) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new IllegalArgumentException("betas " + beta1 + ", " + beta2 + " must be in [0, 1)");
        if (!(eps >= 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("eps and weight decay must be non-negative");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decayAll = decayAll;
    }

    /** Number of steps taken. */
    public long steps() {
        return steps;
    }

    /** Takes one step with learning rate {@code lr} over {@code params}, using their gradients. */
    public void step(List<Parameter> params, double lr) {
        steps++;
        double bc1 = 1 - Math.pow(beta1, steps), bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, steps));
        float stepSize = (float) (lr / bc1);
        float b1 = (float) beta1, b2 = (float) beta2, oneMinusB1 = (float) (1 - beta1), oneMinusB2 = (float) (1 - beta2);
        float fEps = (float) eps, fBc2Sqrt = (float) bc2Sqrt;
        for (Parameter p : params) {
            float[] w = p.data(), g = p.grad();
            float[][] mv = state.computeIfAbsent(p, k -> new float[][]{new float[w.length], new float[w.length]});
            float[] m = mv[0], v = mv[1];
            float decay = (decayAll || p.decay()) ? (float) (1 - lr * weightDecay) : 1f;
            Gemm.parallel(Math.max(1, w.length >> 15), t -> {
                int tasks = Math.max(1, w.length >> 15), i0 = (int) ((long) w.length * t / tasks), i1 = (int) ((long) w.length * (t + 1) / tasks);
                for (int i = i0; i < i1; i++) {
                    w[i] *= decay;
                    m[i] += oneMinusB1 * (g[i] - m[i]);
                    v[i] = v[i] * b2 + oneMinusB2 * g[i] * g[i];
                    float denom = (float) Math.sqrt(v[i]) / fBc2Sqrt + fEps;
                    w[i] += -stepSize * (m[i] / denom);
                }
            });
        }
    }

    /** First and second moments of {@code p} (live arrays), created as zeros when absent. */
    float[][] moments(Parameter p) {
        return state.computeIfAbsent(p, k -> new float[][]{new float[p.size()], new float[p.size()]});
    }

    /** Restores the step count (for resuming). */
    void setSteps(long steps) {
        this.steps = steps;
    }
}
