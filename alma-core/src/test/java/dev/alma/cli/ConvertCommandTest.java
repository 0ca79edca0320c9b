package dev.alma.cli;

import dev.alma.Fixtures;
import dev.alma.io.GgufFile;
import dev.alma.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code alma convert}: a GGUF file of the requested type, the F16 fallbacks named; the model commands' {@code --weights}; bad options are one-line errors. */
class ConvertCommandTest {
    @TempDir
    Path tmp;

    private static Cli.Result run(String... args) {
        return Cli.run("", args);
    }

    @Test
    void writesTheRequestedTypeAndNamesTheFallbacks() {
        Path out = tmp.resolve("m.gguf");
        Cli.Result r = run("convert", "--model", Fixtures.fixture("models/tiny-llama-mha-f32").toString(),
                "--lora", Fixtures.fixture("models/tiny-llama-mha-f32-lora").toString(), "--type", "Q8_0", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("21 tensors") && r.out().contains("1 LoRA adapter(s) merged"), r.out());
        assertTrue(r.out().contains("stored as F16") && r.out().contains("blk.1.attn_v.weight"), r.out());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(DType.Q8_0, f.tensor("blk.1.ffn_down.weight").type());
            assertEquals(7, f.getInt("general.file_type"));
        }
    }

    @Test
    void modelCommandsTakeAWeightsType() {
        String model = Fixtures.fixture("models/tiny-llama-gqa-bf16").toString();
        Cli.Result ok = run("logits", "--model", model, "--weights", "q8_0", "--ids", "1 15043", "--top", "2", "--json");
        assertEquals(0, ok.code(), ok.err());
        Cli.Result bad = run("logits", "--model", model, "--weights", "int3", "--ids", "1");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("alma: --weights 'int3' is not one of"), bad.err());
    }

    @Test
    void anUnknownTypeOrAMissingModelIsAOneLineError() {
        Path out = tmp.resolve("m.gguf");
        Cli.Result bad = run("convert", "--model", Fixtures.fixture("models/tiny-llama-mha-f32").toString(), "--type", "q3_k",
                "--out", out.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("alma: --type 'q3_k' is not one of"), bad.err());
        Cli.Result missing = run("convert", "--model", tmp.resolve("nowhere").toString(), "--out", out.toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nowhere"), missing.err());
        assertFalse(Files.exists(out));
    }
}
