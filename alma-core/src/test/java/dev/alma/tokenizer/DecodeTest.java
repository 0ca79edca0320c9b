package dev.alma.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding: round trips over the fixtures, SentencePiece's rules for bytes and leading spaces, streaming. */
class DecodeTest {
    private static final String SPACE_SYMBOL = "\u2581";

    /**
     * With LLaMA's identity normalizer the only character that does not survive SentencePiece is U+2581 itself
     * (the whitespace symbol, which decodes as a space); every other text comes back unchanged.
     */
    @Test
    void sentencePieceRoundTripsEveryFixtureText() {
        roundTrip(TokenizerCases.sentencePiece(), TokenizerCases.SENTENCEPIECE, false);
        roundTrip(TokenizerCases.load("llama2-tokenizer-legacy.json"), TokenizerCases.JSON_LEGACY, false);
    }

    /**
     * HF's Metaspace pre-tokenizer adds no prefix when the text already starts with a space, and the Strip decoder
     * then removes that space: such texts lose one leading space.
     */
    @Test
    void metaspaceTokenizerJsonRoundTripsExceptOneLeadingSpace() {
        roundTrip(TokenizerCases.load("llama2-tokenizer.json"), TokenizerCases.JSON, true);
    }

    private static void roundTrip(Tokenizer tok, String casesFile, boolean losesLeadingSpace) {
        int checked = 0;
        for (TokenizerCases.Case c : TokenizerCases.cases(casesFile)) {
            String expected = c.text().replace(SPACE_SYMBOL, " ");
            if (losesLeadingSpace && expected.startsWith(" ")) expected = expected.substring(1);
            assertEquals(expected, tok.decode(c.ids()), "decode of the reference ids of " + c.text());
            assertEquals(expected, tok.decode(tok.encode(c.text())), "round trip of " + c.text());
            checked++;
        }
        assertTrue(checked > 2700);
    }

    @Test
    void streamingEqualsWholeDecodeOnFixtures() {
        for (String name : List.of("llama2-tokenizer.model", "llama2-tokenizer.json")) {
            Tokenizer tok = TokenizerCases.load(name);
            StreamingDecoder stream = tok.streamingDecoder();
            for (TokenizerCases.Case c : TokenizerCases.cases(TokenizerCases.SENTENCEPIECE)) {
                assertEquals(tok.decode(c.ids()), streamed(stream, c.ids()), name + ": " + c.text());
            }
        }
    }

    @Test
    void streamingEqualsWholeDecodeOnRandomIdSequences() {
        // Random mixes of byte pieces (including invalid UTF-8), specials, spaces and words.
        Tokenizer tok = TokenizerCases.sentencePiece();
        int[] pool = {0, 1, 2, 29871, 259, 15043, 11526, 13, 3, 0xC3 + 3, 0xA9 + 3, 0xE4 + 3, 0xB8 + 3, 0xAD + 3,
                0xF0 + 3, 0x9F + 3, 0x99 + 3, 0x82 + 3, 0xED + 3, 0xA0 + 3, 0x80 + 3, 0xC0 + 3, 0xFF + 3, 0x20 + 3};
        Random rnd = new Random(7);
        StreamingDecoder stream = tok.streamingDecoder();
        for (int n = 0; n < 3000; n++) {
            int[] ids = new int[rnd.nextInt(12)];
            for (int i = 0; i < ids.length; i++) ids[i] = pool[rnd.nextInt(pool.length)];
            assertEquals(tok.decode(ids), streamed(stream, ids), java.util.Arrays.toString(ids));
        }
    }

    private static String streamed(StreamingDecoder stream, int[] ids) {
        StringBuilder sb = new StringBuilder();
        List<String> parts = new ArrayList<>();
        for (int id : ids) {
            String part = stream.accept(id);
            parts.add(part);
            sb.append(part);
        }
        sb.append(stream.finish());
        for (String part : parts) {
            assertTrue(part.isEmpty() || !Character.isHighSurrogate(part.charAt(part.length() - 1)), "half a character");
        }
        return sb.toString();
    }

    @Test
    void bytePiecesAreReassembledAndInvalidBytesBecomeReplacementCharacters() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        int b = 3; // id of <0x00>
        assertEquals("é", tok.decode(new int[]{b + 0xC3, b + 0xA9}));
        assertEquals("🙂", tok.decode(new int[]{b + 0xF0, b + 0x9F, b + 0x99, b + 0x82}));
        // A cut-off sequence: one U+FFFD per byte, as SentencePiece does.
        assertEquals("\uFFFD\uFFFD", tok.decode(new int[]{b + 0xE4, b + 0xB8}));
        assertEquals("\uFFFDa", tok.decode(new int[]{b + 0xC3, 29874}));
        // Overlong form and an encoded surrogate are invalid too.
        assertEquals("\uFFFD\uFFFD", tok.decode(new int[]{b + 0xC0, b + 0x80}));
        assertEquals("\uFFFD\uFFFD\uFFFD", tok.decode(new int[]{b + 0xED, b + 0xA0, b + 0x80}));
    }

    @Test
    void specialTokensAreDroppedAndTheDummyPrefixIsRemovedOnce() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        int hello = 15043; // ▁Hello
        int world = 3186; // ▁world
        assertEquals("▁world", tok.piece(world));
        assertEquals("Hello world", tok.decode(new int[]{1, hello, world, 2}));
        assertEquals("Hello world", tok.decode(new int[]{0, hello, world}));
        // "▁" then "▁Hello": only the first whitespace symbol is the dummy prefix.
        assertEquals(" Hello", tok.decode(new int[]{29871, hello}));
        assertEquals("", tok.decode(new int[]{1, 2}));
        assertEquals("", tok.decode(new int[0]));
    }

    @Test
    void streamingNeverEmitsHalfACharacter() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        StreamingDecoder s = tok.streamingDecoder();
        int b = 3;
        assertEquals("Hello", s.accept(15043));
        assertEquals("", s.accept(b + 0xF0));
        assertEquals("", s.accept(b + 0x9F));
        assertEquals("", s.accept(b + 0x99));
        assertEquals("🙂", s.accept(b + 0x82));
        assertEquals("", s.accept(b + 0xE4));
        assertEquals("\uFFFD world", s.accept(3186));
        assertEquals("", s.accept(b + 0xC3));
        assertEquals("\uFFFD", s.finish());
    }

    @Test
    void idsOutsideTheVocabularyAreRejected() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{32000}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{-1}));
        assertThrows(IllegalArgumentException.class, () -> tok.streamingDecoder().accept(99999));
        assertThrows(IllegalArgumentException.class, () -> tok.piece(32000));
    }
}
