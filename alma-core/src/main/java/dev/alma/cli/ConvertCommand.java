package dev.alma.cli;

import dev.alma.model.GgufExport;
import dev.alma.tensor.DType;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code alma convert}: writes a model, with LoRA adapters merged, as a GGUF file of one matrix type
 * ({@link GgufExport}).
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Write a model (Hugging Face directory or GGUF, LoRA adapters merged) as a GGUF file that alma and llama.cpp load.")
final class ConvertCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Hugging Face checkpoint directory (with tokenizer.model) or .gguf file")
    Path model;

    @Option(names = "--lora", description = "PEFT LoRA adapter directory to merge (repeatable)")
    List<Path> loras = new ArrayList<>();

    @Option(names = "--type", defaultValue = "q8_0", description = "matrix type: f32, f16, bf16, q8_0 (default), q4_0, q4_k, q5_k, q6_k; "
            + "matrices whose rows are not whole blocks of it are stored as f16")
    String type;

    @Option(names = "--out", required = true, description = "the .gguf file to write (replaced atomically)")
    Path out;

    @Override
    public void run() {
        DType t = ModelMixin.matrixType(type);
        long t0 = System.nanoTime();
        GgufExport.Result r;
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("convert").setUnit(" MB", 1_000_000)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err)).build()) {
            r = GgufExport.write(model, loras, t, out, (done, total) -> {
                bar.maxHint(total);
                bar.stepTo(done);
            });
        }
        System.out.printf(Locale.ROOT, "wrote %s: %d tensors, %.1fM parameters, %s%s, in %.1f s%n", out, r.tensors(),
                r.parameters() / 1e6, t, loras.isEmpty() ? "" : ", " + loras.size() + " LoRA adapter(s) merged",
                (System.nanoTime() - t0) / 1e9);
        if (!r.fallbacks().isEmpty())
            System.out.println("stored as F16 (rows not whole " + t + " blocks): " + String.join(", ", r.fallbacks()));
    }
}
