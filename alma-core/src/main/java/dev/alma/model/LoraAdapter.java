package dev.alma.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.io.SafeTensors;
import dev.alma.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}): for each adapted
 * linear layer, {@code A [r, in]} and {@code B [out, r]}, applied as {@code W x + scale · B (A x)} with
 * {@code scale = alpha / r} (or {@code alpha / √r} with rsLoRA). The model applies adapters unmerged: the base
 * weights stay mapped and untouched, an adapter costs only its own size in memory, and several adapters can share
 * one base model.
 */
public final class LoraAdapter implements AutoCloseable {
    /** Module names an adapter may target. */
    public static final Set<String> TARGETS = Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /** One adapted linear layer. */
    public record Delta(Tensor a, Tensor b, float scale) {
    }

    private static final Pattern NAME = Pattern.compile(
            "(?:base_model\\.model\\.)?model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.(\\w+_proj)\\.lora_([AB])(?:\\.[\\w-]+)?\\.weight");

    private final Path dir;
    private final int rank;
    private final double alpha;
    private final double dropout;
    private final float scale;
    private final java.util.List<String> declaredTargets;
    private final Map<String, Delta> deltas;
    private final SafeTensors file;

    private LoraAdapter(Path dir, int rank, double alpha, double dropout, float scale, java.util.List<String> declaredTargets,
                        Map<String, Delta> deltas, SafeTensors file) {
        this.declaredTargets = declaredTargets;
        this.dir = dir;
        this.rank = rank;
        this.alpha = alpha;
        this.dropout = dropout;
        this.scale = scale;
        this.deltas = deltas;
        this.file = file;
    }

    /** Reads an adapter directory. */
    public static LoraAdapter open(Path dir) {
        Path cfgPath = dir.resolve("adapter_config.json");
        if (!Files.isDirectory(dir)) throw new FormatException(dir, null, "LoRA adapter directory not found");
        JsonNode cfg = Json.read(cfgPath);
        String type = cfg.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) throw new FormatException(cfgPath, "peft_type", "'" + type + "' is not supported (only LORA)");
        if (cfg.path("use_dora").asBoolean(false)) throw new FormatException(cfgPath, "use_dora", "DoRA adapters are not supported");
        if (cfg.path("fan_in_fan_out").asBoolean(false))
            throw new FormatException(cfgPath, "fan_in_fan_out", "transposed (Conv1D) adapters are not supported");
        String bias = cfg.path("bias").asText("none");
        if (!bias.equals("none")) throw new FormatException(cfgPath, "bias", "'" + bias + "' is not supported (only none)");
        for (String f : new String[]{"rank_pattern", "alpha_pattern"})
            if (cfg.path(f).isObject() && !cfg.path(f).isEmpty())
                throw new FormatException(cfgPath, f, "per-module ranks or alphas are not supported");
        if (cfg.path("modules_to_save").isArray() && !cfg.path("modules_to_save").isEmpty())
            throw new FormatException(cfgPath, "modules_to_save", "adapters that replace whole modules are not supported");
        JsonNode rNode = cfg.get("r"), alphaNode = cfg.get("lora_alpha");
        if (rNode == null || !rNode.isIntegralNumber() || rNode.asInt() <= 0 || rNode.asInt() > 65536)
            throw new FormatException(cfgPath, "r", "missing or not a positive integer");
        if (alphaNode == null || !alphaNode.isNumber()) throw new FormatException(cfgPath, "lora_alpha", "missing or not a number");
        int r = rNode.asInt();
        double alpha = alphaNode.asDouble();
        float scale = (float) (cfg.path("use_rslora").asBoolean(false) ? alpha / Math.sqrt(r) : alpha / r);

        Path weights = dir.resolve("adapter_model.safetensors");
        if (!Files.exists(weights)) {
            throw new FormatException(weights, null, Files.exists(dir.resolve("adapter_model.bin"))
                    ? "adapter_model.bin (PyTorch pickle) is not supported; save the adapter with safe_serialization=True"
                    : "file not found");
        }
        SafeTensors st = SafeTensors.open(weights);
        try {
            Map<String, Tensor[]> pairs = new LinkedHashMap<>();
            for (Tensor t : st.tensors().values()) {
                Matcher m = NAME.matcher(t.name());
                if (!m.matches()) throw new FormatException(weights, t.name(), "not a LoRA A/B weight of a LLaMA linear layer");
                if (!TARGETS.contains(m.group(3))) throw new FormatException(weights, t.name(), "unknown module " + m.group(3));
                String base = "model.layers." + m.group(1) + "." + m.group(2) + "." + m.group(3) + ".weight";
                pairs.computeIfAbsent(base, k -> new Tensor[2])[m.group(4).equals("A") ? 0 : 1] = t;
            }
            Map<String, Delta> deltas = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor[]> e : pairs.entrySet()) {
                Tensor a = e.getValue()[0], b = e.getValue()[1];
                if (a == null || b == null)
                    throw new FormatException(weights, e.getKey(), "has lora_" + (a == null ? "B" : "A") + " but no lora_" + (a == null ? "A" : "B"));
                if (a.rank() != 2 || b.rank() != 2 || a.dim(0) != r || b.dim(1) != r)
                    throw new FormatException(weights, a.name(), "shapes " + a.shapeString() + " / " + b.shapeString()
                            + " do not match r = " + r);
                deltas.put(e.getKey(), new Delta(a, b, scale));
            }
            if (deltas.isEmpty()) throw new FormatException(weights, null, "holds no LoRA weights");
            java.util.List<String> declared = new java.util.ArrayList<>();
            if (cfg.path("target_modules").isArray()) cfg.path("target_modules").forEach(t -> declared.add(t.asText()));
            return new LoraAdapter(dir, r, alpha, cfg.path("lora_dropout").asDouble(0), scale, java.util.List.copyOf(declared), deltas, st);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /** The adapter directory. */
    public Path dir() {
        return dir;
    }

    /** LoRA rank r. */
    public int rank() {
        return rank;
    }

    /** {@code lora_alpha}. */
    public double alpha() {
        return alpha;
    }

    /** {@code lora_dropout} (used only when training). */
    public double dropout() {
        return dropout;
    }

    /** Whether the scale is rsLoRA's alpha / √r rather than alpha / r. */
    public boolean rsLora() {
        return Math.abs(scale - alpha / rank) > 1e-6 * Math.abs(alpha / rank);
    }

    /** alpha / r (or alpha / √r). */
    public float scale() {
        return scale;
    }

    /** Adapted layers by the Hugging Face name of the base weight they modify. */
    public Map<String, Delta> deltas() {
        return deltas;
    }

    /**
     * Target module names, e.g. {@code [q_proj, down_proj]}: {@code target_modules} of the config when it is a list,
     * else the modules the weights adapt.
     */
    public Set<String> targets() {
        Set<String> out = new LinkedHashSet<>(declaredTargets);
        if (!out.isEmpty()) return out;
        for (String k : deltas.keySet()) out.add(k.substring(k.lastIndexOf('.', k.length() - 8) + 1, k.length() - 7));
        return out;
    }

    @Override
    public void close() {
        file.close();
    }
}
