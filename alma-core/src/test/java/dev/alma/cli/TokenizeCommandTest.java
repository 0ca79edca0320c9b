package dev.alma.cli;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma tokenize}: UTF-8 lines in, ids out, in both input formats; bad input is a one-line error. */
class TokenizeCommandTest {
    private record Result(int code, String out, String err) {
    }

    private static Result run(String stdin, String... args) {
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
        }
    }

    @Test
    void jsonLinesGiveIdsWithoutBos() {
        String model = Fixtures.fixture("tokenizer/llama2-tokenizer.model").toString();
        Result r = run("{\"text\": \"Hello\\nworld\"}\n{\"text\": \"\"}\n{\"text\": \"ǅ\"}\n",
                "tokenize", "--tokenizer", model, "--jsonl");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"ids\": [15043, 13, 11526]}\n{\"ids\": []}\n{\"ids\": [29871, 202, 136]}\n", r.out());
    }

    @Test
    void plainLinesGiveSpaceSeparatedIds() {
        String json = Fixtures.fixture("tokenizer/llama2-tokenizer.json").toString();
        Result r = run("Hello\nǅ\n", "tokenize", "--tokenizer", json);
        assertEquals(0, r.code(), r.err());
        assertEquals("15043\n29871 202 136\n", r.out());
    }

    @Test
    void badInputIsReportedOnOneLine() {
        String model = Fixtures.fixture("tokenizer/llama2-tokenizer.model").toString();
        Result r = run("{\"txt\": 1}\n", "tokenize", "--tokenizer", model, "--jsonl");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("alma: stdin line 1"), r.err());
        Result missing = run("", "tokenize", "--tokenizer", "/nonexistent/tokenizer.model");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("/nonexistent/tokenizer.model"), missing.err());
    }
}
