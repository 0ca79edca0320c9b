package dev.alma.train;

import java.util.Random;
import java.util.SplittableRandom;

/**
 * The low-rank update of one projection: {@code Δy = (alpha/r) · B·A·dropout(x)} with {@code A [r, in]} and
 * {@code B [out, r]}. Initialised as PEFT does: {@code A} Kaiming-uniform with {@code a = √5} (bound
 * {@code 1/√in}), {@code B} zeros. The dropout mask is a pure function of a key, so the backward pass regenerates
 * it instead of storing it, and a resumed run draws the same masks.
 */
final class LoraAdapter {
    final Parameter a, b;
    final float scaling;
    final double dropout;

    LoraAdapter(Parameter a, Parameter b, double scaling, double dropout) {
        this.a = a;
        this.b = b;
        this.scaling = (float) scaling;
        this.dropout = dropout;
    }

    /** A fresh adapter for a {@code [out, in]} projection whose weight is called {@code weightName}. */
    static LoraAdapter create(String weightName, int out, int in, LoraConfig cfg, Random rng) {
        String base = weightName.substring(0, weightName.length() - ".weight".length());
        float[] av = new float[cfg.r() * in];
        double bound = 1.0 / Math.sqrt(in); // kaiming_uniform(a=√5): gain √(2/(1+5)), bound gain·√(3/in)
        for (int i = 0; i < av.length; i++) av[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        Parameter pa = new Parameter(base + ".lora_A.weight", new int[]{cfg.r(), in}, av, true);
        Parameter pb = new Parameter(base + ".lora_B.weight", new int[]{out, cfg.r()}, new float[out * cfg.r()], true);
        return new LoraAdapter(pa, pb, cfg.scaling(), cfg.dropout());
    }

    int rank() {
        return a.shape()[0];
    }

    /** Keeps-or-zeroes (scaled by {@code 1/(1-p)}) each input element, as {@code torch.nn.Dropout} in training. */
    float[] dropoutMask(long key, int n, int in) {
        float[] mask = new float[n * in];
        float keep = (float) (1.0 / (1.0 - dropout));
        Gemm.parallel(Math.max(1, n / 64), t -> {
            int tasks = Math.max(1, n / 64), r0 = n * t / tasks, r1 = n * (t + 1) / tasks;
            for (int r = r0; r < r1; r++) {
                SplittableRandom rng = new SplittableRandom(key * 0x9E3779B97F4A7C15L + r);
                for (int i = 0, o = r * in; i < in; i++, o++) mask[o] = rng.nextDouble() < dropout ? 0f : keep;
            }
        });
        return mask;
    }
}
