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

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "text to translate (default: standard input)")
    List<String> text;

    @Override
    public void run() {
        DecodingOptions decoding = DecodingOptions.alma().withBeams(beams).withMaxNewTokens(maxNewTokens);
        TranslationOptions options = new TranslationOptions(decoding, chat ? PromptStyle.CHAT : PromptStyle.ALMA, stopAtNewline);
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model.model);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        LlamaModel m = model.open();
        try (Translator t = Translator.of(m, tok, options)) {
            if (text != null && !text.isEmpty()) {
                out.println(t.translate(String.join(" ", text), from, to));
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null)
                out.println(PyStrings.strip(line).isEmpty() ? "" : t.translate(line, from, to));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
