package dev.alma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.Json;
import dev.alma.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code alma tokenize}: text on standard input to token ids on standard output (UTF-8 both ways, no BOS). */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize lines of standard input: one line of ids per input line, without BOS.")
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true,
            description = "tokenizer.model, tokenizer.json, or a model directory holding one")
    Path tokenizer;

    @Option(names = "--jsonl", description = "read {\"text\": ...} lines and print {\"ids\": [...]} lines "
            + "(default: plain text lines, space-separated ids)")
    boolean jsonl;

    @Override
    public Integer call() {
        Tokenizer tok = Tokenizer.load(tokenizer);
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
             BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16)) {
            String line;
            int lineNo = 0;
            StringBuilder sb = new StringBuilder();
            while ((line = in.readLine()) != null) {
                lineNo++;
                String text = line;
                if (jsonl) {
                    if (line.isBlank()) continue;
                    text = textOf(line, lineNo);
                }
                int[] ids = tok.encode(text);
                sb.setLength(0);
                if (jsonl) sb.append("{\"ids\": [");
                for (int i = 0; i < ids.length; i++) {
                    if (i > 0) sb.append(jsonl ? ", " : " ");
                    sb.append(ids[i]);
                }
                if (jsonl) sb.append("]}");
                out.append(sb).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return 0;
    }

    private static String textOf(String line, int lineNo) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("stdin line " + lineNo + ": invalid JSON: " + e.getMessage());
        }
        JsonNode text = node == null ? null : node.get("text");
        if (text == null || !text.isTextual())
            throw new IllegalArgumentException("stdin line " + lineNo + ": expected {\"text\": \"...\"}");
        return text.asText();
    }
}
