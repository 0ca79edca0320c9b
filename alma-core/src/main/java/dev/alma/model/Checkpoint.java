package dev.alma.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.io.SafeTensors;
import dev.alma.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stored weights of a model and its configuration, memory-mapped: a Hugging Face directory
 * ({@code config.json} with {@code model.safetensors} or a sharded {@code model.safetensors.index.json}), or a GGUF
 * file (see {@link GgufCheckpoint}).
 * Tensors keep Hugging Face names. Closing unmaps the files.
 */
public final class Checkpoint implements AutoCloseable {
    private final Path source;
    private final LlamaConfig config;
    private final Map<String, Tensor> tensors;
    private final List<AutoCloseable> files;

    public Checkpoint(Path source, LlamaConfig config, Map<String, Tensor> tensors, List<AutoCloseable> files) {
        this.source = source;
        this.config = config;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.files = List.copyOf(files);
    }

    /** Opens a Hugging Face checkpoint directory (or its {@code config.json}), or a GGUF file. */
    public static Checkpoint open(Path path) {
        if (Files.isRegularFile(path) && path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf"))
            return openGguf(path);
        Path dir = Files.isDirectory(path) ? path : path.getParent();
        if (!Files.isDirectory(path) && !path.getFileName().toString().equals("config.json"))
            throw new FormatException(path, null, "not a checkpoint directory (expected config.json and safetensors files)");
        if (!Files.isDirectory(dir)) throw new FormatException(path, null, "directory not found");
        LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
        Path index = dir.resolve("model.safetensors.index.json");
        Path single = dir.resolve("model.safetensors");
        List<AutoCloseable> opened = new ArrayList<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            if (Files.exists(index)) {
                JsonNode map = Json.read(index).get("weight_map");
                if (map == null || !map.isObject()) throw new FormatException(index, "weight_map", "missing or not an object");
                Map<String, SafeTensors> shards = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String shardName = e.getValue().asText();
                    Path shard = dir.resolve(shardName).normalize();
                    if (!shard.getParent().equals(dir.normalize()))
                        throw new FormatException(index, "weight_map." + e.getKey(), "shard '" + shardName + "' is outside the directory");
                    if (!Files.exists(shard))
                        throw new FormatException(index, "weight_map." + e.getKey(), "shard " + shardName + " is missing");
                    SafeTensors st = shards.computeIfAbsent(shardName, n -> {
                        SafeTensors f = SafeTensors.open(shard);
                        opened.add(f);
                        return f;
                    });
                    Tensor t = st.get(e.getKey());
                    if (t == null)
                        throw new FormatException(shard, e.getKey(), "tensor listed in the index is not in this shard");
                    tensors.put(e.getKey(), t);
                }
                for (SafeTensors st : shards.values())
                    for (String name : st.tensors().keySet())
                        if (!tensors.containsKey(name))
                            throw new FormatException(st.file(), name, "tensor is not listed in " + index.getFileName());
            } else if (Files.exists(single)) {
                SafeTensors st = SafeTensors.open(single);
                opened.add(st);
                tensors.putAll(st.tensors());
            } else {
                throw new FormatException(dir, null, "no model.safetensors or model.safetensors.index.json"
                        + (Files.exists(dir.resolve("pytorch_model.bin")) ? " (pytorch_model.bin is not supported; convert to safetensors)" : ""));
            }
        } catch (RuntimeException e) {
            closeAll(opened);
            throw e;
        }
        return new Checkpoint(dir, config, tensors, opened);
    }

    private static Checkpoint openGguf(Path path) {
        dev.alma.io.GgufFile file = dev.alma.io.GgufFile.open(path);
        try {
            GgufCheckpoint g = GgufCheckpoint.of(file);
            return new Checkpoint(path, g.config(), new LinkedHashMap<>(g.tensors()), List.of(file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Where the checkpoint was read from. */
    public Path source() {
        return source;
    }

    public LlamaConfig config() {
        return config;
    }

    /** Tensors by Hugging Face name. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    private static void closeAll(List<AutoCloseable> files) {
        for (AutoCloseable f : files) {
            try {
                f.close();
            } catch (Exception ignored) {
                // closing a mapping does not fail in practice; nothing useful to report on the error path
            }
        }
    }

    @Override
    public void close() {
        closeAll(files);
    }
}
