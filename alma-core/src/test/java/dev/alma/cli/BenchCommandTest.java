package dev.alma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.alma.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma random-model} writes a model that {@code alma bench} then measures; bad options are one-line errors. */
class BenchCommandTest {

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        var cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = cl.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void randomModelThenBenchPrintsPositiveRatesAsJson(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.gguf");
        Result w = run("random-model", "--out", model.toString(), "--type", "q8_0", "--hidden", "64", "--ffn", "128",
                "--layers", "2", "--heads", "4", "--kv-heads", "2", "--vocab", "300", "--context", "128");
        assertEquals(0, w.code(), w.err());
        assertTrue(Files.size(model) > 0);
        Result b = run("bench", "--model", model.toString(), "--prompt-tokens", "8", "--new-tokens", "4", "--runs", "3",
                "--beams", "3", "--threads", "2", "--json");
        assertEquals(0, b.code(), b.err());
        JsonNode j = Json.MAPPER.readTree(b.out());
        for (String k : new String[]{"prefill_tok_s", "decode_tok_s", "beam_steps_s"})
            assertTrue(j.path(k).asDouble() > 0, k + " in " + b.out());
    }

    @Test
    void aRandomSpecIsBenchedWithoutAFile() throws Exception {
        Result b = run("bench", "--model", "random:64,128,2,4,2:q8_0", "--prompt-tokens", "8", "--new-tokens", "4",
                "--runs", "1", "--warmup", "0", "--beams", "2", "--threads", "2", "--json");
        assertEquals(0, b.code(), b.err());
        JsonNode j = Json.MAPPER.readTree(b.out());
        for (String k : new String[]{"prefill_tok_s", "decode_tok_s", "beam_steps_s"})
            assertTrue(j.path(k).asDouble() > 0, k + " in " + b.out());
        Result bad = run("bench", "--model", "random:64,x,2,4");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("FFN 'x' is not a number"), bad.err());
    }

    @Test
    void aBatchOfSequencesIsBenchedTogether() {
        // 9 + 10 positions: each sequence's second KV page is partly filled
        Result b = run("bench", "--model", "random:64,128,2,4,2:q8_0", "--prompt-tokens", "9", "--new-tokens", "10",
                "--runs", "1", "--warmup", "0", "--beams", "2", "--batch", "3", "--threads", "2");
        assertEquals(0, b.code(), b.err());
        for (String line : new String[]{"prefill 9 tokens × 3 sequences: ", "decode 10 tokens × 3 sequences:  ",
                "beam search, 2 beams × 3 sequences: "})
            assertTrue(b.out().contains(line), line + " in " + b.out());
        Result bad = run("bench", "--model", "random:64,128,2,4,2:q8_0", "--batch", "0");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("--batch must be at least 1"), bad.err());
    }

    @Test
    void aSetOfRequestsIsBenchedWithAndWithoutContinuousBatching(@TempDir Path dir) throws Exception {
        Path requests = dir.resolve("requests.txt");
        Files.writeString(requests, "5 3\n7\n\n9 2\n4 6\n");
        for (String mode : new String[]{"--batch", "--wait-for-longest"}) {
            Result b = run("bench", "--model", "random:64,128,2,4,2:q8_0", "--requests", requests.toString(), "--batch",
                    "2", mode.equals("--batch") ? "--json" : mode, "--runs", "1", "--warmup", "1", "--prompt-tokens", "6");
            assertEquals(0, b.code(), b.err());
            if (mode.equals("--batch")) {
                JsonNode j = Json.MAPPER.readTree(b.out());
                assertEquals(4, j.path("requests").asInt(), b.out());
                assertEquals(3 + 7 + 2 + 6, j.path("generated_tokens").asInt(), b.out());
                assertTrue(j.path("generated_tok_s").asDouble() > 0, b.out());
            } else {
                assertTrue(b.out().contains("4 requests (18 generated tokens), 2 at once, batches waiting for their longest"), b.out());
            }
        }
        Files.writeString(requests, "5 3\n7 x\n");
        Result bad = run("bench", "--model", "random:64,128,2,4,2:q8_0", "--requests", requests.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("requests.txt") && bad.err().contains("line 2") && bad.err().contains("7 x"), bad.err());
    }

    @Test
    void safetensorsOutputIsADirectoryWithConfig(@TempDir Path dir) {
        Path out = dir.resolve("hf");
        Result w = run("random-model", "--out", out.toString(), "--format", "safetensors", "--type", "f16",
                "--hidden", "32", "--ffn", "64", "--layers", "1", "--heads", "2", "--vocab", "50");
        assertEquals(0, w.code(), w.err());
        assertTrue(Files.exists(out.resolve("config.json")) && Files.exists(out.resolve("model.safetensors")));
    }

    @Test
    void badOptionsAreOneLineErrors(@TempDir Path dir) {
        Result t = run("random-model", "--out", dir.resolve("x.gguf").toString(), "--type", "q9");
        assertEquals(1, t.code());
        assertTrue(t.err().startsWith("alma: --type 'q9'"), t.err());
        Result s = run("random-model", "--out", dir.resolve("y").toString(), "--format", "safetensors", "--type", "q8_0",
                "--hidden", "32", "--ffn", "64", "--layers", "1", "--heads", "2", "--vocab", "50");
        assertEquals(1, s.code());
        assertTrue(s.err().contains("safetensors checkpoints hold F32, F16 or BF16"), s.err());
        Result b = run("bench", "--model", dir.resolve("none.gguf").toString(), "--beams", "1");
        assertEquals(1, b.code());
        assertTrue(b.err().contains("--beams"), b.err());
    }
}
