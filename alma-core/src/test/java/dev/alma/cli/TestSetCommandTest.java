package dev.alma.cli;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code alma translate-testset} on a two-direction test set in ALMA's layout, with the tiny fixture model. */
class TestSetCommandTest {
    private static final String MODEL = Fixtures.fixture("models/tiny-llama-mha-f32").toString();

    private static void write(Path file, String text) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    @Test
    void everyDirectionIsTranslatedAsLineByLineAndScored(@TempDir Path root) throws Exception {
        write(root.resolve("wmt-testset/deen/test.de-en.de"), "Ein Satz.\nZwei Sätze hier.\n\nDrei.\n");
        write(root.resolve("wmt-testset/deen/test.de-en.en"), "A sentence.\nTwo sentences here.\n\nThree.\n");
        write(root.resolve("wmt-testset/encs/test.en-cs.en"), "Hello.\nGood morning, world.\n");
        write(root.resolve("wmt-testset/encs/test.en-cs.cs"), "Ahoj.\nDobré ráno, světe.\n");
        String[] decoding = {"--beams", "2", "--max-new-tokens", "5"};
        Cli.Result r = Cli.run("", concat(new String[]{"translate-testset", "--model", MODEL, "--testset", root.toString(),
                "--system", "tiny", "--batch", "3"}, decoding));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("System tiny") && r.out().contains("de-en") && r.out().contains("en-cs"), r.out());
        for (String[] d : new String[][]{{"de", "en"}, {"en", "cs"}}) {
            Path source = root.resolve("wmt-testset/" + d[0] + d[1] + "/test." + d[0] + "-" + d[1] + "." + d[0]);
            Path output = root.resolve("tiny/" + d[0] + d[1] + "/test." + d[0] + "-" + d[1] + "." + d[1]);
            Cli.Result alone = Cli.run(Files.readString(source), concat(new String[]{"translate", "--model", MODEL,
                    "--from", d[0], "--to", d[1], "--batch", "1"}, decoding));
            assertEquals(0, alone.code(), alone.err());
            assertEquals(alone.out(), Files.readString(output), d[0] + "-" + d[1]);
        }
    }

    @Test
    void aMissingDirectionOrLayoutIsNamed(@TempDir Path root) throws Exception {
        Cli.Result r = Cli.run("", "translate-testset", "--model", MODEL, "--testset", root.toString(), "--system", "s");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("wmt-testset: no such directory"), r.err());
        write(root.resolve("wmt-testset/deen/test.de-en.de"), "Ein Satz.\n");
        r = Cli.run("", "translate-testset", "--model", MODEL, "--testset", root.toString(), "--system", "s",
                "--pairs", "de-en,cs-en");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no source file") && r.err().contains("cs-en"), r.err());
        r = Cli.run("", "translate-testset", "--model", MODEL, "--testset", root.toString(), "--system", "wmt-testset");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--system must be a folder name"), r.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
