package dev.alma.cli;

import dev.alma.AlmaException;
import dev.alma.PyStrings;
import dev.alma.TranslationQueue;
import dev.alma.Translator;
import dev.alma.eval.TextLines;
import dev.alma.io.AtomicFiles;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;

/**
 * {@code alma translate-testset}: ALMA's evaluation in one command. Every direction's source under
 * {@code ROOT/wmt-testset/<xx><yy>/test.<xx>-<yy>.<xx>} is translated into {@code ROOT/<system>/<xx><yy>/test.<xx>-<yy>.<yy>}
 * (the layout {@code alma eval --dir} reads), all directions through one {@link TranslationQueue}, then scored.
 */
@Command(name = "translate-testset", mixinStandardHelpOptions = true,
        description = "Translate the sources of an ALMA-layout test set (ROOT/wmt-testset/xxyy/test.xx-yy.xx) into "
                + "ROOT/SYSTEM/xxyy/test.xx-yy.yy, then score them as `alma eval --dir ROOT --system SYSTEM` does.")
final class TestSetCommand implements Runnable {
    @Mixin
    ModelMixin model;

    @Mixin
    TranslationMixin translation;

    @Option(names = "--testset", required = true, paramLabel = "ROOT", description = "test-set root holding wmt-testset/")
    Path root;

    @Option(names = "--system", required = true, paramLabel = "NAME", description = "folder under ROOT for the translations")
    String system;

    @Option(names = "--pairs", split = ",", paramLabel = "xx-yy",
            description = "directions to translate, e.g. de-en,en-de (default: every one with a source file)")
    List<String> pairs;

    @Option(names = "--no-eval", description = "only translate")
    boolean noEval;

    /** One direction: its source file and where its translation goes. */
    private record Direction(String from, String to, Path source, Path output) {
        String name() {
            return from + "-" + to;
        }
    }

    @Override
    public void run() {
        if (system.isBlank() || system.contains("/") || system.equals("wmt-testset"))
            throw new AlmaException("--system must be a folder name other than wmt-testset, not '" + system + "'");
        List<Direction> directions = directions();
        try (Translator t = translation.open(model); TranslationQueue queue = t.queue(translation.options(), 1)) {
            translation.warnIfFewerFit(queue, "sentences");
            // every sentence of every direction queued first, so that directions share forward passes too
            List<List<CompletableFuture<String>>> all = new ArrayList<>();
            for (Direction d : directions) {
                List<CompletableFuture<String>> futures = new ArrayList<>();
                for (String line : TextLines.read(d.source()))
                    futures.add(PyStrings.strip(line).isEmpty() ? CompletableFuture.completedFuture("")
                            : queue.submit(line, d.from(), d.to()));
                all.add(futures);
            }
            int total = all.stream().mapToInt(List::size).sum();
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("translate").setInitialMax(total)
                    .setUnit(" sentences", 1).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).build()) {
                for (List<CompletableFuture<String>> futures : all)
                    for (CompletableFuture<String> f : futures) f.whenComplete((r, e) -> bar.step());
                for (int i = 0; i < directions.size(); i++) {
                    Direction d = directions.get(i);
                    StringBuilder text = new StringBuilder();
                    for (CompletableFuture<String> f : all.get(i)) text.append(f.join()).append('\n');
                    AtomicFiles.writeString(d.output(), text.toString());
                }
            }
            for (Direction d : directions) System.err.printf("alma: %s -> %s%n", d.name(), d.output());
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        if (noEval) return;
        int code = Main.commandLine().execute("eval", "--dir", root.toString(), "--system", system);
        if (code != 0) throw new AlmaException("scoring the translations failed (exit " + code + ")");
    }

    /** The directions asked for (or all), each with a source file. */
    private List<Direction> directions() {
        Path refs = root.resolve("wmt-testset");
        if (!Files.isDirectory(refs)) throw new AlmaException(refs + ": no such directory (expected the ALMA test-set layout)");
        Set<String> wanted = pairs == null ? null : new LinkedHashSet<>(pairs);
        List<Direction> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(refs)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                String pair = dir.getFileName().toString();
                if (pair.length() != 4) continue;
                String from = pair.substring(0, 2), to = pair.substring(2);
                Path source = dir.resolve("test." + from + "-" + to + "." + from);
                if (!Files.isRegularFile(source) || (wanted != null && !wanted.remove(from + "-" + to))) continue;
                out.add(new Direction(from, to, source, root.resolve(system).resolve(pair).resolve("test." + from + "-" + to + "." + to)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + refs, e);
        }
        if (wanted != null && !wanted.isEmpty())
            throw new AlmaException("no source file under " + refs + " for " + String.join(", ", wanted));
        if (out.isEmpty()) throw new AlmaException("no source file under " + refs);
        return out;
    }
}
