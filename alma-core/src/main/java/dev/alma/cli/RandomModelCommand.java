package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.model.RandomModelWriter;
import dev.alma.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

/** {@code alma random-model}: writes a LLaMA-2 checkpoint of any shape with random weights (for benchmarks). */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a random LLaMA-2 checkpoint: a GGUF file or a Hugging Face safetensors directory.")
final class RandomModelCommand implements Runnable {
    @Option(names = "--out", required = true, description = "the .gguf file, or the directory for safetensors")
    Path out;

    @Option(names = "--format", defaultValue = "gguf", description = "gguf (default) or safetensors")
    String format;

    @Option(names = "--type", defaultValue = "f16", description = "matrix storage: f32, f16, bf16, q8_0, q4_0, q4_k, q5_k, q6_k (the quantized types GGUF only; "
            + "k-quants need widths that are multiples of 256)")
    String type;

    @Option(names = "--hidden", defaultValue = "2048", description = "hidden size")
    int hidden;

    @Option(names = "--ffn", defaultValue = "5504", description = "feed-forward size")
    int ffn;

    @Option(names = "--layers", defaultValue = "16", description = "decoder layers")
    int layers;

    @Option(names = "--heads", defaultValue = "16", description = "attention heads")
    int heads;

    @Option(names = "--kv-heads", description = "key/value heads (default: --heads)")
    Integer kvHeads;

    @Option(names = "--vocab", defaultValue = "32000", description = "vocabulary size")
    int vocab;

    @Option(names = "--context", defaultValue = "4096", description = "context length")
    int context;

    @Option(names = "--seed", defaultValue = "1", description = "random seed")
    long seed;

    @Option(names = "--vocab-from", description = "GGUF file whose tokenizer.ggml.* vocabulary is copied (GGUF only)")
    Path vocabFrom;

    @Override
    public void run() {
        DType t = ModelMixin.matrixType(type);
        RandomModelWriter.Shape shape;
        try {
            shape = new RandomModelWriter.Shape(hidden, ffn, layers, heads, kvHeads == null ? heads : kvHeads, vocab, context);
        } catch (IllegalArgumentException e) {
            throw new AlmaException("bad shape: " + e.getMessage());
        }
        long t0 = System.nanoTime();
        switch (format.toLowerCase(Locale.ROOT)) {
            case "gguf" -> RandomModelWriter.writeGguf(out, shape, t, seed, vocabFrom);
            case "safetensors" -> {
                if (vocabFrom != null) throw new AlmaException("--vocab-from applies to GGUF output only");
                RandomModelWriter.writeSafetensors(out, shape, t, seed);
            }
            default -> throw new AlmaException("--format '" + format + "' is not gguf or safetensors");
        }
        System.out.printf(Locale.ROOT, "wrote %s: %.1fM parameters, %s, in %.1f s%n", out, shape.parameters() / 1e6,
                t, (System.nanoTime() - t0) / 1e9);
    }
}
