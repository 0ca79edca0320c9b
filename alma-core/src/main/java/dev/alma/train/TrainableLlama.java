package dev.alma.train;

import dev.alma.io.FormatException;
import dev.alma.model.LlamaConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A LLaMA causal language model in f32 for training on the CPU: batched forward pass, backward pass for every
 * parameter, optional LoRA adapters. Parameters carry Hugging Face names; see {@link ModelFiles} for reading and
 * writing checkpoints and adapters.
 */
public final class TrainableLlama {
    private final LlamaConfig config;
    private final Parameter embed, finalNorm, lmHead;
    private final DecoderLayer[] layers;
    private final List<Parameter> base;
    private LoraConfig lora;

    /** Builds a model from named f32 values (HF names); {@code values} must hold every parameter of the config. */
    TrainableLlama(LlamaConfig c, Map<String, float[]> values, String source) {
        this.config = c;
        Rope rope = new Rope(c.headDim(), c.ropeTheta(), c.maxPositions());
        List<Parameter> ps = new ArrayList<>();
        embed = param(values, source, "model.embed_tokens.weight", true, c.vocabSize(), c.hiddenSize());
        ps.add(embed);
        layers = new DecoderLayer[c.numLayers()];
        int h = c.hiddenSize(), f = c.intermediateSize();
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            Parameter an = param(values, source, p + "input_layernorm.weight", false, h);
            Parameter[] w = {
                    param(values, source, p + "self_attn.q_proj.weight", true, c.qDim(), h),
                    param(values, source, p + "self_attn.k_proj.weight", true, c.kvDim(), h),
                    param(values, source, p + "self_attn.v_proj.weight", true, c.kvDim(), h),
                    param(values, source, p + "self_attn.o_proj.weight", true, h, c.qDim()),
                    param(values, source, p + "mlp.gate_proj.weight", true, f, h),
                    param(values, source, p + "mlp.up_proj.weight", true, f, h),
                    param(values, source, p + "mlp.down_proj.weight", true, h, f)};
            Parameter mn = param(values, source, p + "post_attention_layernorm.weight", false, h);
            Linear[] proj = new Linear[7];
            for (int i = 0; i < 7; i++) proj[i] = new Linear(w[i], l * 7 + i);
            layers[l] = new DecoderLayer(c, rope, an, mn, proj);
            ps.add(an);
            ps.addAll(List.of(w));
            ps.add(mn);
        }
        finalNorm = param(values, source, "model.norm.weight", false, h);
        ps.add(finalNorm);
        if (c.tieWordEmbeddings() && !values.containsKey("lm_head.weight")) lmHead = embed;
        else {
            lmHead = param(values, source, "lm_head.weight", true, c.vocabSize(), h);
            ps.add(lmHead);
        }
        base = Collections.unmodifiableList(ps);
        for (Parameter p : base) p.setTrainable(true);
    }

    private static Parameter param(Map<String, float[]> values, String source, String name, boolean decay, int... shape) {
        float[] v = values.get(name);
        if (v == null) throw new FormatException(java.nio.file.Path.of(source), name, "missing tensor");
        long n = 1;
        for (int d : shape) n *= d;
        if (v.length != n)
            throw new FormatException(java.nio.file.Path.of(source), name, "has " + v.length + " values, config needs "
                    + java.util.Arrays.toString(shape));
        return new Parameter(name, shape, v, decay);
    }

    /**
     * A freshly initialised model as transformers' {@code from_config} makes it: projections and embeddings from
     * {@code N(0, std²)}, norm weights one.
     */
    public static TrainableLlama random(LlamaConfig c, double std, long seed) {
        Random rng = new Random(seed);
        Map<String, float[]> v = new java.util.LinkedHashMap<>();
        int h = c.hiddenSize(), f = c.intermediateSize();
        v.put("model.embed_tokens.weight", normal(rng, (long) c.vocabSize() * h, std));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            v.put(p + "input_layernorm.weight", ones(h));
            v.put(p + "self_attn.q_proj.weight", normal(rng, (long) c.qDim() * h, std));
            v.put(p + "self_attn.k_proj.weight", normal(rng, (long) c.kvDim() * h, std));
            v.put(p + "self_attn.v_proj.weight", normal(rng, (long) c.kvDim() * h, std));
            v.put(p + "self_attn.o_proj.weight", normal(rng, (long) h * c.qDim(), std));
            v.put(p + "mlp.gate_proj.weight", normal(rng, (long) f * h, std));
            v.put(p + "mlp.up_proj.weight", normal(rng, (long) f * h, std));
            v.put(p + "mlp.down_proj.weight", normal(rng, (long) h * f, std));
            v.put(p + "post_attention_layernorm.weight", ones(h));
        }
        v.put("model.norm.weight", ones(h));
        if (!c.tieWordEmbeddings()) v.put("lm_head.weight", normal(rng, (long) c.vocabSize() * h, std));
        return new TrainableLlama(c, v, "<random>");
    }

    private static float[] normal(Random rng, long n, double std) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextGaussian() * std);
        return a;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    public LlamaConfig config() {
        return config;
    }

    /** The base model's parameters in Hugging Face order (embeddings, layers, final norm, LM head). */
    public List<Parameter> baseParameters() {
        return base;
    }

    /** LoRA parameters (A then B of each adapted projection, by layer), empty without LoRA. */
    public List<Parameter> loraParameters() {
        List<Parameter> out = new ArrayList<>();
        for (DecoderLayer layer : layers)
            for (Linear p : layer.projections())
                if (p.lora != null) {
                    out.add(p.lora.a);
                    out.add(p.lora.b);
                }
        return out;
    }

    /** Parameters that receive gradients. */
    public List<Parameter> trainableParameters() {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : base) if (p.trainable()) out.add(p);
        for (Parameter p : loraParameters()) if (p.trainable()) out.add(p);
        return out;
    }

    /** The LoRA configuration, or null. */
    public LoraConfig lora() {
        return lora;
    }

    /**
     * Attaches fresh LoRA adapters (PEFT initialisation, drawn with {@code seed}) to the target projections of every
     * layer and freezes the base model.
     */
    public void addLora(LoraConfig cfg, long seed) {
        if (lora != null) throw new IllegalStateException("LoRA adapters are already attached");
        Random rng = new Random(seed);
        for (DecoderLayer layer : layers)
            for (Linear p : layer.projections())
                if (cfg.targets().contains(module(p.weight.name())))
                    p.lora = LoraAdapter.create(p.weight.name(), p.out, p.in, cfg, rng);
        lora = cfg;
        for (Parameter p : base) p.setTrainable(false);
        for (Parameter p : loraParameters()) p.setTrainable(true);
    }

    /** The module name of a projection weight, e.g. {@code down_proj}. */
    static String module(String weightName) {
        String[] parts = weightName.split("\\.");
        return parts[parts.length - 2];
    }

    /** Sets every parameter's gradient to zero. */
    public void zeroGrad() {
        for (Parameter p : trainableParameters()) p.zeroGrad();
    }

    /**
     * Forward and backward pass over one batch. Returns the summed loss over its supervised targets and adds to
     * every trainable parameter's gradient the gradient of {@code gradScale · summed loss}.
     *
     * @param dropoutKey seeds the LoRA dropout masks of this batch; negative turns dropout off
     */
    public double forwardBackward(Batch b, float gradScale, long dropoutKey) {
        int n = b.size() * b.seqLen(), h = config.hiddenSize(), vocab = config.vocabSize();
        checkIds(b);
        float[] x = embed(b.inputIds());
        DecoderLayer.Saved[] saved = new DecoderLayer.Saved[layers.length];
        for (int l = 0; l < layers.length; l++) {
            saved[l] = new DecoderLayer.Saved();
            x = layers[l].forward(x, b.size(), b.seqLen(), dropoutKey, saved[l]);
        }
        float[] xf = new float[n * h];
        RmsNorm.forward(x, n, h, finalNorm.data(), config.rmsNormEps(), xf);
        float[] logits = new float[n * vocab];
        Gemm.xwt(xf, n, h, lmHead.data(), vocab, logits);
        double loss = CrossEntropy.lossAndGrad(logits, n, vocab, b.labels(), b.seqLen(), gradScale);
        float[] dxf = new float[n * h];
        if (lmHead.trainable()) Gemm.dytx(logits, n, vocab, xf, h, lmHead.grad());
        Gemm.dyw(logits, n, vocab, lmHead.data(), h, dxf);
        logits = null;
        float[] dx = new float[n * h];
        RmsNorm.backward(dxf, x, n, h, finalNorm.data(), config.rmsNormEps(), dx, finalNorm.grad());
        for (int l = layers.length - 1; l >= 0; l--) {
            dx = layers[l].backward(dx, b.size(), b.seqLen(), saved[l]);
            saved[l] = null;
        }
        if (embed.trainable()) {
            float[] g = embed.grad();
            int[] ids = b.inputIds();
            for (int r = 0; r < n; r++) Gemm.axpy(1f, dx, r * h, g, ids[r] * h, h);
        }
        return loss;
    }

    /** The summed loss over the supervised targets of {@code b}, without gradients or dropout. */
    public double lossSum(Batch b) {
        int n = b.size() * b.seqLen(), vocab = config.vocabSize();
        float[] logits = logits(b.inputIds(), b.size(), b.seqLen());
        return CrossEntropy.lossAndGrad(logits, n, vocab, b.labels(), b.seqLen(), 0f);
    }

    /** Logits {@code [size·seqLen, vocab]} of {@code size} sequences of {@code seqLen} ids (no dropout). */
    public float[] logits(int[] ids, int size, int seqLen) {
        checkIds(new Batch(size, seqLen, ids, new int[ids.length]));
        int n = size * seqLen, h = config.hiddenSize(), vocab = config.vocabSize();
        float[] x = embed(ids);
        for (DecoderLayer layer : layers) x = layer.forward(x, size, seqLen, -1, null);
        float[] xf = new float[n * h];
        RmsNorm.forward(x, n, h, finalNorm.data(), config.rmsNormEps(), xf);
        float[] logits = new float[n * vocab];
        Gemm.xwt(xf, n, h, lmHead.data(), vocab, logits);
        return logits;
    }

    private float[] embed(int[] ids) {
        int h = config.hiddenSize();
        float[] x = new float[ids.length * h];
        for (int r = 0; r < ids.length; r++) System.arraycopy(embed.data(), ids[r] * h, x, r * h, h);
        return x;
    }

    private void checkIds(Batch b) {
        if (b.seqLen() > config.maxPositions())
            throw new IllegalArgumentException("sequence length " + b.seqLen() + " exceeds max_position_embeddings " + config.maxPositions());
        for (int id : b.inputIds())
            if (id < 0 || id >= config.vocabSize())
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + config.vocabSize());
    }
}
