package dev.alma.cli;

import dev.alma.PromptStyle;
import dev.alma.PyStrings;
import dev.alma.TranslationOptions;
import dev.alma.Translator;
import dev.alma.decode.DecodingOptions;
import dev.alma.model.LlamaModel;
import dev.alma.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** {@code alma translate}: translate the text given, or standard input line by line. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = "Translate TEXT, or standard input line by line (one output line per input line).")
final class TranslateCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Option(names = "--from", required = true, description = "source language code, e.g. de")
    String from;

    @Option(names = "--to", required = true, description = "target language code, e.g. en")
    String to;

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

    @Option(names = "--nbest", defaultValue = "1",
            description = "print the N best translations per input as 'index ||| text ||| score' lines")
    int nbest;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "text to translate (default: standard input)")
    List<String> text;

    @Override
    public void run() {
        DecodingOptions decoding = DecodingOptions.alma().withBeams(beams).withMaxNewTokens(maxNewTokens);
        if (sample) decoding = decoding.withSampling(temperature, topK, topP, seed);
        if (nbest < 1) throw new dev.alma.AlmaException("--nbest must be at least 1");
        TranslationOptions options = new TranslationOptions(decoding, chat ? PromptStyle.CHAT : PromptStyle.ALMA, stopAtNewline);
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model.model);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        LlamaModel m = model.open();
        try (Translator t = Translator.of(m, tok, options)) {
            if (text != null && !text.isEmpty()) {
                print(out, t, 0, String.join(" ", text), options);
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            for (int i = 0; (line = in.readLine()) != null; i++) {
                if (PyStrings.strip(line).isEmpty() && nbest == 1) out.println();
                else if (!PyStrings.strip(line).isEmpty()) print(out, t, i, line, options);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void print(PrintStream out, Translator t, int index, String line, TranslationOptions options) {
        if (nbest == 1) {
            out.println(t.translate(line, from, to, options));
            return;
        }
        for (Translator.Candidate c : t.translateNBest(line, from, to, nbest, options))
            out.println(index + " ||| " + c.text() + " ||| " + c.score());
    }
}
