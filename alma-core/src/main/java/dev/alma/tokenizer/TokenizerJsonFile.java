package dev.alma.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.FormatException;
import dev.alma.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Reads a Hugging Face {@code tokenizer.json} with a BPE model and builds the pipeline it declares. Supported:
 * normalizers {@code Sequence}, {@code Prepend}, {@code Replace} (string patterns), {@code NFC}/{@code NFD}/
 * {@code NFKC}/{@code NFKD}, {@code Lowercase}; the {@code Metaspace} pre-tokenizer; decoders {@code Sequence},
 * {@code Replace}, {@code ByteFallback}, {@code Fuse}, {@code Strip} (leading), {@code Metaspace}. Anything else is
 * reported as unsupported rather than approximated.
 *
 * <p>One deliberate difference in decoding: a run of byte tokens that is not valid UTF-8 is decoded as SentencePiece
 * does (U+FFFD for each byte of each invalid sequence, valid characters kept), where {@code ByteFallback} turns the
 * whole run into U+FFFD. Only invalid byte sequences differ (encoding text never produces them), and this way the
 * {@link StreamingDecoder} can emit each character as soon as it is complete.
 */
final class TokenizerJsonFile {
    private static final int MAX_VOCAB = 1 << 24;

    private TokenizerJsonFile() {
    }

    /** A tokenizer.json larger than this is refused before it is read (LLaMA-2's is 1.8 MB, LLaMA-3's 9 MB). */
    private static final long MAX_SIZE = 256L << 20;

