package dev.alma.train;

import dev.alma.io.AtomicFiles;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.model.Checkpoint;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes Hugging Face model directories ({@code config.json} + safetensors, one file or shards with
 * {@code model.safetensors.index.json}) and PEFT LoRA adapter directories ({@code adapter_config.json} +
 * {@code adapter_model.safetensors}). Every file appears atomically.
 */
public final class ModelFiles {
    /** PEFT's prefix of adapter tensor names for a causal LM. */
    static final String PEFT_PREFIX = "base_model.model.";
    /** Files copied from the source model so that an output directory is a complete model. */
    private static final List<String> SIDE_FILES = List.of("tokenizer.model", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json");

    private ModelFiles() {
    }

    /** Loads the f32 master weights of the model in {@code dir} (read through {@link Checkpoint}: one file or shards). */
    public static TrainableLlama load(Path dir) {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            Map<String, float[]> values = new LinkedHashMap<>();
            for (Tensor t : ckpt.tensors().values()) {
                if (t.name().endsWith("rotary_emb.inv_freq")) continue;
                if (t.type() != DType.F32 && t.type() != DType.F16 && t.type() != DType.BF16)
                    throw new FormatException(dir, t.name(), "dtype " + t.type() + " is not a float type");
                values.put(t.name(), floats(t));
            }
            return new TrainableLlama(ckpt.config(), values, dir.toString());
        }
    }

    /**
     * Writes the model's full weights in f32 as {@code model.safetensors} into {@code out}, with {@code config.json}
     * and the tokenizer / generation files copied from {@code source}.
     */
    public static void saveModel(TrainableLlama model, Path source, Path out) {
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        for (Parameter p : model.baseParameters()) w.add(p.name(), DType.F32, p.longShape(), p.data());
        w.write(out.resolve("model.safetensors"));
        copyAtomically(source.resolve("config.json"), out.resolve("config.json"));
        for (String f : SIDE_FILES)
            if (Files.isRegularFile(source.resolve(f))) copyAtomically(source.resolve(f), out.resolve(f));
    }

    /** Writes the LoRA adapters as a PEFT adapter directory. */
    public static void saveAdapter(TrainableLlama model, Path out) {
        LoraConfig cfg = model.lora();
        if (cfg == null) throw new IllegalStateException("the model has no LoRA adapters");
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        for (Parameter p : model.loraParameters()) w.add(PEFT_PREFIX + p.name(), DType.F32, p.longShape(), p.data());
        w.write(out.resolve("adapter_model.safetensors"));
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("peft_type", "LORA");
        c.put("task_type", "CAUSAL_LM");
        c.put("base_model_name_or_path", null);
        c.put("r", cfg.r());
        c.put("lora_alpha", cfg.alpha() == Math.rint(cfg.alpha()) ? (Object) (long) cfg.alpha() : cfg.alpha());
        c.put("lora_dropout", cfg.dropout());
        c.put("target_modules", cfg.targets());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("use_rslora", false);
        c.put("use_dora", false);
        c.put("init_lora_weights", true);
        c.put("inference_mode", true);
        c.put("modules_to_save", null);
        writeAtomically(out.resolve("adapter_config.json"), Json.write(c));
    }

    /**
     * Attaches the adapter in {@code dir} (PEFT layout, read by {@link dev.alma.model.LoraAdapter}) to {@code model},
     * which must have none yet.
     */
    public static void loadAdapter(TrainableLlama model, Path dir) {
        try (dev.alma.model.LoraAdapter adapter = dev.alma.model.LoraAdapter.open(dir)) {
            if (adapter.rsLora())
                throw new FormatException(dir.resolve("adapter_config.json"), "use_rslora", "rsLoRA adapters cannot be trained further here");
            LoraConfig cfg;
            try {
                cfg = new LoraConfig(adapter.rank(), adapter.alpha(), adapter.dropout(), new ArrayList<>(adapter.targets()));
            } catch (IllegalArgumentException e) {
                throw new FormatException(dir.resolve("adapter_config.json"), null, e.getMessage());
            }
            model.addLora(cfg, 0);
            Path file = dir.resolve("adapter_model.safetensors");
            Set<String> used = new LinkedHashSet<>();
            for (Parameter p : model.loraParameters()) {
                boolean isA = p.name().endsWith(".lora_A.weight");
                String base = p.name().substring(0, p.name().length() - ".lora_A.weight".length()) + ".weight";
                dev.alma.model.LoraAdapter.Delta d = adapter.deltas().get(base);
                if (d == null) throw new FormatException(file, PEFT_PREFIX + p.name(), "missing tensor");
                Tensor t = isA ? d.a() : d.b();
                if (t.count() != p.size() || t.dim(0) != p.shape()[0])
                    throw new FormatException(file, t.name(), "shape " + t.shapeString() + ", expected " + java.util.Arrays.toString(p.shape()));
                System.arraycopy(floats(t), 0, p.data(), 0, p.size());
                used.add(base);
            }
            for (String base : adapter.deltas().keySet())
                if (!used.contains(base)) throw new FormatException(file, base, "adapter matches no adapted projection of the model");
        }
    }

    /** The values of a F32, F16 or BF16 tensor, converted in bulk. */
    static float[] floats(Tensor t) {
        int n = Math.toIntExact(t.count());
        float[] out = new float[n];
        java.nio.ByteBuffer bytes = t.data().asByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (t.type() == DType.F32) {
            bytes.asFloatBuffer().get(out);
            return out;
        }
        short[] half = new short[n];
        bytes.asShortBuffer().get(half);
        if (t.type() == DType.BF16) for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(half[i] << 16);
        else for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(half[i]);
        return out;
    }

    static void copyAtomically(Path from, Path to) {
        AtomicFiles.copy(from, to);
    }

    static void writeAtomically(Path to, String text) {
        AtomicFiles.writeString(to, text);
    }
}
