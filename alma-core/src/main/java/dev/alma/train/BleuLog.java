package dev.alma.train;

import dev.alma.io.FormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's validation BLEU history as {@code bleu.csv} ({@code step,direction,bleu,sentences}; step 0 is before
 * training), written atomically and read back when a run resumes.
 */
public final class BleuLog {
    /** The file name in the output directory. */
    public static final String FILE = "bleu.csv";
    private static final String HEADER = "step,direction,bleu,sentences";

    /** One direction's score at one step. */
    public record Entry(long step, String direction, double bleu, int sentences) {
    }

    private final List<Entry> entries = new ArrayList<>();

    /** Adds the results of a validation after {@code step}. */
    public void add(long step, List<BleuValidation.Result> results) {
        for (BleuValidation.Result r : results) entries.add(new Entry(step, r.direction(), r.bleu().score(), r.hypotheses().size()));
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** Writes {@code bleu.csv} into {@code dir}. */
    public void write(Path dir) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Entry e : entries)
            sb.append(String.format(Locale.ROOT, "%d,%s,%.4f,%d%n", e.step(), e.direction(), e.bleu(), e.sentences()));
        ModelFiles.writeAtomically(dir.resolve(FILE), sb.toString());
    }

    /** The entries of {@code dir}'s {@code bleu.csv} up to {@code lastStep} (none if the file is absent). */
    public static BleuLog read(Path dir, long lastStep) {
        BleuLog log = new BleuLog();
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return log;
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new FormatException(f, null, "cannot read: " + e.getMessage());
        }
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) throw new FormatException(f, "header", "expected '" + HEADER + "'");
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            String[] c = lines.get(i).split(",");
            try {
                if (c.length != 4) throw new NumberFormatException("expected 4 columns");
                Entry e = new Entry(Long.parseLong(c[0]), c[1], Double.parseDouble(c[2]), Integer.parseInt(c[3]));
                if (e.step() <= lastStep) log.entries.add(e);
            } catch (NumberFormatException ex) {
                throw new FormatException(f, "line " + (i + 1), "malformed row '" + lines.get(i) + "': " + ex.getMessage());
            }
        }
        return log;
    }
}
