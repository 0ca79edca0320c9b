package dev.alma.eval;

import dev.alma.PyStrings;
/**
 * sacreBLEU's {@code zh} tokenizer: every "Chinese" code point becomes its own token, the rest goes through the
 * 13a punctuation rules (without 13a's entity unescaping or padding).
 *
 * <p>sacreBLEU tests a character against ranges written as string literals. Two of them are written with five hex
 * digits, {@code u'\u20000'..u'\u2a6d6'} and {@code u'\u2f800'..u'\u2fa1d'}, which Python reads as a four-digit
 * escape plus a trailing character; comparing a one-character string with such two-character strings makes the
 * effective ranges U+2001..U+2A6D and U+2F81..U+2FA1 (so the general punctuation block, arrows, math operators,
 * ... count as Chinese, while the supplementary-plane ideographs the comment names do not). This class reproduces
 * that behaviour on code points.
 */
final class ChineseTokenizer {
    /** Inclusive code-point ranges, the effective ones of sacreBLEU 2.x's {@code _UCODE_RANGES}. */
    private static final int[][] RANGES = {
            {0x3400, 0x4DB5}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FBB}, {0xF900, 0xFA2D}, {0xFA30, 0xFA6A},
            {0xFA70, 0xFAD9},
            {0x2001, 0x2A6D}, // written u'\u20000' .. u'\u2a6d6'
            {0x2F81, 0x2FA1}, // written u'\u2f800' .. u'\u2fa1d'
            {0xFF00, 0xFFEF}, {0x2E80, 0x2EFF}, {0x3000, 0x303F}, {0x31C0, 0x31EF}, {0x2F00, 0x2FDF},
            {0x2FF0, 0x2FFF}, {0x3100, 0x312F}, {0x31A0, 0x31BF}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},
            {0x2600, 0x26FF}, {0x2700, 0x27BF}, {0x3200, 0x32FF}, {0x3300, 0x33FF},
    };

    private ChineseTokenizer() {
    }

    /** Whether sacreBLEU's {@code zh} tokenizer splits this code point off as a token of its own. */
    static boolean isChinese(int cp) {
        for (int[] r : RANGES) {
            if (cp >= r[0] && cp <= r[1]) return true;
        }
        return false;
    }

    static String tokenize(String line) {
        line = PyStrings.strip(line);
        StringBuilder b = new StringBuilder(line.length() * 2);
        for (int i = 0; i < line.length(); ) {
            int cp = line.codePointAt(i);
            if (isChinese(cp)) b.append(' ').appendCodePoint(cp).append(' ');
            else b.appendCodePoint(cp);
            i += Character.charCount(cp);
        }
        return Mteval13a.splitPunctuation(b.toString());
    }
}
