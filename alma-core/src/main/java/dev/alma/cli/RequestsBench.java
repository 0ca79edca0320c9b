package dev.alma.cli;

import dev.alma.decode.DecodingOptions;
import dev.alma.decode.Generator;
import dev.alma.decode.TokenListener;
import dev.alma.io.FormatException;
import dev.alma.model.LlamaModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code alma bench --requests FILE}: a set of requests of given prompt and output lengths decoded greedily,
 * {@code batch} at a time, each stopped at its output length (random weights never choose when to stop): the
 * throughput of continuous batching, or of batches that wait for their longest request.
 *
 * @param promptTokens prompt length (random ids), or -1: each request's own
 * @param newTokens    tokens each request generates before it is stopped
 */
record RequestsBench(int[] promptTokens, int[] newTokens) {
    /** Reads one request per line: {@code NEW_TOKENS} or {@code PROMPT_TOKENS NEW_TOKENS}; blank lines skipped. */
    static RequestsBench read(Path file, int defaultPromptTokens, int context) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file + ": " + e.getMessage(), e);
        }
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String[] f = line.split("\\s+");
            if (f.length > 2) throw new FormatException(file, "line " + (i + 1), "expected 'NEW_TOKENS' or 'PROMPT_TOKENS NEW_TOKENS', got '" + line + "'");
            int[] r = new int[2];
            try {
                r[0] = f.length == 2 ? Integer.parseInt(f[0]) : defaultPromptTokens;
                r[1] = Integer.parseInt(f[f.length - 1]);
            } catch (NumberFormatException e) {
                throw new FormatException(file, "line " + (i + 1), "not a token count: '" + line + "'");
            }
            if (r[0] < 1 || r[1] < 1 || (long) r[0] + r[1] > context)
                throw new FormatException(file, "line " + (i + 1), "lengths " + r[0] + " + " + r[1]
                        + " must be positive and within the model's context of " + context);
            rows.add(r);
        }
        if (rows.isEmpty()) throw new FormatException(file, null, "no requests");
        return new RequestsBench(rows.stream().mapToInt(r -> r[0]).toArray(), rows.stream().mapToInt(r -> r[1]).toArray());
    }

    int size() {
        return newTokens.length;
    }

    int generatedTokens() {
        int n = 0;
        for (int t : newTokens) n += t;
        return n;
    }

    /**
     * Decodes every request, {@code batch} at a time, continuously or in fixed groups; returns the seconds taken.
     *
     * @param waitForLongest batches of {@code batch} consecutive requests, each run until its longest is done
     */
    double run(LlamaModel m, int batch, boolean waitForLongest, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<int[]> prompts = new ArrayList<>(size());
        for (int p : promptTokens) prompts.add(random.ints(p, 3, m.config().vocabSize()).toArray());
        int longest = 0;
        for (int t : newTokens) longest = Math.max(longest, t);
        Generator g = new Generator(m, DecodingOptions.greedy(longest)).withEosId(-1);
        long t0 = System.nanoTime();
        if (waitForLongest) {
            for (int start = 0; start < size(); start += batch)
                g.generate(prompts.subList(start, Math.min(size(), start + batch)), stopAt(start));
        } else {
            g.generate(prompts, batch, stopAt(0));
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Stops each request at its length (prompt {@code i} of a call is request {@code offset + i}). */
    private TokenListener stopAt(int offset) {
        int[] generated = new int[size()];
        return (p, s, token) -> ++generated[offset + p] < newTokens[offset + p];
    }
}
