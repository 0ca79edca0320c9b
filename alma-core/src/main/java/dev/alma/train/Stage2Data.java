package dev.alma.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;
import dev.alma.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * ALMA's stage 2: parallel sentences in ALMA's data layout ({@code xxen/train.xx-en.json} JSON lines or a JSON
 * array of {@code {"translation": {"xx": …, "en": …}}}, else aligned {@code train.xx-en.xx} / {@code train.xx-en.en}
 * text files; {@code valid.xx-en.json} for validation), used in both directions. Each example is
 * {@code <s>} + tokens of {@code prompt + target} + {@code </s>}, where the prompt is ALMA's
 * {@code "Translate this from {Src} to {Tgt}:\n{Src}: {source}\n{Tgt}:"} and prompt and target are tokenized as one
 * string, as ALMA's {@code tokenize_function_train_eval_*} does (so with the LLaMA tokenizer the target starts
 * without a word-boundary piece, and in about 3% of pairs the prompt's final {@code :} merges with the target's
 * first character). Labels are -100 on {@code <s>} and on as many tokens as the prompt alone tokenizes to; the
 * target and {@code </s>} are supervised. (ALMA's script masks {@code len(prompt)} positions starting at
 * {@code <s>}, which leaves the prompt's last token supervised; this follows the definition instead:
 * {@code <s>} and the whole prompt are ignored.)
 */
public final class Stage2Data implements BatchSource {
    /** ALMA's language names. */
    public static final Map<String, String> LANGUAGES = Map.ofEntries(
            Map.entry("en", "English"), Map.entry("de", "German"), Map.entry("fr", "French"), Map.entry("cs", "Czech"),
            Map.entry("is", "Icelandic"), Map.entry("zh", "Chinese"), Map.entry("ja", "Japanese"), Map.entry("ru", "Russian"),
            Map.entry("uk", "Ukrainian"), Map.entry("ha", "Hausa"), Map.entry("ro", "Romanian"));
    /** Padding id for right-padded batches (ALMA sets LLaMA's pad id to 0); padded positions carry label -100. */
    static final int PAD = 0;

    /** One translation direction of a sentence pair. */
    public record Example(String src, String tgt, String source, String target) {
    }

    /** Token ids and labels of one example. */
    public record Encoded(int[] ids, int[] labels) {
    }

