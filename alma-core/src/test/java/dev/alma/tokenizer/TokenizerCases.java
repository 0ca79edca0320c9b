package dev.alma.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.Fixtures;
import dev.alma.io.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The shared tokenizer fixtures: files and the {@code {"text", "ids"}} cases computed by the reference libraries. */
final class TokenizerCases {
    record Case(String text, int[] ids) {
    }

    static final String SENTENCEPIECE = "llama2-sentencepiece-cases.jsonl";
    static final String JSON = "llama2-tokenizer-cases.jsonl";
    static final String JSON_LEGACY = "llama2-tokenizer-legacy-cases.jsonl";

    private static final Map<String, List<Case>> CASES = new ConcurrentHashMap<>();
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private TokenizerCases() {
    }

    static Path file(String name) {
        return Fixtures.fixture("tokenizer/" + name);
    }

    /** The cases of a fixture file, read once. */
    static List<Case> cases(String name) {
        return CASES.computeIfAbsent(name, n -> {
            List<Case> out = new ArrayList<>();
            try {
                for (String line : Files.readAllLines(file(n), StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    JsonNode node = Json.MAPPER.readTree(line);
                    JsonNode ids = node.get("ids");
                    int[] a = new int[ids.size()];
                    for (int i = 0; i < a.length; i++) a[i] = ids.get(i).asInt();
                    out.add(new Case(node.get("text").asText(), a));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return List.copyOf(out);
        });
    }

    /** A tokenizer loaded from a fixture file, once. */
    static Tokenizer load(String name) {
        return TOKENIZERS.computeIfAbsent(name, n -> Tokenizer.load(file(n)));
    }

    static Tokenizer sentencePiece() {
        return load("llama2-tokenizer.model");
    }
}