    static HuggingFaceTokenizer read(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_SIZE) throw new FormatException(file, null, "is " + size + " bytes, too large for a tokenizer.json");
        } catch (IOException e) {
            // Json.read reports a missing or unreadable file.
        }
        return parse(file, Json.read(file));
    }

    static HuggingFaceTokenizer parse(Path file, JsonNode root) {
        if (!root.isObject()) throw new FormatException(file, null, "is not a JSON object");
        JsonNode model = object(file, root, "model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) throw new FormatException(file, "model.type", "'" + type + "' is not supported, only BPE");
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode() && model.path("dropout").asDouble() != 0)
            throw new FormatException(file, "model.dropout", "BPE dropout is not supported");
        for (String f : new String[]{"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode v = model.path(f);
            if (!v.isMissingNode() && !v.isNull() && !v.asText().isEmpty())
                throw new FormatException(file, "model." + f, "is not supported");
        }

        // Vocabulary and added tokens.
        JsonNode vocabNode = object(file, model, "vocab");
        List<String> byId = new ArrayList<>();
        int maxId = -1;
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) maxId = Math.max(maxId, id(file, "model.vocab." + e.getKey(), e.getValue()));
        JsonNode added = root.path("added_tokens");
        if (!added.isMissingNode() && !added.isNull() && !added.isArray())
            throw new FormatException(file, "added_tokens", "is not an array");
        for (int i = 0; i < added.size(); i++)
            maxId = Math.max(maxId, id(file, "added_tokens[" + i + "].id", added.get(i).path("id")));
        if (maxId < 0) throw new FormatException(file, "model.vocab", "is empty");
        if (maxId >= vocabNode.size() + added.size())
            throw new FormatException(file, "model.vocab", "id " + maxId + " leaves gaps: there are only "
                    + (vocabNode.size() + added.size()) + " tokens (ids must be contiguous)");
        String[] pieces = new String[maxId + 1];
        boolean[] special = new boolean[maxId + 1];
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            int id = e.getValue().asInt();
            if (pieces[id] != null && !pieces[id].equals(e.getKey()))
                throw new FormatException(file, "model.vocab." + e.getKey(), "id " + id + " is also '" + pieces[id] + "'");
            pieces[id] = e.getKey();
        }
        for (int i = 0; i < added.size(); i++) {
            JsonNode a = added.get(i);
            int id = a.path("id").asInt();
            String content = text(file, a, "content", "added_tokens[" + i + "].content");
            if (pieces[id] != null && !pieces[id].equals(content))
                throw new FormatException(file, "added_tokens[" + i + "]", "id " + id + " is '" + content
                        + "' but the vocabulary has '" + pieces[id] + "'");
            pieces[id] = content;
            special[id] = a.path("special").asBoolean(false);
        }
        for (int i = 0; i < pieces.length; i++)
            if (pieces[i] == null) throw new FormatException(file, "model.vocab", "no token has id " + i + " (ids must be contiguous)");
        PieceTable vocab = new PieceTable(pieces.length);
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            if (e.getKey().isEmpty()) throw new FormatException(file, "model.vocab", "has an empty token");
            if (!vocab.put(e.getKey(), e.getValue().asInt()))
                throw new FormatException(file, "model.vocab." + e.getKey(), "is defined twice");
        }

        // Merges, ranked by position.
        JsonNode mergesNode = model.path("merges");
        if (!mergesNode.isArray()) throw new FormatException(file, "model.merges", "is missing or not an array");
        MergeTable merges = new MergeTable(mergesNode.size());
        for (int i = 0; i < mergesNode.size(); i++) {
            String field = "model.merges[" + i + "]";
            JsonNode m = mergesNode.get(i);
            String a, b;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) throw new FormatException(file, field, "'" + m.asText() + "' is not two tokens separated by a space");
                a = parts[0];
                b = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                throw new FormatException(file, field, "is neither \"a b\" nor [\"a\", \"b\"]");
            }
            int ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(a + b);
            if (ia < 0 || ib < 0 || im < 0)
                throw new FormatException(file, field, "token '" + (ia < 0 ? a : ib < 0 ? b : a + b) + "' is not in the vocabulary");
            merges.put(ia, ib, i, im);
        }

        int[] byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.get(String.format("<0x%02X>", b));
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        int unkId = -1;
        JsonNode unk = model.path("unk_token");
        if (!unk.isMissingNode() && !unk.isNull()) {
            unkId = vocab.get(unk.asText());
            if (unkId < 0) throw new FormatException(file, "model.unk_token", "'" + unk.asText() + "' is not in the vocabulary");
        }
        int unkForInterface = unkId >= 0 ? unkId : indexOf(pieces, "<unk>");

        List<UnaryOperator<String>> normalizers = new ArrayList<>();
        normalizer(file, root.path("normalizer"), "normalizer", normalizers, 0);
        HuggingFaceTokenizer.Metaspace metaspace = preTokenizer(file, root.path("pre_tokenizer"), "pre_tokenizer");
        PieceDecoder decoder = decoder(file, root.path("decoder"), pieces, special, byteIds, unkForInterface);
        return new HuggingFaceTokenizer(pieces, vocab, merges, normalizers, metaspace, byteFallback, byteIds, unkId,
                model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false),
                indexOf(pieces, "<s>"), indexOf(pieces, "</s>"), unkForInterface, decoder);
    }

    private static void normalizer(Path file, JsonNode n, String field, List<UnaryOperator<String>> out, int depth) {
        if (n.isMissingNode() || n.isNull()) return;
        if (depth > 16) throw new FormatException(file, field, "nested too deeply");
        String type = typeOf(file, n, field);
        switch (type) {
            case "Sequence" -> {
                JsonNode list = n.path("normalizers");
                if (!list.isArray()) throw new FormatException(file, field + ".normalizers", "is not an array");
                for (int i = 0; i < list.size(); i++)
                    normalizer(file, list.get(i), field + ".normalizers[" + i + "]", out, depth + 1);
            }
            case "Prepend" -> {
                String prefix = text(file, n, "prepend", field + ".prepend");
                out.add(s -> s.isEmpty() ? s : prefix + s);
            }
            case "Replace" -> {
                String pattern = stringPattern(file, n, field);
                String content = text(file, n, "content", field + ".content");
                if (pattern.isEmpty()) throw new FormatException(file, field + ".pattern", "is empty");
                out.add(s -> s.replace(pattern, content));
            }
            case "NFC" -> out.add(s -> Normalizer.normalize(s, Normalizer.Form.NFC));
            case "NFD" -> out.add(s -> Normalizer.normalize(s, Normalizer.Form.NFD));
            case "NFKC" -> out.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKC));
            case "NFKD" -> out.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKD));
            case "Lowercase" -> out.add(s -> s.toLowerCase(java.util.Locale.ROOT));
            default -> throw new FormatException(file, field + ".type", "normalizer '" + type + "' is not supported");
        }
    }

    private static HuggingFaceTokenizer.Metaspace preTokenizer(Path file, JsonNode n, String field) {
        if (n.isMissingNode() || n.isNull()) return null;
        String type = typeOf(file, n, field);
        if (type.equals("Sequence")) {
            JsonNode list = n.path("pretokenizers");
            if (!list.isArray() || list.size() != 1)
                throw new FormatException(file, field + ".pretokenizers", "only a sequence of one Metaspace is supported");
            return preTokenizer(file, list.get(0), field + ".pretokenizers[0]");
        }
        if (!type.equals("Metaspace"))
            throw new FormatException(file, field + ".type", "pre-tokenizer '" + type + "' is not supported, only Metaspace");
        return new HuggingFaceTokenizer.Metaspace(replacement(file, n, field), prepends(file, n, field),
                n.path("split").asBoolean(true));
    }

    private static PieceDecoder decoder(Path file, JsonNode n, String[] pieces, boolean[] special, int[] byteIds, int unkId) {
        int size = pieces.length;
        String[] surface = pieces.clone();
        int[] byteValue = new int[size];
        Arrays.fill(byteValue, -1);
        List<JsonNode> steps = new ArrayList<>();
        if (!n.isMissingNode() && !n.isNull()) {
            if (typeOf(file, n, "decoder").equals("Sequence")) {
                JsonNode list = n.path("decoders");
                if (!list.isArray()) throw new FormatException(file, "decoder.decoders", "is not an array");
                list.forEach(steps::add);
            } else {
                steps.add(n);
            }
        }
        PieceDecoder.LeadingSpace leading = PieceDecoder.LeadingSpace.KEEP;
        int stripCount = 0;
        char metaspace = 0;
        for (int i = 0; i < steps.size(); i++) {
            JsonNode d = steps.get(i);
            String field = steps.size() == 1 && n == d ? "decoder" : "decoder.decoders[" + i + "]";
            String type = typeOf(file, d, field);
            switch (type) {
                case "Replace" -> {
                    String pattern = stringPattern(file, d, field);
                    String content = text(file, d, "content", field + ".content");
                    for (int id = 0; id < size; id++) if (byteValue[id] < 0) surface[id] = surface[id].replace(pattern, content);
                }
                case "ByteFallback" -> {
                    for (int b = 0; b < 256; b++) if (byteIds[b] >= 0) byteValue[byteIds[b]] = b;
                }
                case "Fuse" -> {
                    // Concatenation is what decoding does anyway.
                }
                case "Strip" -> {
                    String content = text(file, d, "content", field + ".content");
                    if (!content.equals(" ")) throw new FormatException(file, field + ".content", "only ' ' is supported");
                    if (d.path("stop").asInt(0) != 0) throw new FormatException(file, field + ".stop", "stripping the end is not supported");
                    leading = PieceDecoder.LeadingSpace.TEXT_CHARS;
                    stripCount = d.path("start").asInt(0);
                    if (stripCount < 0) throw new FormatException(file, field + ".start", "is negative");
                }
                case "Metaspace" -> {
                    metaspace = replacement(file, d, field);
                    for (int id = 0; id < size; id++) if (byteValue[id] < 0) surface[id] = surface[id].replace(metaspace, ' ');
                    if (prepends(file, d, field)) leading = PieceDecoder.LeadingSpace.FIRST_TOKEN;
                }
                default -> throw new FormatException(file, field + ".type", "decoder '" + type + "' is not supported");
            }
        }
        String[] stripped = new String[size];
        for (int id = 0; id < size; id++) {
            if (special[id] || id == unkId) surface[id] = null;
            else if (leading == PieceDecoder.LeadingSpace.FIRST_TOKEN && metaspace != 0)
                stripped[id] = pieces[id].replace(String.valueOf(metaspace), "");
        }
        return new PieceDecoder(surface, stripped, byteValue, leading, stripCount);
    }

    private static char replacement(Path file, JsonNode n, String field) {
        String r = text(file, n, "replacement", field + ".replacement");
        if (r.length() != 1) throw new FormatException(file, field + ".replacement", "must be one character");
        return r.charAt(0);
    }

    /** Whether a Metaspace adds the prefix: {@code prepend_scheme} (always, first, never) or older {@code add_prefix_space}. */
    private static boolean prepends(Path file, JsonNode n, String field) {
        JsonNode scheme = n.path("prepend_scheme");
        if (scheme.isMissingNode() || scheme.isNull()) return n.path("add_prefix_space").asBoolean(true);
        return switch (scheme.asText()) {
            case "always", "first" -> true;
            case "never" -> false;
            default -> throw new FormatException(file, field + ".prepend_scheme", "unknown scheme '" + scheme.asText() + "'");
        };
    }

    private static String stringPattern(Path file, JsonNode n, String field) {
        JsonNode p = n.path("pattern");
        if (!p.path("String").isTextual())
            throw new FormatException(file, field + ".pattern", "only {\"String\": ...} patterns are supported");
        return p.path("String").asText();
    }

    private static String typeOf(Path file, JsonNode n, String field) {
        if (!n.isObject()) throw new FormatException(file, field, "is not an object");
        return text(file, n, "type", field + ".type");
    }

    private static JsonNode object(Path file, JsonNode parent, String name) {
        JsonNode n = parent.path(name);
        if (!n.isObject()) throw new FormatException(file, name, "is missing or not an object");
        return n;
    }

    private static String text(Path file, JsonNode n, String name, String field) {
        JsonNode v = n.path(name);
        if (!v.isTextual()) throw new FormatException(file, field, "is missing or not a string");
        return v.asText();
    }

    private static int id(Path file, String field, JsonNode v) {
        if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() >= MAX_VOCAB)
            throw new FormatException(file, field, "id " + v + " is not an integer in [0, " + MAX_VOCAB + ")");
        return v.asInt();
    }

    private static int indexOf(String[] pieces, String piece) {
        for (int i = 0; i < pieces.length; i++) if (pieces[i].equals(piece)) return i;
        return -1;
    }
}
