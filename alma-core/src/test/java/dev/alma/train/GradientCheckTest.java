package dev.alma.train;

import dev.alma.model.LlamaConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every backward pass against central finite differences of {@code L = Σ r ⊙ f(inputs)} for a random {@code r},
 * on small random shapes. Differences are taken in float32 with a step large enough that rounding stays far
 * below the tolerance.
 */
class GradientCheckTest {
    static final Random RNG = new Random(7);

    static float[] rand(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (RNG.nextGaussian() * scale);
        return a;
    }

    static double dot(float[] r, float[] y) {
        double s = 0;
        for (int i = 0; i < r.length; i++) s += (double) r[i] * y[i];
        return s;
    }

    /** Compares {@code analytic} with finite differences of {@code loss} with respect to every element of {@code x}. */
    static void check(String what, float[] x, float[] analytic, Supplier<Double> loss) {
        check(what, x, analytic, loss, 1e-2f);
    }

    static void check(String what, float[] x, float[] analytic, Supplier<Double> loss, float h) {
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            float keep = x[i];
            x[i] = keep + h;
            double up = loss.get();
            x[i] = keep - h;
            double down = loss.get();
            x[i] = keep;
            double fd = (up - down) / (2 * h);
            num += Math.pow(fd - analytic[i], 2);
            den += fd * fd;
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-30));
        assertTrue(rel < 2e-3, what + ": analytic gradient differs from finite differences by " + rel + " relative");
    }

    @Test
    void rmsNorm() {
        int n = 3, h = 8;
        float[] x = rand(n * h, 1), w = rand(h, 1), r = rand(n * h, 1);
        Supplier<Double> loss = () -> {
            float[] y = new float[n * h];
            RmsNorm.forward(x, n, h, w, 1e-5f, y);
            return dot(r, y);
        };
        float[] dx = new float[n * h], dw = new float[h];
        RmsNorm.backward(r, x, n, h, w, 1e-5f, dx, dw);
        check("RMSNorm input", x, dx, loss);
        check("RMSNorm weight", w, dw, loss);
    }

    @Test
    void rope() {
        int seq = 5, heads = 2, hd = 6, n = 2 * seq;
        Rope rope = new Rope(hd, 10000, 16);
        float[] x = rand(n * heads * hd, 1), r = rand(n * heads * hd, 1);
        Supplier<Double> loss = () -> {
            float[] y = x.clone();
            rope.apply(y, n, heads, seq, false);
            return dot(r, y);
        };
        float[] dx = r.clone();
        rope.apply(dx, n, heads, seq, true);
        check("RoPE", x, dx, loss);
    }

    @Test
    void groupedQueryAttention() {
        int batch = 2, seq = 4, heads = 4, kvHeads = 2, hd = 3, n = batch * seq;
        float[] q = rand(n * heads * hd, 1), k = rand(n * kvHeads * hd, 1), v = rand(n * kvHeads * hd, 1);
        float[] r = rand(n * heads * hd, 1);
        Supplier<Double> loss = () -> {
            float[] out = new float[n * heads * hd];
            Attention.forward(q, k, v, batch, seq, heads, kvHeads, hd, out);
            return dot(r, out);
        };
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        Attention.backward(r, q, k, v, batch, seq, heads, kvHeads, hd, dq, dk, dv);
        check("attention q", q, dq, loss);
        check("attention k", k, dk, loss);
        check("attention v", v, dv, loss);
    }

    @Test
    void causalMaskHidesTheFuture() {
        int seq = 4, heads = 1, hd = 2;
        float[] q = rand(seq * hd, 1), k = rand(seq * hd, 1), v = rand(seq * hd, 1);
        float[] a = new float[seq * hd], b = new float[seq * hd];
        Attention.forward(q, k, v, 1, seq, heads, heads, hd, a);
        k[3 * hd] += 5;
        v[3 * hd + 1] -= 5;
        Attention.forward(q, k, v, 1, seq, heads, heads, hd, b);
        for (int i = 0; i < 3 * hd; i++) assertTrue(a[i] == b[i], "position " + i / hd + " saw a later token");
    }

    @Test
    void swiGlu() {
        int n = 20;
        float[] g = rand(n, 2), u = rand(n, 1), r = rand(n, 1);
        Supplier<Double> loss = () -> {
            float[] a = new float[n];
            SwiGlu.forward(g, u, a);
            return dot(r, a);
        };
        float[] dg = new float[n], du = new float[n];
        SwiGlu.backward(r, g, u, dg, du);
        check("SwiGLU gate", g, dg, loss);
        check("SwiGLU up", u, du, loss);
    }

    @Test
    void crossEntropyWithIgnoredLabels() {
        int seq = 4, vocab = 7, n = 2 * seq;
        float[] logits = rand(n * vocab, 2);
        int[] labels = {3, -100, 5, 1, 2, 6, -100, 4};
        Supplier<Double> loss = () -> CrossEntropy.lossAndGrad(logits.clone(), n, vocab, labels, seq, 0f);
        float[] grad = logits.clone();
        CrossEntropy.lossAndGrad(grad, n, vocab, labels, seq, 1f);
        check("cross-entropy", logits, grad, loss);
        assertTrue(CrossEntropy.count(labels, seq) == 4, "shifted supervised targets");
    }

    @Test
    void linearWithLoraAndDropout() {
        int n = 3, in = 5, out = 4;
        LoraConfig cfg = new LoraConfig(2, 4, 0.3, List.of("down_proj"));
        Linear lin = new Linear(new Parameter("model.layers.0.mlp.down_proj.weight", new int[]{out, in}, rand(out * in, 1), true), 6);
        lin.weight.setTrainable(true);
        lin.lora = LoraAdapter.create(lin.weight.name(), out, in, cfg, new Random(1));
        System.arraycopy(rand(out * 2, 1), 0, lin.lora.b.data(), 0, out * 2);
        lin.lora.a.setTrainable(true);
        lin.lora.b.setTrainable(true);
        float[] x = rand(n * in, 1), r = rand(n * out, 1);
        long key = 12345;
        Supplier<Double> loss = () -> dot(r, lin.forward(x, n, key, null));
        Linear.Saved saved = new Linear.Saved();
        lin.forward(x, n, key, saved);
        float[] dx = new float[n * in];
        lin.backward(r, x, n, dx, saved);
        check("linear input", x, dx, loss);
        check("linear weight", lin.weight.data(), lin.weight.grad(), loss);
        check("LoRA A", lin.lora.a.data(), lin.lora.a.grad(), loss);
        check("LoRA B", lin.lora.b.data(), lin.lora.b.grad(), loss);
    }

    static LlamaConfig tinyConfig(int vocab) {
        return new LlamaConfig(vocab, 8, 12, 2, 4, 2, 2, 1e-5f, 10000, 64, false, 1, 2, "float32", false);
    }

    @Test
    void wholeModelIncludingEmbedding() {
        TrainableLlama m = TrainableLlama.random(tinyConfig(11), 0.5, 3);
        int seq = 5;
        int[] ids = {1, 4, 7, 2, 9, 1, 3, 3, 10, 0};
        int[] labels = {-100, 4, 7, 2, 9, -100, -100, 3, 10, 0};
        Batch b = new Batch(2, seq, ids, labels);
        m.zeroGrad();
        m.forwardBackward(b, 1f, -1);
        for (Parameter p : m.trainableParameters()) {
            float[] g = p.grad().clone();
            check(p.name(), p.data(), g, () -> m.lossSum(b), 2e-3f);
        }
    }
}
