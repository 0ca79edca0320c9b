package dev.alma.eval;

import dev.alma.AlmaException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The directory layout of ALMA's test data: references in {@code <root>/wmt-testset/<xx><yy>/test.<xx>-<yy>.<yy>}
 * and a system's translations in {@code <root>/<system>/<xx><yy>/test.<xx>-<yy>.<yy>}.
 */
public final class AlmaTestSet {
    private static final Pattern FILE = Pattern.compile("test\\.([A-Za-z_]+)-([A-Za-z_]+)\\.([A-Za-z_]+)");

    /** One translation direction with its reference and hypothesis files. */
    public record Direction(String source, String target, Path reference, Path hypothesis) {
        /** {@code cs-en} style name. */
        public String name() {
            return source + "-" + target;
        }
    }

    private AlmaTestSet() {
    }

    /**
     * The directions under {@code root} that have both a reference and a translation by {@code system}: into
     * English first, each group in alphabetical order.
     */
    public static List<Direction> directions(Path root, String system) {
        Path refs = root.resolve("wmt-testset");
        Path hyps = root.resolve(system);
        if (!Files.isDirectory(refs)) throw new AlmaException(refs + ": no such directory (expected the ALMA test-set layout)");
        if (!Files.isDirectory(hyps)) throw new AlmaException(hyps + ": no such system directory");
        List<Direction> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(refs)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                String pair = dir.getFileName().toString();
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Matcher m = FILE.matcher(f.getFileName().toString());
                        if (!m.matches() || !m.group(2).equals(m.group(3)) || !pair.equals(m.group(1) + m.group(2)))
                            continue;
                        Path hyp = hyps.resolve(pair).resolve(f.getFileName());
                        if (Files.isRegularFile(hyp)) out.add(new Direction(m.group(1), m.group(2), f, hyp));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + refs, e);
        }
        if (out.isEmpty())
            throw new AlmaException("no direction under " + refs + " has a translation in " + hyps);
        out.sort(Comparator.comparing((Direction d) -> !d.target().equals("en")).thenComparing(Direction::name));
        return out;
    }

    /** Where {@code system}'s translation of this direction lies under {@code root} (it may not exist). */
    public static Path output(Path root, String system, Direction d) {
        return root.resolve(system).resolve(d.source() + d.target()).resolve(d.reference().getFileName());
    }

    /** sacreBLEU's recommended BLEU tokenizer for a target language: {@code zh} for Chinese, else {@code 13a}. */
    public static BleuTokenizer tokenizerFor(String targetLanguage) {
        return targetLanguage.equals("zh") ? BleuTokenizer.ZH : BleuTokenizer.MTEVAL_13A;
    }
}