    private final List<Encoded> examples;
    private final int batchSize;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] order;

    /** Tokenizes {@code examples} (each at most {@code maxLen} tokens) into batches of {@code batchSize}. */
    public Stage2Data(List<Example> examples, Tokenizer tok, int maxLen, int batchSize, long seed) {
        if (examples.isEmpty()) throw new IllegalArgumentException("no stage-2 examples");
        if (batchSize <= 0) throw new IllegalArgumentException("batch size " + batchSize + " must be positive");
        List<Encoded> enc = new ArrayList<>(examples.size());
        for (Example e : examples) enc.add(encode(e, tok, maxLen));
        this.examples = Collections.unmodifiableList(enc);
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** ALMA's prompt for translating {@code source} from language {@code src} to {@code tgt}. */
    public static String prompt(String src, String tgt, String source) {
        String s = name(src), t = name(tgt);
        return "Translate this from " + s + " to " + t + ":\n" + s + ": " + source + "\n" + t + ":";
    }

    private static String name(String code) {
        String n = LANGUAGES.get(code);
        if (n == null) throw new IllegalArgumentException("unknown language code '" + code + "' (known: " + new TreeMap<>(LANGUAGES).keySet() + ")");
        return n;
    }

    /** Token ids and labels of {@code e}, truncated to {@code maxLen} tokens with {@code </s>} kept last. */
    public static Encoded encode(Example e, Tokenizer tok, int maxLen) {
        if (maxLen < 3) throw new IllegalArgumentException("maximum length " + maxLen + " is too short");
        String prompt = prompt(e.src(), e.tgt(), e.source());
        int[] body = tok.encode(prompt + e.target());
        int promptLen = tok.encode(prompt).length;
        int n = Math.min(body.length, maxLen - 2);
        int[] ids = new int[n + 2], labels = new int[n + 2];
        ids[0] = tok.bosId();
        System.arraycopy(body, 0, ids, 1, n);
        ids[n + 1] = tok.eosId();
        for (int i = 0; i < ids.length; i++) labels[i] = i <= promptLen ? CrossEntropy.IGNORE : ids[i];
        return new Encoded(ids, labels);
    }

    /** The encoded examples in file order. */
    public List<Encoded> examples() {
        return examples;
    }

    @Override
    public long batchesPerEpoch() {
        return (examples.size() + batchSize - 1) / batchSize;
    }

    /** Batch {@code index}: epoch {@code index / batchesPerEpoch}, examples in an order shuffled per epoch. */
    @Override
    public synchronized Batch batch(long index) {
        int epoch = (int) (index / batchesPerEpoch());
        int pos = (int) (index % batchesPerEpoch());
        if (epoch != cachedEpoch) {
            order = new int[examples.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Random rng = new Random(seed * 1_000_003L + epoch);
            for (int i = order.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            cachedEpoch = epoch;
        }
        List<Encoded> picked = new ArrayList<>();
        for (int i = pos * batchSize; i < Math.min(order.length, (pos + 1) * batchSize); i++) picked.add(examples.get(order[i]));
        return pad(picked);
    }

    /** The examples as consecutive batches in file order (for validation). */
    public List<Batch> inOrder() {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < examples.size(); i += batchSize)
            out.add(pad(examples.subList(i, Math.min(examples.size(), i + batchSize))));
        return out;
    }

    /** Right-pads {@code list} to its longest example. */
    static Batch pad(List<Encoded> list) {
        int len = 0;
        for (Encoded e : list) len = Math.max(len, e.ids().length);
        int[] ids = new int[list.size() * len], labels = new int[list.size() * len];
        java.util.Arrays.fill(ids, PAD);
        java.util.Arrays.fill(labels, CrossEntropy.IGNORE);
        for (int b = 0; b < list.size(); b++) {
            System.arraycopy(list.get(b).ids(), 0, ids, b * len, list.get(b).ids().length);
            System.arraycopy(list.get(b).labels(), 0, labels, b * len, list.get(b).labels().length);
        }
        return new Batch(list.size(), len, ids, labels);
    }

    /**
     * Reads the sentence pairs of {@code split} ("train" or "valid") under an ALMA data root: for every
     * {@code xxen} directory that holds the split, the directions {@code xx-en} and {@code en-xx} that
     * {@code directions} lists (all of them when it is empty). {@code limit} caps the pairs read per directory
     * (0 for all).
     */
    public static List<Example> read(Path root, String split, List<String> directions, int limit) {
        List<Example> out = new ArrayList<>();
        List<Path> dirs;
        try (var s = Files.list(root)) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new FormatException(root, null, "cannot list the data directory: " + e.getMessage());
        }
        for (Path d : dirs) {
            String name = d.getFileName().toString();
            if (name.length() != 4 || !name.endsWith("en")) continue;
            String xx = name.substring(0, 2);
            boolean fwd = directions.isEmpty() || directions.contains(xx + "-en");
            boolean back = directions.isEmpty() || directions.contains("en-" + xx);
            if (!fwd && !back) continue;
            List<String[]> pairs = readPairs(d, split, xx, limit);
            if (pairs == null) continue;
            for (String[] p : pairs) {
                if (fwd) out.add(new Example(xx, "en", p[0], p[1]));
                if (back) out.add(new Example("en", xx, p[1], p[0]));
            }
        }
        if (out.isEmpty()) throw new FormatException(root, split, "no " + split + " files for directions " + directions);
        return out;
    }

    /** Pairs {xx, en} of one directory, or null when it has no file for the split. */
    static List<String[]> readPairs(Path dir, String split, String xx, int limit) {
        String stem = split + "." + xx + "-en";
        Path json = dir.resolve(stem + ".json");
        if (Files.isRegularFile(json)) return readJson(json, xx, limit);
        Path a = dir.resolve(stem + "." + xx), b = dir.resolve(stem + ".en");
        if (!Files.isRegularFile(a) || !Files.isRegularFile(b)) return null;
        List<String> la = lines(a), lb = lines(b);
        if (la.size() != lb.size())
            throw new FormatException(b, null, lb.size() + " lines, but " + a.getFileName() + " has " + la.size());
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < la.size() && (limit <= 0 || out.size() < limit); i++) out.add(new String[]{la.get(i), lb.get(i)});
        return out;
    }

    private static List<String> lines(Path f) {
        try {
            List<String> l = new ArrayList<>(Files.readAllLines(f, StandardCharsets.UTF_8));
            while (!l.isEmpty() && l.getLast().isEmpty()) l.removeLast();
            return l;
        } catch (IOException e) {
            throw unreadable(f, e);
        }
    }

    /** The typed error for a data file that cannot be read. */
    static FormatException unreadable(Path f, IOException e) {
        return new FormatException(f, null, e instanceof java.nio.file.NoSuchFileException ? "file not found"
                : "cannot read: " + e.getMessage());
    }

    /** JSON lines or one JSON array of {@code {"translation": {xx: …, "en": …}}}. */
    static List<String[]> readJson(Path f, String xx, int limit) {
        String text;
        try {
            text = Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw unreadable(f, e);
        }
        List<JsonNode> records = new ArrayList<>();
        if (text.stripLeading().startsWith("[")) {
            JsonNode arr = Json.parse(f, null, text.getBytes(StandardCharsets.UTF_8));
            arr.forEach(records::add);
        } else {
            int lineNo = 0;
            for (String line : text.split("\n")) {
                lineNo++;
                if (line.isBlank()) continue;
                records.add(Json.parse(f, "line " + lineNo, line.getBytes(StandardCharsets.UTF_8)));
                if (limit > 0 && records.size() >= limit) break;
            }
        }
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < records.size() && (limit <= 0 || out.size() < limit); i++) {
            JsonNode t = records.get(i).path("translation");
            if (!t.path(xx).isTextual() || !t.path("en").isTextual())
                throw new FormatException(f, "record " + (i + 1) + ".translation", "needs text fields '" + xx + "' and 'en'");
            out.add(new String[]{t.get(xx).asText(), t.get("en").asText()});
        }
        return out;
    }
}
