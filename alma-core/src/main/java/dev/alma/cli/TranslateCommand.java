package dev.alma.cli;

import dev.alma.PromptStyle;
import dev.alma.PyStrings;
import dev.alma.TranslationOptions;
import dev.alma.TranslationQueue;
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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

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

    @Option(names = "--batch", defaultValue = "" + TranslationOptions.DEFAULT_MAX_BATCH, paramLabel = "N",
            description = "translate up to N lines of standard input at once, in shared forward passes; a line "
                    + "starts as soon as another finishes and never waits for more input (default: ${DEFAULT-VALUE}; "
                    + "1: each line alone)")
    int batch;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "text to translate (default: standard input)")
    List<String> text;

    @Override
    public void run() {
        DecodingOptions decoding = DecodingOptions.alma().withBeams(beams).withMaxNewTokens(maxNewTokens);
        if (sample) decoding = decoding.withSampling(temperature, topK, topP, seed);
        if (nbest < 1) throw new dev.alma.AlmaException("--nbest must be at least 1");
        if (batch < 1) throw new dev.alma.AlmaException("--batch must be at least 1, not " + batch);
        TranslationOptions options = new TranslationOptions(decoding, chat ? PromptStyle.CHAT : PromptStyle.ALMA,
                stopAtNewline, batch);
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model.model);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        LlamaModel m = model.open();
        try (Translator t = Translator.of(m, tok, options)) {
            if (text != null && !text.isEmpty()) {
                print(out, 0, t.translateAllNBest(List.of(String.join(" ", text)), from, to, nbest, options).getFirst());
                return;
            }
            translateLines(t, options, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out);
        }
    }

    /** Prompt tokens of a typical line (a WMT'22 sentence in ALMA's prompt: 46 on average), for the warning about memory. */
    private static final int TYPICAL_PROMPT = 64;

    /** One line read from the input: its number and its translation (null: a blank line, printed empty). */
    private record Line(int index, CompletableFuture<List<Translator.Candidate>> result) {
    }

    /**
     * Translates the lines of {@code in} through a {@link TranslationQueue}, read on a thread of their own so that
     * a line starts as soon as it arrives, and prints each line's output in input order as soon as it and the
     * lines before it are done.
     */
    private void translateLines(Translator t, TranslationOptions options, BufferedReader in, PrintStream out) {
        BlockingQueue<Object> lines = new ArrayBlockingQueue<>(4 * batch + 16);  // Line, then END or an error
        Object end = new Object();
        try (TranslationQueue queue = t.queue(options, nbest)) {
            int fit = queue.textsAtOnce(TYPICAL_PROMPT);
            if (fit < batch)
                System.err.printf("alma: about %d lines at once fit the KV cache in this JVM's memory (%d beams, up to "
                        + "%d new tokens each), fewer than --batch %d; ALMA_JAVA_OPTS=-Xmx... gives the launcher's JVM "
                        + "more%n", fit, Math.max(beams, nbest), maxNewTokens, batch);
            Thread reader = Thread.ofPlatform().name("alma-translate-input").daemon(true).start(() -> {
                Object last = end;
                try {
                    String line;
                    for (int i = 0; (line = in.readLine()) != null; i++) {
                        boolean blank = PyStrings.strip(line).isEmpty();
                        if (blank && nbest > 1) continue;
                        lines.put(new Line(i, blank ? null : queue.submitNBest(line, from, to)));
                    }
                } catch (IOException e) {
                    last = new UncheckedIOException(e);
                } catch (RuntimeException e) {
                    last = e;
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    lines.put(last);
                } catch (InterruptedException ignored) {
                }
            });
            try {
                for (Object o; (o = lines.take()) != end; ) {
                    if (o instanceof RuntimeException e) throw e;
                    Line l = (Line) o;
                    if (l.result == null) out.println();
                    else print(out, l.index, l.result.join());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new dev.alma.AlmaException("interrupted", e);
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            } finally {
                reader.interrupt();
            }
        }
    }

    /** One input's output: the best translation, or with --nbest its candidates as 'index ||| text ||| score' lines. */
    private void print(PrintStream out, int index, List<Translator.Candidate> cs) {
        if (nbest == 1) out.println(cs.getFirst().text());
        else for (Translator.Candidate c : cs) out.println(index + " ||| " + c.text() + " ||| " + c.score());
    }
}
