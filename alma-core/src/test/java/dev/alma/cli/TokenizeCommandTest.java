package dev.alma.cli;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma tokenize}: UTF-8 lines in, ids out, in both input formats; bad input is a one-line error. */
class TokenizeCommandTest {
    private static Cli.Result run(String stdin, String... args) {
        return Cli.run(stdin, args);
    }

    @Test
    void jsonLinesGiveIdsWithoutBos() {
        String model = Fixtures.fixture("tokenizer/llama2-tokenizer.model").toString();
        Cli.Result r = run("{\"text\": \"Hello\\nworld\"}\n{\"text\": \"\"}\n{\"text\": \"ǅ\"}\n",
                "tokenize", "--tokenizer", model, "--jsonl");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"ids\": [15043, 13, 11526]}\n{\"ids\": []}\n{\"ids\": [29871, 202, 136]}\n", r.out());
    }

    @Test
    void plainLinesGiveSpaceSeparatedIds() {
        String json = Fixtures.fixture("tokenizer/llama2-tokenizer.json").toString();
        Cli.Result r = run("Hello\nǅ\n", "tokenize", "--tokenizer", json);
        assertEquals(0, r.code(), r.err());
        assertEquals("15043\n29871 202 136\n", r.out());
    }

    @Test
    void badInputIsReportedOnOneLine() {
        String model = Fixtures.fixture("tokenizer/llama2-tokenizer.model").toString();
        Cli.Result r = run("{\"txt\": 1}\n", "tokenize", "--tokenizer", model, "--jsonl");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("alma: stdin line 1"), r.err());
        Cli.Result missing = run("", "tokenize", "--tokenizer", "/nonexistent/tokenizer.model");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("/nonexistent/tokenizer.model"), missing.err());
    }
}
