package dev.alma.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The tokenizer.json pipeline on tiny vocabularies: merges by rank, Metaspace split, byte fallback, unknowns. */
class HuggingFacePipelineTest {
    @TempDir
    Path dir;

    private Tokenizer load(String json) throws IOException {
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, json, StandardCharsets.UTF_8);
        return Tokenizer.load(dir);
    }

    @Test
    void mergesApplyByRankNotByPosition() throws IOException {
        // "▁ab": rank 0 is "a b", so ab forms first and then "▁ ab"; with ▁a ranked first, ▁a wins and ab never forms.
        assertArrayEquals(new int[]{8}, load(TinyTokenizerJson.LEGACY).encode("ab"));
        assertArrayEquals(new int[]{6, 5}, load(TinyTokenizerJson.METASPACE_SPLIT).encode("ab"));
    }

    @Test
    void metaspaceSplitsBeforeEveryReplacement() throws IOException {
        Tokenizer tok = load(TinyTokenizerJson.METASPACE_SPLIT);
        // "a a" → words "▁a", "▁a".
        assertArrayEquals(new int[]{6, 6}, tok.encode("a a"));
        // A leading space is the prefix already: no second one is added.
        assertArrayEquals(new int[]{6}, tok.encode(" a"));
        assertEquals("a a", tok.decode(tok.encode("a a")));
    }

    @Test
    void byteFallbackOrFusedUnknown() throws IOException {
        // Legacy vocab has <0x41> ("A") only: A falls back to it, λμ (no byte pieces) fuse into one <unk>.
        Tokenizer legacy = load(TinyTokenizerJson.LEGACY);
        assertArrayEquals(new int[]{6, 9, 0, 4}, legacy.encode("aAλμa"));
        assertEquals("aAa", legacy.decode(legacy.encode("aAλμa")));
        // Without byte fallback A is unknown too and fuses with λμ.
        Tokenizer noBytes = load(TinyTokenizerJson.METASPACE_SPLIT);
        assertArrayEquals(new int[]{6, 0, 4}, noBytes.encode("aAλμa"));
    }
}
