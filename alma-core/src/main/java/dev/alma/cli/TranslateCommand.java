package dev.alma.cli;

import dev.alma.PyStrings;
import dev.alma.TranslationOptions;
import dev.alma.TranslationQueue;
import dev.alma.Translator;
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

    @Option(names = "--nbest", defaultValue = "1",
            description = "print the N best translations per input as 'index ||| text ||| score' lines")
    int nbest;

    @Mixin
    TranslationMixin translation;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "text to translate (default: standard input)")
    List<String> text;

    @Override
    public void run() {
        if (nbest < 1) throw new dev.alma.AlmaException("--nbest must be at least 1");
        TranslationOptions options = translation.options();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (Translator t = translation.open(model)) {
            if (text != null && !text.isEmpty()) {
                print(out, 0, t.translateAllNBest(List.of(String.join(" ", text)), from, to, nbest, options).getFirst());
                return;
            }
            translateLines(t, options, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out);
        }
    }

    /** One line read from the input: its number and its translation (null: a blank line, printed empty). */
    private record Line(int index, CompletableFuture<List<Translator.Candidate>> result) {
    }

    /**
     * Translates the lines of {@code in} through a {@link TranslationQueue}, read on a thread of their own so that
     * a line starts as soon as it arrives, and prints each line's output in input order as soon as it and the
     * lines before it are done.
     */
    private void translateLines(Translator t, TranslationOptions options, BufferedReader in, PrintStream out) {
        BlockingQueue<Object> lines = new ArrayBlockingQueue<>(4 * options.maxBatch() + 16);  // Line, then END or an error
        Object end = new Object();
        try (TranslationQueue queue = t.queue(options, nbest)) {
            translation.warnIfFewerFit(queue, "lines");
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
