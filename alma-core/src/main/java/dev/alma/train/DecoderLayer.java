package dev.alma.train;

import dev.alma.model.LlamaConfig;

/**
 * One LLaMA decoder layer for training: pre-norm attention and SwiGLU MLP with residuals. The forward pass keeps
 * only what the backward pass cannot cheaply recompute: the layer input, rotated queries and keys, values, the
 * attention output, the mid residual and the MLP's gate and up projections. Norm outputs, attention
 * probabilities and the SwiGLU product are recomputed.
 */
final class DecoderLayer {
    final Parameter attnNorm, mlpNorm;
    final Linear q, k, v, o, gate, up, down;
    private final LlamaConfig c;
    private final Rope rope;

    DecoderLayer(LlamaConfig c, Rope rope, Parameter attnNorm, Parameter mlpNorm, Linear[] proj) {
        this.c = c;
        this.rope = rope;
        this.attnNorm = attnNorm;
        this.mlpNorm = mlpNorm;
        q = proj[0];
        k = proj[1];
        v = proj[2];
        o = proj[3];
        gate = proj[4];
        up = proj[5];
        down = proj[6];
    }

    Linear[] projections() {
        return new Linear[]{q, k, v, o, gate, up, down};
    }

    /** Activations saved by a training forward pass. */
    static final class Saved {
        float[] x, qr, kr, vv, att, h, g, u;
        final Linear.Saved[] lora = new Linear.Saved[7];

        Saved() {
            for (int i = 0; i < 7; i++) lora[i] = new Linear.Saved();
        }
    }

    /** Returns the layer output for {@code x[batch·seqLen, hidden]}; fills {@code s} when it is not null. */
    float[] forward(float[] x, int batch, int seqLen, long dropoutKey, Saved s) {
        int n = batch * seqLen, hid = c.hiddenSize();
        Linear.Saved[] ls = s == null ? new Linear.Saved[7] : s.lora;
        float[] xn = new float[n * hid];
        RmsNorm.forward(x, n, hid, attnNorm.data(), c.rmsNormEps(), xn);
        float[] qq = q.forward(xn, n, dropoutKey, ls[0]);
        float[] kk = k.forward(xn, n, dropoutKey, ls[1]);
        float[] vv = v.forward(xn, n, dropoutKey, ls[2]);
        rope.apply(qq, n, c.numHeads(), seqLen, false);
        rope.apply(kk, n, c.numKvHeads(), seqLen, false);
        float[] att = new float[n * c.qDim()];
        Attention.forward(qq, kk, vv, batch, seqLen, c.numHeads(), c.numKvHeads(), c.headDim(), att);
        float[] h = o.forward(att, n, dropoutKey, ls[3]);
        for (int i = 0; i < h.length; i++) h[i] += x[i];
        float[] hn = new float[n * hid];
        RmsNorm.forward(h, n, hid, mlpNorm.data(), c.rmsNormEps(), hn);
        float[] g = gate.forward(hn, n, dropoutKey, ls[4]);
        float[] u = up.forward(hn, n, dropoutKey, ls[5]);
        float[] a = new float[g.length];
        SwiGlu.forward(g, u, a);
        float[] out = down.forward(a, n, dropoutKey, ls[6]);
        for (int i = 0; i < out.length; i++) out[i] += h[i];
        if (s != null) {
            s.x = x;
            s.qr = qq;
            s.kr = kk;
            s.vv = vv;
            s.att = att;
            s.h = h;
            s.g = g;
            s.u = u;
        }
        return out;
    }

    /** Given the gradient of the layer output, accumulates parameter gradients and returns the input gradient. */
    float[] backward(float[] dOut, int batch, int seqLen, Saved s) {
        int n = batch * seqLen, hid = c.hiddenSize(), f = c.intermediateSize();
        float eps = c.rmsNormEps();
        // MLP
        float[] a = new float[n * f];
        SwiGlu.forward(s.g, s.u, a);
        float[] da = new float[n * f];
        down.backward(dOut, a, n, da, s.lora[6]);
        float[] dg = new float[n * f], du = new float[n * f];
        SwiGlu.backward(da, s.g, s.u, dg, du);
        float[] hn = new float[n * hid];
        RmsNorm.forward(s.h, n, hid, mlpNorm.data(), eps, hn);
        float[] dhn = new float[n * hid];
        gate.backward(dg, hn, n, dhn, s.lora[4]);
        up.backward(du, hn, n, dhn, s.lora[5]);
        float[] dh = dOut.clone();
        RmsNorm.backward(dhn, s.h, n, hid, mlpNorm.data(), eps, dh, mlpNorm.grad());
        // attention
        float[] dAtt = new float[n * c.qDim()];
        o.backward(dh, s.att, n, dAtt, s.lora[3]);
        float[] dq = new float[n * c.qDim()], dk = new float[n * c.kvDim()], dv = new float[n * c.kvDim()];
        Attention.backward(dAtt, s.qr, s.kr, s.vv, batch, seqLen, c.numHeads(), c.numKvHeads(), c.headDim(), dq, dk, dv);
        rope.apply(dq, n, c.numHeads(), seqLen, true);
        rope.apply(dk, n, c.numKvHeads(), seqLen, true);
        float[] xn = new float[n * hid];
        RmsNorm.forward(s.x, n, hid, attnNorm.data(), eps, xn);
        float[] dxn = new float[n * hid];
        q.backward(dq, xn, n, dxn, s.lora[0]);
        k.backward(dk, xn, n, dxn, s.lora[1]);
        v.backward(dv, xn, n, dxn, s.lora[2]);
        float[] dx = dh; // residual path
        RmsNorm.backward(dxn, s.x, n, hid, attnNorm.data(), eps, dx, attnNorm.grad());
        return dx;
    }
}
