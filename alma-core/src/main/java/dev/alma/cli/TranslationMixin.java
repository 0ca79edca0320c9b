package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.PromptStyle;
import dev.alma.TranslationOptions;
import dev.alma.TranslationQueue;
import dev.alma.Translator;
import dev.alma.decode.DecodingOptions;
import dev.alma.model.LlamaModel;
import dev.alma.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** How to translate: the options shared by {@code alma translate} and {@code alma serve}. */
final class TranslationMixin {
    @Option(names = "--tokenizer", description = "tokenizer file or directory (default: the model's)")
    Path tokenizer;

    @Option(names = "--beams", defaultValue = "5", description = "beam size (ALMA: 5; 1 = greedy)")
    int beams;

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "most tokens generated (ALMA: 256)")
    int maxNewTokens;

    @Option(names = "--chat", description = "use X-ALMA's chat template around the prompt")
    boolean chat;

    @Option(names = "--stop-at-newline", description = "stop generating at the first newline after some text")
    boolean stopAtNewline;

    @Option(names = "--sample", description = "sample instead of searching (with --temperature/--top-k/--top-p/--seed)")
    boolean sample;

    @Option(names = "--temperature", defaultValue = "1.0", description = "sampling temperature")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "sample from the k most likely tokens (0: all)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "random seed for sampling")
    long seed;

    @Option(names = "--batch", defaultValue = "" + TranslationOptions.DEFAULT_MAX_BATCH, paramLabel = "N",
            description = "translate up to N texts at once in shared forward passes; a text starts as soon as "
                    + "another finishes and never waits for more input (default: ${DEFAULT-VALUE}; 1: each alone)")
    int batch;

    /** The options these flags give. */
    TranslationOptions options() {
        if (batch < 1) throw new AlmaException("--batch must be at least 1, not " + batch);
        DecodingOptions decoding = DecodingOptions.alma().withBeams(beams).withMaxNewTokens(maxNewTokens);
        if (sample) decoding = decoding.withSampling(temperature, topK, topP, seed);
        return new TranslationOptions(decoding, chat ? PromptStyle.CHAT : PromptStyle.ALMA, stopAtNewline, batch);
    }

    /** A translator over {@code model} with these options as its defaults (the tokenizer from the model's files). */
    Translator open(ModelMixin model) {
        TranslationOptions options = options();
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model.model);
        LlamaModel m = model.open();
        return Translator.of(m, tok, options);
    }

    /** Prompt tokens of a typical text (a WMT'22 sentence in ALMA's prompt: 46 on average). */
    private static final int TYPICAL_PROMPT = 64;

    /** Tells standard error when fewer than --batch texts fit the memory for the KV cache at once. */
    void warnIfFewerFit(TranslationQueue queue, String what) {
        int fit = queue.textsAtOnce(TYPICAL_PROMPT);
        if (fit < batch)
            System.err.printf("alma: this JVM's memory holds the KV cache of %d %s at once in the worst case (%d "
                    + "beams, %d new tokens each), fewer than --batch %d; more run together while translations are "
                    + "short, and ALMA_JAVA_OPTS=-Xmx... gives the launcher's JVM more%n",
                    fit, what, beams, maxNewTokens, batch);
    }
}
