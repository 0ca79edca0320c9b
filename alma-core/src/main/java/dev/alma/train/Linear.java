package dev.alma.train;

/**
 * A bias-free projection {@code y = x·Wᵀ} with an optional LoRA update, and its backward pass. The base weight may
 * be frozen (LoRA training): its gradient is then skipped but the input gradient still flows through it.
 */
final class Linear {
    final Parameter weight;
    final int in, out;
    /** Unique per projection in the model: mixes into dropout keys. */
    final int id;
    LoraAdapter lora;

    Linear(Parameter weight, int id) {
        this.weight = weight;
        this.out = weight.shape()[0];
        this.in = weight.shape()[1];
        this.id = id;
    }

    /** The state a forward pass leaves for the backward pass (only used with LoRA). */
    static final class Saved {
        float[] xa;
        long key;
    }

    /** {@code y[n,out]} for {@code x[n,in]}; {@code dropoutKey} < 0 means no dropout (evaluation). */
    float[] forward(float[] x, int n, long dropoutKey, Saved saved) {
        float[] y = new float[n * out];
        Gemm.xwt(x, n, in, weight.data(), out, y);
        if (lora != null) {
            int r = lora.rank();
            long key = dropoutKey < 0 || lora.dropout == 0 ? -1 : dropoutKey * 31 + id;
            float[] xd = key < 0 ? x : mul(x, lora.dropoutMask(key, n, in));
            float[] xa = new float[n * r];
            Gemm.xwt(xd, n, in, lora.a.data(), r, xa);
            float[] d = new float[n * out];
            Gemm.xwt(xa, n, r, lora.b.data(), out, d);
            for (int i = 0; i < y.length; i++) y[i] += d[i] * lora.scaling;
            if (saved != null) {
                saved.xa = xa;
                saved.key = key;
            }
        }
        return y;
    }

    /** Adds parameter gradients and, when {@code dx} is not null, the input gradient {@code dy·W (+ LoRA)} to it. */
    void backward(float[] dy, float[] x, int n, float[] dx, Saved saved) {
        if (weight.trainable()) Gemm.dytx(dy, n, out, x, in, weight.grad());
        if (dx != null) Gemm.dyw(dy, n, out, weight.data(), in, dx);
        if (lora != null && (lora.a.trainable() || lora.b.trainable() || dx != null)) {
            int r = lora.rank();
            float[] dys = new float[dy.length];
            for (int i = 0; i < dy.length; i++) dys[i] = dy[i] * lora.scaling;
            if (lora.b.trainable()) Gemm.dytx(dys, n, out, saved.xa, r, lora.b.grad());
            float[] dxa = new float[n * r];
            Gemm.dyw(dys, n, out, lora.b.data(), r, dxa);
            float[] mask = saved.key < 0 ? null : lora.dropoutMask(saved.key, n, in);
            if (lora.a.trainable()) Gemm.dytx(dxa, n, r, mask == null ? x : mul(x, mask), in, lora.a.grad());
            if (dx != null) {
                float[] dxd = new float[n * in];
                Gemm.dyw(dxa, n, r, lora.a.data(), in, dxd);
                if (mask != null) for (int i = 0; i < dxd.length; i++) dxd[i] *= mask[i];
                for (int i = 0; i < dxd.length; i++) dx[i] += dxd[i];
            }
        }
    }

    private static float[] mul(float[] x, float[] m) {
        float[] y = new float[x.length];
        for (int i = 0; i < y.length; i++) y[i] = x[i] * m[i];
        return y;
    }
}
