package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.model.LlamaModel;
import dev.alma.model.ModelOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Options shared by the commands that load a model. */
final class ModelMixin {
    @Option(names = "--model", required = true, description = "model directory (config.json + safetensors), .gguf file, or random:7b / random:13b / "
            + "random:HIDDEN,FFN,LAYERS,HEADS[,KV][:bf16|f16|f32|q8_0|q4_0|q4_k|q5_k|q6_k] (random weights made on the device, for bench)")
    Path model;

    @Option(names = "--lora", description = "PEFT LoRA adapter directory (repeatable)")
    List<Path> loras = new ArrayList<>();

    @Option(names = "--device", defaultValue = "cpu", description = "cpu (default), cuda or cuda:N")
    String device;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0: one per core)")
    int threads;

    @Option(names = "--weights", description = "hold the checkpoint's f32/f16/bf16 matrices as this type: q8_0 (half of f16's memory, "
            + "1.4-1.5 times its CPU decode speed at 7B here), q4_0, q4_k, q5_k, q6_k, bf16, f16, f32; default: as stored")
    String weights;

    @Option(names = "--kv-cache", defaultValue = "f32", paramLabel = "TYPE",
            description = "keys and values in the KV cache as f32 (default, exact) or f16 (CPU and CUDA: half the "
                    + "memory and the attention's reads, values rounded to f16)")
    String kvCache;

    LlamaModel open() {
        return LlamaModel.open(model, options());
    }

    ModelOptions options() {
        dev.alma.tensor.DType kv = switch (kvCache.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> dev.alma.tensor.DType.F32;
            case "f16" -> dev.alma.tensor.DType.F16;
            default -> throw new AlmaException("--kv-cache must be f32 or f16, not '" + kvCache + "'");
        };
        return new ModelOptions(device, threads, loras, weights == null ? null : matrixType(weights, "--weights"), kv);
    }

    /** The matrix type a {@code --type} option names (case-insensitive), or a one-line error listing the choices. */
    static dev.alma.tensor.DType matrixType(String type) {
        return matrixType(type, "--type");
    }

    /** As {@link #matrixType(String)} for the option {@code option}. */
    static dev.alma.tensor.DType matrixType(String type, String option) {
        try {
            dev.alma.tensor.DType t = dev.alma.tensor.DType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
            if (dev.alma.io.Quantizer.supports(t)) return t;
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new dev.alma.AlmaException(option + " '" + type + "' is not one of f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k");
    }

    /** Parses {@code "1 4103 9632"} (spaces or commas). */
    static int[] parseIds(String text) {
        String t = text.trim();
        if (t.isEmpty()) throw new AlmaException("--ids is empty");
        String[] parts = t.split("[\\s,]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new AlmaException("--ids: '" + parts[i] + "' is not a token id");
            }
        }
        return ids;
    }
}
