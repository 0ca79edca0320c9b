package dev.alma.train;

import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * ALMA's stage 1: monolingual documents of several languages, each as {@code <s> text </s>}, interleaved by
 * language ratios (ALMA: en .17, ru .22, cs .14, zh .19, is .08, de .20; renormalised over the languages given),
 * concatenated and cut into blocks of {@code blockSize} tokens where every next token is supervised. The stream is a
 * pure function of the seed: each language's documents are reshuffled on every pass, a seeded generator picks the
 * language of the next document, and block {@code i} is always the same tokens.
 */
public final class Stage1Data implements BatchSource {
    /** ALMA's stage-1 language mix. */
    public static final Map<String, Double> ALMA_RATIOS = Map.of("en", .17, "ru", .22, "cs", .14, "zh", .19, "is", .08, "de", .20);

    private final List<String> langs;
    private final double[] cumulative;
    private final List<List<String>> docs;
    private final List<Map<Integer, int[]>> tokenized = new ArrayList<>();
    private final Tokenizer tok;
    private final int blockSize, batchSize;
    private final long seed;
    // stream state
    private Random pick;
    private int[][] order;
    private int[] cursor, pass;
    private int[] buffer;
    private int bufLen;
    private long nextBlock;
    private final List<int[]> recent = new ArrayList<>();
    private long recentFirst;

    /**
     * @param docsByLang documents per language code
     * @param ratios     sampling weight per language; languages without one use {@link #ALMA_RATIOS}, else equal shares
     */
    public Stage1Data(Map<String, List<String>> docsByLang, Map<String, Double> ratios, Tokenizer tok, int blockSize, int batchSize, long seed) {
        if (docsByLang.isEmpty()) throw new IllegalArgumentException("no stage-1 data");
        if (blockSize < 2 || batchSize <= 0) throw new IllegalArgumentException("block size must be ≥ 2 and batch size positive");
        langs = new ArrayList<>(docsByLang.keySet());
        docs = new ArrayList<>();
        double[] w = new double[langs.size()];
        double total = 0;
        for (int i = 0; i < langs.size(); i++) {
            String l = langs.get(i);
            List<String> d = docsByLang.get(l).stream().filter(s -> !s.isBlank()).toList();
            if (d.isEmpty()) throw new IllegalArgumentException("no documents for language '" + l + "'");
            docs.add(d);
            tokenized.add(new java.util.HashMap<>());
            w[i] = ratios.getOrDefault(l, ALMA_RATIOS.getOrDefault(l, 1.0 / langs.size()));
            if (!(w[i] > 0)) throw new IllegalArgumentException("ratio of '" + l + "' must be positive, got " + w[i]);
            total += w[i];
        }
        cumulative = new double[w.length];
        double acc = 0;
        for (int i = 0; i < w.length; i++) cumulative[i] = (acc += w[i] / total);
        this.tok = tok;
        this.blockSize = blockSize;
        this.batchSize = batchSize;
        this.seed = seed;
        restart();
    }

    /**
     * Reads one file per language: a {@code .jsonl} file holds one {@code {"text": …}} document per line, any other
     * file one document per non-empty line.
     */
    public static Map<String, List<String>> readFiles(Map<String, Path> files) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : files.entrySet()) {
            Path f = e.getValue();
            List<String> lines;
            try {
                lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            } catch (IOException ex) {
                throw Stage2Data.unreadable(f, ex);
            }
            List<String> d = new ArrayList<>();
            boolean jsonl = f.getFileName().toString().endsWith(".jsonl");
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.isBlank()) continue;
                if (jsonl) {
                    var node = Json.parse(f, "line " + (i + 1), line.getBytes(StandardCharsets.UTF_8)).get("text");
                    if (node == null || !node.isTextual()) throw new FormatException(f, "line " + (i + 1) + ".text", "missing or not a string");
                    d.add(node.asText());
                } else d.add(line);
            }
            out.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).addAll(d);
        }
        return out;
    }

    private void restart() {
        pick = new Random(seed);
        order = new int[langs.size()][];
        cursor = new int[langs.size()];
        pass = new int[langs.size()];
        for (int i = 0; i < langs.size(); i++) reshuffle(i);
        buffer = new int[blockSize * 4];
        bufLen = 0;
        nextBlock = 0;
        recent.clear();
        recentFirst = 0;
    }

    private void reshuffle(int lang) {
        int n = docs.get(lang).size();
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        Random r = new Random(seed * 31 + lang * 1_000_003L + pass[lang]);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        order[lang] = o;
        cursor[lang] = 0;
    }

    private int[] nextDocument() {
        double u = pick.nextDouble();
        int lang = 0;
        while (lang < cumulative.length - 1 && u >= cumulative[lang]) lang++;
        if (cursor[lang] == order[lang].length) {
            pass[lang]++;
            reshuffle(lang);
        }
        int d = order[lang][cursor[lang]++];
        List<String> texts = docs.get(lang);
        return tokenized.get(lang).computeIfAbsent(d, k -> tok.encode(texts.get(k)));
    }

    /** Block {@code index} of the stream ({@code blockSize} ids). */
    public synchronized int[] block(long index) {
        if (index < recentFirst) restart();
        while (nextBlock <= index) {
            while (bufLen < blockSize) {
                int[] d = nextDocument();
                ensure(bufLen + d.length + 2);
                buffer[bufLen++] = tok.bosId();
                System.arraycopy(d, 0, buffer, bufLen, d.length);
                bufLen += d.length;
                buffer[bufLen++] = tok.eosId();
            }
            int[] b = java.util.Arrays.copyOf(buffer, blockSize);
            System.arraycopy(buffer, blockSize, buffer, 0, bufLen - blockSize);
            bufLen -= blockSize;
            recent.add(b);
            if (recent.size() > 4 * batchSize) {
                recent.removeFirst();
                recentFirst++;
            }
            nextBlock++;
        }
        return recent.get((int) (index - recentFirst));
    }

    private void ensure(int n) {
        if (n > buffer.length) buffer = java.util.Arrays.copyOf(buffer, Math.max(n, buffer.length * 2));
    }

    @Override
    public long batchesPerEpoch() {
        return -1;
    }

    /** Micro-batch {@code index}: blocks {@code index·batchSize …}, every next token supervised. */
    @Override
    public Batch batch(long index) {
        int[] ids = new int[batchSize * blockSize];
        for (int b = 0; b < batchSize; b++) System.arraycopy(block(index * batchSize + b), 0, ids, b * blockSize, blockSize);
        return new Batch(batchSize, blockSize, ids, ids.clone());
    }
}
