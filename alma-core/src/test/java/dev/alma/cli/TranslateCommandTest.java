package dev.alma.cli;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma translate} on standard input: one output line per input line, in batches or one at a time. */
class TranslateCommandTest {
    private static final String INPUT = "Ein Satz.\n\nNoch ein längerer Satz mit mehr Wörtern.\nDrei.\nVier Wörter sind hier.\n";

    private static Cli.Result translate(String stdin, String... extra) {
        String model = Fixtures.fixture("models/tiny-llama-mha-f32").toString();
        String[] base = {"translate", "--model", model, "--from", "de", "--to", "en", "--beams", "2", "--max-new-tokens", "6"};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return Cli.run(stdin, args);
    }

    @Test
    void batchesGiveTheLinesTheyGiveOneAtATime() {
        Cli.Result one = translate(INPUT);
        assertEquals(0, one.code(), one.err());
        String[] lines = one.out().split("\n", -1);
        assertEquals(6, lines.length, "five output lines and the final newline: " + one.out());
        assertEquals("", lines[1], "a blank input line gives a blank output line");
        for (String batch : new String[]{"2", "3", "8"}) {
            Cli.Result r = translate(INPUT, "--batch", batch);
            assertEquals(0, r.code(), r.err());
            assertEquals(one.out(), r.out(), "--batch " + batch);
        }
    }

    @Test
    void nBestLinesKeepTheirInputIndexInBatches() {
        Cli.Result one = translate(INPUT, "--nbest", "2");
        assertEquals(0, one.code(), one.err());
        String[] lines = one.out().split("\n");
        assertEquals(8, lines.length, one.out());
        assertTrue(lines[0].startsWith("0 ||| ") && lines[2].startsWith("2 ||| ") && lines[7].startsWith("4 ||| "), one.out());
        Cli.Result batched = translate(INPUT, "--nbest", "2", "--batch", "3");
        assertEquals(0, batched.code(), batched.err());
        String[] got = batched.out().split("\n");
        assertEquals(lines.length, got.length, batched.out());
        for (int i = 0; i < lines.length; i++) {
            // index and text as alone; the score to rounding (a batch's products sum in another order)
            String[] want = lines[i].split(" \\|\\|\\| "), have = got[i].split(" \\|\\|\\| ");
            assertEquals(want[0] + want[1], have[0] + have[1], "line " + i);
            assertEquals(Double.parseDouble(want[2]), Double.parseDouble(have[2]), 1e-5, "score of line " + i);
        }
    }

    @Test
    void aBatchBelowOneIsRefused() {
        Cli.Result r = translate(INPUT, "--batch", "0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--batch must be at least 1"), r.err());
    }

    @Test
    void aLineIsAnsweredBeforeTheNextIsWrittenWhateverTheBatch() {
        String[] lines = INPUT.split("\n");
        String[] want = translate(INPUT, "--batch", "1").out().split("\n", -1);
        // a program that writes a line and waits for its translation before writing the next
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            PipedOutputStream toCli = new PipedOutputStream();
            PipedInputStream cliIn = new PipedInputStream(toCli);
            PipedInputStream fromCli = new PipedInputStream(1 << 16);
            PipedOutputStream cliOut = new PipedOutputStream(fromCli);
            String model = Fixtures.fixture("models/tiny-llama-mha-f32").toString();
            var code = Cli.start(cliIn, cliOut, "translate", "--model", model, "--from", "de", "--to", "en", "--beams",
                    "2", "--max-new-tokens", "6", "--batch", "8");
            Writer w = new OutputStreamWriter(toCli, StandardCharsets.UTF_8);
            BufferedReader r = new BufferedReader(new InputStreamReader(fromCli, StandardCharsets.UTF_8));
            for (int i = 0; i < lines.length; i++) {
                w.write(lines[i] + "\n");
                w.flush();
                assertEquals(want[i], r.readLine(), "line " + i);
            }
            w.close();
            assertEquals(0, code.get());
        });
    }
}
