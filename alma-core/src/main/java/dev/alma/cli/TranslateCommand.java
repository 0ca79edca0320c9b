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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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

    @Option(names = "--batch", defaultValue = "1", paramLabel = "N",
            description = "translate standard input N lines at a time, one forward pass per step over all of them "
                    + "(throughput; each line gets what it gets alone)")
    int batch;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "text to translate (default: standard input)")
    List<String> text;

    @Override
    public void run() {
        DecodingOptions decoding = DecodingOptions.alma().withBeams(beams).withMaxNewTokens(maxNewTokens);
        if (sample) decoding = decoding.withSampling(temperature, topK, topP, seed);
        if (nbest < 1) throw new dev.alma.AlmaException("--nbest must be at least 1");
        if (batch < 1) throw new dev.alma.AlmaException("--batch must be at least 1, not " + batch);
        TranslationOptions options = new TranslationOptions(decoding, chat ? PromptStyle.CHAT : PromptStyle.ALMA, stopAtNewline);
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model.model);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        LlamaModel m = model.open();
        try (Translator t = Translator.of(m, tok, options)) {
            if (text != null && !text.isEmpty()) {
                print(out, t, List.of(0), List.of(String.join(" ", text)), options);
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            // the lines of the batch being filled; a blank line (an empty output line) waits for the lines before it
            List<Integer> indices = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            String line;
            for (int i = 0; (line = in.readLine()) != null; i++) {
                boolean blank = PyStrings.strip(line).isEmpty();
                if (blank && nbest > 1) continue;
                indices.add(i);
                lines.add(blank ? null : line);
                if (lines.stream().filter(Objects::nonNull).count() == batch) {
                    print(out, t, indices, lines, options);
                    indices.clear();
                    lines.clear();
                }
            }
            print(out, t, indices, lines, options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Translates the non-null lines in one batch and prints every line's output in order (null: an empty line). */
    private void print(PrintStream out, Translator t, List<Integer> indices, List<String> lines, TranslationOptions options) {
        List<String> texts = lines.stream().filter(Objects::nonNull).toList();
        List<List<Translator.Candidate>> done = texts.isEmpty() ? List.of() : t.translateAllNBest(texts, from, to, nbest, options);
        int next = 0;
        for (int k = 0; k < lines.size(); k++) {
            if (lines.get(k) == null) {
                out.println();
                continue;
            }
            List<Translator.Candidate> cs = done.get(next++);
            if (nbest == 1) out.println(cs.getFirst().text());
            else for (Translator.Candidate c : cs) out.println(indices.get(k) + " ||| " + c.text() + " ||| " + c.score());
        }
    }
}
