package dev.alma.tokenizer;

import dev.alma.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every fixture case encodes to exactly the ids of the reference library (SentencePiece or HF tokenizers). */
class ReferenceEncodingTest {

    private static void assertAllCases(Tokenizer tok, String casesFile, int expectedCount) {
        List<TokenizerCases.Case> cases = TokenizerCases.cases(casesFile);
        assertEquals(expectedCount, cases.size(), casesFile + ": number of cases");
        List<String> wrong = new ArrayList<>();
        for (TokenizerCases.Case c : cases) {
            int[] got = tok.encode(c.text());
            if (!Arrays.equals(c.ids(), got))
                wrong.add(c.text() + "\n  expected " + Arrays.toString(c.ids()) + "\n  got      " + Arrays.toString(got));
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + cases.size() + " cases differ, first: " + (wrong.isEmpty() ? "" : wrong.getFirst()));
    }

    @Test
    void sentencePieceModelMatchesSentencePiece() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        assertInstanceOf(SentencePieceTokenizer.class, tok);
        assertAllCases(tok, TokenizerCases.SENTENCEPIECE, 2782);
    }

    @Test
    void tokenizerJsonMatchesTokenizersLibrary() {
        assertAllCases(TokenizerCases.load("llama2-tokenizer.json"), TokenizerCases.JSON, 2779);
    }

    @Test
    void legacyTokenizerJsonMatchesTokenizersLibrary() {
        assertAllCases(TokenizerCases.load("llama2-tokenizer-legacy.json"), TokenizerCases.JSON_LEGACY, 2779);
    }

    @Test
    void vocabularyArraysTokenizeLikeTheModelFile() {
        // The GGUF path: the same pieces, scores and types handed over as arrays.
        SentencePieceTokenizer model = (SentencePieceTokenizer) TokenizerCases.sentencePiece();
        int n = model.vocabSize();
        String[] pieces = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            pieces[i] = model.piece(i);
            scores[i] = model.score(i);
            types[i] = model.type(i);
        }
        Tokenizer fromArrays = SentencePieceTokenizer.fromVocabulary(pieces, scores, types, 1, 2, 0, true);
        assertAllCases(fromArrays, TokenizerCases.SENTENCEPIECE, 2782);

        // An unused piece that no merge can form turns off the word-by-word path (and its memo): the whole-text
        // BPE must give the same ids.
        String[] morePieces = Arrays.copyOf(pieces, n + 1);
        morePieces[n] = "QQQQQQQQQQQQ";
        int[] moreTypes = Arrays.copyOf(types, n + 1);
        moreTypes[n] = SentencePieceTokenizer.UNUSED;
        Tokenizer wholeText = SentencePieceTokenizer.fromVocabulary(morePieces, Arrays.copyOf(scores, n + 1), moreTypes,
                1, 2, 0, true);
        assertAllCases(wholeText, TokenizerCases.SENTENCEPIECE, 2782);
    }

    /** Texts outside the fixture's categories; ids from SentencePiece 0.2.2 on the same model, which decodes them back. */
    @Test
    void moreTextsMatchSentencePiece() {
        record Case(String text, int[] ids, String decoded) {
        }
        List<Case> cases = List.of(
                new Case("a\r\nb", new int[]{263, 30004, 13, 29890}, "a\r\nb"),
                new Case("\u00a0x\u00a0", new int[]{20246, 29916, 30081}, "\u00a0x\u00a0"),
                new Case("\ufeffBOM", new int[]{29871, 30143, 29933, 6488}, "\ufeffBOM"),
                new Case("e\u0301", new int[]{321, 30103}, "e\u0301"),
                new Case("\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67",
                        new int[]{29871, 243, 162, 148, 171, 30722, 243, 162, 148, 172, 30722, 243, 162, 148, 170},
                        "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67"),
                new Case("x\u2581y", new int[]{921, 343}, "x y"),
                new Case("\u2581", new int[]{259}, " "),
                new Case("   lead and trail   ", new int[]{1678, 3275, 322, 26203, 1678}, "   lead and trail   "),
                new Case("tab\tand\u3000ideographic", new int[]{4434, 12, 392, 30358, 680, 12122}, "tab\tand\u3000ideographic"),
                new Case("\ud800\udf48 gothic", new int[]{29871, 243, 147, 144, 139, 330, 720, 293}, "\ud800\udf48 gothic"),
                new Case("a\u0000b\u007f", new int[]{263, 3, 29890, 130}, "a\u0000b\u007f"));
        Tokenizer tok = TokenizerCases.sentencePiece();
        for (Case c : cases) {
            assertArrayEquals(c.ids(), tok.encode(c.text()), c.text());
            assertEquals(c.decoded(), tok.decode(c.ids()), c.text());
        }
    }

    @Test
    void specialIdsAndPieces() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        assertEquals(32000, tok.vocabSize());
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(0, tok.unkId());
        assertEquals("<s>", tok.piece(1));
        assertEquals("<0x0A>", tok.piece(13));
        assertEquals("\u2581", tok.piece(29871));
        Tokenizer json = TokenizerCases.load("llama2-tokenizer.json");
        assertEquals(32000, json.vocabSize());
        assertEquals(1, json.bosId());
        assertEquals(2, json.eosId());
        assertEquals(0, json.unkId());
        for (int id = 0; id < tok.vocabSize(); id += 97) assertEquals(tok.piece(id), json.piece(id));
    }

    @Test
    void specialTokenSpellingIsPlainText() {
        Tokenizer tok = TokenizerCases.sentencePiece();
        assertArrayEquals(new int[]{529, 29879, 29958}, tok.encode("<s>"));
        for (Tokenizer t : List.of(tok, TokenizerCases.load("llama2-tokenizer.json"))) {
            for (int id : t.encode("a <s> b </s> <unk>")) assertTrue(id > 2, "special id " + id + " from plain text");
        }
    }

    @Test
    void emptyTextHasNoIds() {
        assertEquals(0, TokenizerCases.sentencePiece().encode("").length);
        assertEquals(0, TokenizerCases.load("llama2-tokenizer.json").encode("").length);
        assertEquals(0, TokenizerCases.load("llama2-tokenizer-legacy.json").encode("").length);
    }

    @Test
    void modelDirectoryPrefersTokenizerModel() {
        Tokenizer dir = Tokenizer.load(Fixtures.fixture("models/tiny-llama-mha-f32"));
        assertInstanceOf(SentencePieceTokenizer.class, dir);
        assertArrayEquals(new int[]{15043, 13, 11526}, dir.encode("Hello\nworld"));
    }
}
