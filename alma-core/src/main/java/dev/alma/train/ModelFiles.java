package dev.alma.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.io.SafeTensors;
import dev.alma.io.SafeTensorsWriter;
import dev.alma.model.LlamaConfig;
import dev.alma.tensor.DType;
import dev.alma.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

    /** Loads the f32 master weights of the model in {@code dir}. */
    public static TrainableLlama load(Path dir) {
        LlamaConfig c = LlamaConfig.read(dir.resolve("config.json"));
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Path file : weightFiles(dir))
            try (SafeTensors st = SafeTensors.open(file)) {
                for (Tensor t : st.tensors().values()) {
                    if (t.name().endsWith("rotary_emb.inv_freq")) continue;
                    if (t.type() != DType.F32 && t.type() != DType.F16 && t.type() != DType.BF16)
                        throw new FormatException(file, t.name(), "dtype " + t.type() + " is not a float type");
                    values.put(t.name(), floats(t));
                }
            }
        return new TrainableLlama(c, values, dir.toString());
    }

    private static List<Path> weightFiles(Path dir) {
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) return List.of(single);
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) throw new FormatException(single, null, "file not found (nor model.safetensors.index.json)");
        JsonNode map = Json.read(index).get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(index, "weight_map", "missing or not an object");
        Set<Path> files = new LinkedHashSet<>();
        for (JsonNode f : map) {
            String name = f.asText();
            if (name.contains("/") || name.contains("\\") || name.startsWith("."))
                throw new FormatException(index, "weight_map", "shard name '" + name + "' is not a plain file name");
            files.add(dir.resolve(name));
        }
        return new ArrayList<>(files);
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

    /** Attaches the adapter in {@code dir} (PEFT layout) to {@code model}, which must have none yet. */
    public static void loadAdapter(TrainableLlama model, Path dir) {
        Path cfgFile = dir.resolve("adapter_config.json");
        JsonNode c = Json.read(cfgFile);
        if (!"LORA".equals(c.path("peft_type").asText()))
            throw new FormatException(cfgFile, "peft_type", "'" + c.path("peft_type").asText() + "' is not LORA");
        if (c.path("use_rslora").asBoolean(false) || c.path("use_dora").asBoolean(false) || c.path("fan_in_fan_out").asBoolean(false))
            throw new FormatException(cfgFile, "use_rslora/use_dora/fan_in_fan_out", "only plain LoRA is supported");
        List<String> targets = new ArrayList<>();
        JsonNode tm = c.path("target_modules");
        if (tm.isArray()) tm.forEach(t -> targets.add(t.asText()));
        else if (tm.isTextual()) targets.add(tm.asText());
        LoraConfig cfg;
        try {
            cfg = new LoraConfig(c.path("r").asInt(-1), c.path("lora_alpha").asDouble(-1), c.path("lora_dropout").asDouble(0), targets);
        } catch (IllegalArgumentException e) {
            throw new FormatException(cfgFile, null, e.getMessage());
        }
        model.addLora(cfg, 0);
        Path file = dir.resolve("adapter_model.safetensors");
        try (SafeTensors st = SafeTensors.open(file)) {
            Set<String> seen = new LinkedHashSet<>();
            for (Parameter p : model.loraParameters()) {
                Tensor t = st.get(PEFT_PREFIX + p.name());
                if (t == null) throw new FormatException(file, PEFT_PREFIX + p.name(), "missing tensor");
                if (t.count() != p.size() || t.rank() != 2 || t.dim(0) != p.shape()[0])
                    throw new FormatException(file, t.name(), "shape " + t.shapeString() + ", expected " + java.util.Arrays.toString(p.shape()));
                System.arraycopy(floats(t), 0, p.data(), 0, p.size());
                seen.add(t.name());
            }
            for (String name : st.tensors().keySet())
                if (!seen.contains(name)) throw new FormatException(file, name, "tensor matches no adapted projection");
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
        try {
            if (from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) return;
            Files.createDirectories(to.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(to.toAbsolutePath().getParent(), to.getFileName().toString(), ".tmp");
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
            readable(tmp);
            Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    /** Gives a temporary file (created owner-only) the usual {@code rw-r--r--} before it is renamed into place. */
    static void readable(Path tmp) throws IOException {
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException notPosix) {
            // other file systems keep their default permissions
        }
    }

    static void writeAtomically(Path to, String text) {
        try {
            Files.createDirectories(to.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(to.toAbsolutePath().getParent(), to.getFileName().toString(), ".tmp");
            Files.writeString(tmp, text);
            readable(tmp);
            Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + to, e);
        }
    }
}
