package dev.alma.tokenizer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** SentencePiece BPE rules on small hand-made vocabularies, where the expected ids follow from the rules alone. */
class BpeAlgorithmTest {
    private static final int N = SentencePieceTokenizer.NORMAL, U = SentencePieceTokenizer.UNKNOWN,
            C = SentencePieceTokenizer.CONTROL, D = SentencePieceTokenizer.USER_DEFINED,
            X = SentencePieceTokenizer.UNUSED;

    private static SentencePieceTokenizer vocab(String[] pieces, float[] scores, int[] types) {
        return SentencePieceTokenizer.fromVocabulary(pieces, scores, types, 1, 2, 0, true);
    }

    @Test
    void highestScoreMergesFirstAndLeftmostWinsTies() {
        //                      0        1     2      3    4    5    6     7     8
        String[] p = {"<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "ba", "▁a"};
        int[] t = {U, C, C, N, N, N, N, N, N};
        // "ab" and "ba" tie: in "▁aba" the leftmost candidate pair wins (▁a scores lower than both).
        SentencePieceTokenizer tie = vocab(p, new float[]{0, 0, 0, -1, -1, -1, -2, -2, -3}, t);
        assertArrayEquals(new int[]{3, 6, 4}, tie.encode("aba"));
        // "ba" scores higher: it is merged first even though "ab" is further left.
        SentencePieceTokenizer ba = vocab(p, new float[]{0, 0, 0, -1, -1, -1, -3, -2, -4}, t);
        assertArrayEquals(new int[]{8, 7}, ba.encode("aba"));
    }

    @Test
    void unknownCharactersWithoutByteFallbackFuseIntoOneUnknown() {
        String[] p = {"<unk>", "<s>", "</s>", "▁", "a"};
        SentencePieceTokenizer tok = vocab(p, new float[5], new int[]{U, C, C, N, N});
        assertArrayEquals(new int[]{3, 4, 0, 4}, tok.encode("aλμa"));
        assertEquals("aa", tok.decode(tok.encode("aλμa")));
    }

    @Test
    void unknownCharactersWithByteFallbackBecomeUtf8BytePieces() {
        String[] p = new String[5 + 256];
        int[] t = new int[p.length];
        p[0] = "<unk>"; p[1] = "<s>"; p[2] = "</s>"; p[3] = "▁"; p[4] = "a";
        t[0] = U; t[1] = C; t[2] = C; t[3] = N; t[4] = N;
        for (int b = 0; b < 256; b++) {
            p[5 + b] = String.format("<0x%02X>", b);
            t[5 + b] = SentencePieceTokenizer.BYTE;
        }
        SentencePieceTokenizer tok = vocab(p, new float[p.length], t);
        // λ is CE BB in UTF-8.
        assertArrayEquals(new int[]{3, 4, 5 + 0xCE, 5 + 0xBB}, tok.encode("aλ"));
        assertEquals("aλ", tok.decode(tok.encode("aλ")));
    }

    @Test
    void userDefinedPiecesAreKeptWholeAndNeverMerged() {
        String[] p = {"<unk>", "<s>", "</s>", "▁", "a", "b", "<x>", "▁a", "ab"};
        int[] t = {U, C, C, N, N, N, D, N, N};
        SentencePieceTokenizer tok = vocab(p, new float[]{0, 0, 0, -1, -1, -1, 0, -2, -3}, t);
        assertArrayEquals(new int[]{7, 6, 5}, tok.encode("a<x>b"));
    }

    @Test
    void unusedPiecesAreSplitBackIntoTheirParts() {
        String[] p = {"<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "▁ab"};
        int[] t = {U, C, C, N, N, N, N, X};
        SentencePieceTokenizer tok = vocab(p, new float[]{0, 0, 0, -1, -1, -1, -2, -3}, t);
        assertArrayEquals(new int[]{6, 5}, tok.encode("ab"));
    }

    @Test
    void inconsistentVocabulariesAreRejected() {
        String[] p = {"<unk>", "a"};
        assertThrows(IllegalArgumentException.class, () -> vocab(p, new float[1], new int[]{U, N}));
        assertThrows(IllegalArgumentException.class, () -> vocab(new String[]{"<unk>", "a", "a"}, new float[3], new int[]{U, N, N}));
        assertThrows(IllegalArgumentException.class, () -> vocab(new String[]{"a", "b", "c"}, new float[3], new int[]{N, N, N}));
        assertThrows(IllegalArgumentException.class, () -> vocab(new String[]{"<unk>", ""}, new float[2], new int[]{U, N}));
        assertThrows(IllegalArgumentException.class, () -> vocab(new String[]{"<unk>", "a"}, new float[2], new int[]{U, 9}));
        assertThrows(IllegalArgumentException.class, () -> vocab(new String[]{"<unk>", "<0xZZ>"}, new float[2],
                new int[]{U, SentencePieceTokenizer.BYTE}));
        assertThrows(IllegalArgumentException.class, () -> vocab(new String[]{"<unk>", "<0xab>"}, new float[2],
                new int[]{U, SentencePieceTokenizer.BYTE}));
        assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.fromVocabulary(
                new String[]{"<unk>", "a"}, new float[2], new int[]{U, N}, 5, -1, 0, true));
        assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.fromVocabulary(
                new String[]{"<unk>", "a"}, new float[2], new int[]{U, N}, -1, -1, 1, true));
    }
}
