package dev.alma.eval;

import dev.alma.PyStrings;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BLEU tokenizers against sacreBLEU 2.6.0's own output (computed by running its tokenizer classes on these
 * strings): {input, 13a, zh, intl, char}.
 */
class BleuTokenizerTest {
    private static final String[][] CASES = {
            {"Hello, world! It's 3.5 km-long (approx.) & \"quoted\".", "Hello , world ! It's 3.5 km-long ( approx . ) & \" quoted \" .", "Hello , world ! It's 3.5 km-long ( approx . ) & \" quoted \" .", "Hello , world ! It ' s 3.5 km - long ( approx . ) & \" quoted \" .", "H e l l o ,   w o r l d !   I t ' s   3 . 5   k m - l o n g   ( a p p r o x . )   &   \" q u o t e d \" ."},
            {"&quot;A&amp;B&quot; &lt;tag&gt; <skipped> done", "\" A & B \" < tag > done", "& quot ; A & amp ; B & quot ; & lt ; tag & gt ; < skipped > done", "& quot ; A & amp ; B & quot ; & lt ; tag & gt ; < skipped > done", "& q u o t ; A & a m p ; B & q u o t ;   & l t ; t a g & g t ;   < s k i p p e d >   d o n e"},
            {"1,000.50 a.b,c 2-3 x-y 5- -6 ..., .5 5.", "1,000.50 a . b , c 2 - 3 x-y 5 - -6 . . . , . 5 5 .", "1,000.50 a . b , c 2 - 3 x-y 5 - -6 . . . , . 5 5.", "1,000.50 a . b , c 2-3 x - y 5 - - 6 . . . , . 5 5.", "1 , 0 0 0 . 5 0   a . b , c   2 - 3   x - y   5 -   - 6   . . . ,   . 5   5 ."},
            {"end-\nline\nbreak", "endline break", "end- line break", "end - line break", "e n d - \n l i n e \n b r e a k"},
            {"tabs\tand\u00a0nbsp\u2009thin\u3000ideo\u2028ls\u001cfs\u0085nel end", "tabs and nbsp thin ideo ls fs nel end", "tabs and nbsp thin ideo ls fs nel end", "tabs and nbsp thin ideo ls fs nel end", "t a b s \t a n d \u00a0 n b s p \u2009 t h i n \u3000 i d e o \u2028 l s \u001c f s \u0085 n e l   e n d"},
            {"\u4e2d\u6587\u5206\u8bcd\uff0c\u6d4b\u8bd5\u3002Hello\u4e16\u754c!", "\u4e2d\u6587\u5206\u8bcd\uff0c\u6d4b\u8bd5\u3002Hello\u4e16\u754c !", "\u4e2d \u6587 \u5206 \u8bcd \uff0c \u6d4b \u8bd5 \u3002 Hello \u4e16 \u754c !", "\u4e2d\u6587\u5206\u8bcd \uff0c \u6d4b\u8bd5 \u3002 Hello\u4e16\u754c !", "\u4e2d \u6587 \u5206 \u8bcd \uff0c \u6d4b \u8bd5 \u3002 H e l l o \u4e16 \u754c !"},
            {"\u201cQuotes\u201d \u2014 dash\u2026 \u2018single\u2019 \u20ac5 \u2192 \u2460", "\u201cQuotes\u201d \u2014 dash\u2026 \u2018single\u2019 \u20ac5 \u2192 \u2460", "\u201c Quotes \u201d \u2014 dash \u2026 \u2018 single \u2019 \u20ac 5 \u2192 \u2460", "\u201c Quotes \u201d \u2014 dash \u2026 \u2018 single \u2019 \u20ac 5 \u2192 \u2460", "\u201c Q u o t e s \u201d   \u2014   d a s h \u2026   \u2018 s i n g l e \u2019   \u20ac 5   \u2192   \u2460"},
            {"\u2000en-quad\u2001em-quad\u2a6d\u2a6e\u2f80\u2f81\u2fa1\u2fa2", "en-quad em-quad\u2a6d\u2a6e\u2f80\u2f81\u2fa1\u2fa2", "en-quad em-quad \u2a6d \u2a6e \u2f80 \u2f81 \u2fa1 \u2fa2", "en - quad em - quad \u2a6d \u2a6e \u2f80 \u2f81 \u2fa1 \u2fa2", "\u2000 e n - q u a d \u2001 e m - q u a d \u2a6d \u2a6e \u2f80 \u2f81 \u2fa1 \u2fa2"},
            {"astral \ud840\udc00\ud869\uded6 emoji \ud83d\ude00. \ud835\udfd81", "astral \ud840\udc00\ud869\uded6 emoji \ud83d\ude00 . \ud835\udfd81", "astral \ud840\udc00\ud869\uded6 emoji \ud83d\ude00 . \ud835\udfd81", "astral \ud840\udc00\ud869\uded6 emoji \ud83d\ude00 . \ud835\udfd81", "a s t r a l   \ud840\udc00 \ud869\uded6   e m o j i   \ud83d\ude00 .   \ud835\udfd8 1"},
            {"\uff26\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48\uff1a\uff11\uff12\uff13\uff0c\uff58", "\uff26\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48\uff1a\uff11\uff12\uff13\uff0c\uff58", "\uff26 \uff55 \uff4c \uff4c \uff57 \uff49 \uff44 \uff54 \uff48 \uff1a \uff11 \uff12 \uff13 \uff0c \uff58", "\uff26\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48 \uff1a \uff11\uff12\uff13 \uff0c \uff58", "\uff26 \uff55 \uff4c \uff4c   \uff57 \uff49 \uff44 \uff54 \uff48 \uff1a \uff11 \uff12 \uff13 \uff0c \uff58"},
            {"\u0130stanbul \u03a3\u0391\u03a3 d\u00e9j\u00e0-vu l'\u00e9t\u00e9", "\u0130stanbul \u03a3\u0391\u03a3 d\u00e9j\u00e0-vu l'\u00e9t\u00e9", "\u0130stanbul \u03a3\u0391\u03a3 d\u00e9j\u00e0-vu l'\u00e9t\u00e9", "\u0130stanbul \u03a3\u0391\u03a3 d\u00e9j\u00e0 - vu l ' \u00e9t\u00e9", "\u0130 s t a n b u l   \u03a3 \u0391 \u03a3   d \u00e9 j \u00e0 - v u   l ' \u00e9 t \u00e9"},
            {"a.b.c. 3.14, 2,5, U.S.A.", "a . b . c . 3.14 , 2,5 , U . S . A .", "a . b . c . 3.14 , 2,5 , U . S . A .", "a . b . c . 3.14 , 2,5 , U . S . A .", "a . b . c .   3 . 1 4 ,   2 , 5 ,   U . S . A ."},
            {"(hi) [x] {y} |z| ~w^ `v` @u #t $s %r", "( hi ) [ x ] { y } | z | ~ w ^ ` v ` @ u # t $ s % r", "( hi ) [ x ] { y } | z | ~ w ^ ` v ` @ u # t $ s % r", "( hi ) [ x ] { y } | z | ~ w ^ ` v ` @ u # t $ s % r", "( h i )   [ x ]   { y }   | z |   ~ w ^   ` v `   @ u   # t   $ s   % r"},
            {"   leading and trailing   ", "leading and trailing", "leading and trailing", "leading and trailing", "      l e a d i n g   a n d   t r a i l i n g      "},
            {"", "", "", "", ""},
            {"\u30a2 \u30ab\u30bf\u30ab\u30ca \u3072\u3089\u304c\u306a \ud55c\uad6d\uc5b4 \u3105\u3106", "\u30a2 \u30ab\u30bf\u30ab\u30ca \u3072\u3089\u304c\u306a \ud55c\uad6d\uc5b4 \u3105\u3106", "\u30a2 \u30ab\u30bf\u30ab\u30ca \u3072\u3089\u304c\u306a \ud55c\uad6d\uc5b4 \u3105 \u3106", "\u30a2 \u30ab\u30bf\u30ab\u30ca \u3072\u3089\u304c\u306a \ud55c\uad6d\uc5b4 \u3105\u3106", "\u30a2   \u30ab \u30bf \u30ab \u30ca   \u3072 \u3089 \u304c \u306a   \ud55c \uad6d \uc5b4   \u3105 \u3106"},
            {"x\u2014y\u2013z\u2019s", "x\u2014y\u2013z\u2019s", "x \u2014 y \u2013 z \u2019 s", "x \u2014 y \u2013 z \u2019 s", "x \u2014 y \u2013 z \u2019 s"},
            {"50% of $3.50 is 1.75$.", "50 % of $ 3.50 is 1.75 $ .", "50 % of $ 3.50 is 1.75 $ .", "50 % of $ 3.50 is 1.75 $ .", "5 0 %   o f   $ 3 . 5 0   i s   1 . 7 5 $ ."},
            {"e.g. i.e., etc.", "e . g . i . e . , etc .", "e . g . i . e . , etc .", "e . g . i . e . , etc .", "e . g .   i . e . ,   e t c ."},
            {"\u0663\u066b\u0665 \u0661\u066c\u0660\u0660\u0660 arabic digits 3.5", "\u0663\u066b\u0665 \u0661\u066c\u0660\u0660\u0660 arabic digits 3.5", "\u0663\u066b\u0665 \u0661\u066c\u0660\u0660\u0660 arabic digits 3.5", "\u0663\u066b\u0665 \u0661\u066c\u0660\u0660\u0660 arabic digits 3.5", "\u0663 \u066b \u0665   \u0661 \u066c \u0660 \u0660 \u0660   a r a b i c   d i g i t s   3 . 5"},
            {"a\u2010b", "a\u2010b", "a \u2010 b", "a \u2010 b", "a \u2010 b"},
            {"a\u2a6db", "a\u2a6db", "a \u2a6d b", "a \u2a6d b", "a \u2a6d b"},
            {"a\u2a6eb", "a\u2a6eb", "a\u2a6eb", "a \u2a6e b", "a \u2a6e b"},
            {"x\ud840\udc00y", "x\ud840\udc00y", "x\ud840\udc00y", "x\ud840\udc00y", "x \ud840\udc00 y"},
            {"a\u2ff0b", "a\u2ff0b", "a \u2ff0 b", "a \u2ff0 b", "a \u2ff0 b"},
            {"a\u303fb", "a\u303fb", "a \u303f b", "a \u303f b", "a \u303f b"},
            {"a\u3040b", "a\u3040b", "a\u3040b", "a\u3040b", "a \u3040 b"},
            {"a\u9fbbb", "a\u9fbbb", "a \u9fbb b", "a\u9fbbb", "a \u9fbb b"},
            {"a\u9fbcb", "a\u9fbcb", "a\u9fbcb", "a\u9fbcb", "a \u9fbc b"},
            {"a\u4db5b\u4db6c", "a\u4db5b\u4db6c", "a \u4db5 b\u4db6c", "a\u4db5b\u4db6c", "a \u4db5 b \u4db6 c"},
            {"\ud83d\ude00.x .\ud83d\ude00 a,\ud83d\ude00 5-\ud83d\ude00 \ud835\udfd8. 9.\ud83d\ude00", "\ud83d\ude00 . x . \ud83d\ude00 a , \ud83d\ude00 5 - \ud83d\ude00 \ud835\udfd8 . 9 . \ud83d\ude00", "\ud83d\ude00 . x . \ud83d\ude00 a , \ud83d\ude00 5 - \ud83d\ude00 \ud835\udfd8 . 9 . \ud83d\ude00", "\ud83d\ude00 . x . \ud83d\ude00 a , \ud83d\ude00 5 - \ud83d\ude00 \ud835\udfd8 . 9 . \ud83d\ude00", "\ud83d\ude00 . x   . \ud83d\ude00   a , \ud83d\ude00   5 - \ud83d\ude00   \ud835\udfd8 .   9 . \ud83d\ude00"},
            {"x\r\ny\rz", "x y z", "x y z", "x y z", "x \r \n y \r z"},
            {"a&amp;quot;b", "a & quot ; b", "a & amp ; quot ; b", "a & amp ; quot ; b", "a & a m p ; q u o t ; b"},
            {"3-4-5 --- 1..2 ,,", "3 - 4 - 5 --- 1 . . 2 , ,", "3 - 4 - 5 --- 1 . . 2 , ,", "3-4-5 - - - 1 . . 2 , ,", "3 - 4 - 5   - - -   1 . . 2   , ,"},
    };

    @Test
    void matchesSacrebleuOnTrickyStrings() {
        BleuTokenizer[] toks = {BleuTokenizer.MTEVAL_13A, BleuTokenizer.ZH, BleuTokenizer.INTL, BleuTokenizer.CHAR};
        for (String[] c : CASES) {
            for (int t = 0; t < toks.length; t++)
                assertEquals(c[t + 1], toks[t].tokenize(c[0]), toks[t].id() + " on " + c[0]);
            assertEquals(c[0], BleuTokenizer.NONE.tokenize(c[0]));
        }
    }

    /** sacreBLEU's zh ranges as Python compares them: two 5-hex-digit literals shift two ranges. */
    @Test
    void chineseRangesAreSacrebleusEffectiveOnes() {
        assertFalse(ChineseTokenizer.isChinese(0x2000));
        assertTrue(ChineseTokenizer.isChinese(0x2001));
        assertTrue(ChineseTokenizer.isChinese(0x2014)); // em dash counts as Chinese
        assertTrue(ChineseTokenizer.isChinese(0x2A6D));
        assertFalse(ChineseTokenizer.isChinese(0x2A6E));
        assertFalse(ChineseTokenizer.isChinese(0x20000)); // the Extension B the comment names does not
        assertFalse(ChineseTokenizer.isChinese(0x2A6D6));
        assertTrue(ChineseTokenizer.isChinese(0x4E00));
        assertTrue(ChineseTokenizer.isChinese(0x9FBB));
        assertFalse(ChineseTokenizer.isChinese(0x9FBC));
        assertTrue(ChineseTokenizer.isChinese(0x4DB5));
        assertFalse(ChineseTokenizer.isChinese(0x4DB6));
        assertFalse(ChineseTokenizer.isChinese('a'));
        assertFalse(ChineseTokenizer.isChinese(0x3040)); // hiragana is not split
    }

    /** The 13a scanner equals sacreBLEU's four regular-expression substitutions on random punctuation soup. */
    @Test
    void thirteenAScannerEqualsTheRegularExpressions() {
        Pattern[] patterns = {Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])"),
                Pattern.compile("([^0-9])([\\.,])"), Pattern.compile("([\\.,])([^0-9])"), Pattern.compile("([0-9])(-)")};
        String[] replacements = {" $1 ", "$1 $2 ", " $1 $2", "$1 $2 "};
        int[] alphabet = {'a', 'Z', '0', '7', '.', ',', '-', ' ', '\'', '&', '(', '/', '~', '`', '@', 0xE9, 0x4E2D,
                0x1F600, 0x1D7D8, 0x2014, '\t', 0xA0};
        Random rnd = new Random(42);
        for (int k = 0; k < 3000; k++) {
            StringBuilder b = new StringBuilder();
            int len = rnd.nextInt(14);
            for (int i = 0; i < len; i++) b.appendCodePoint(alphabet[rnd.nextInt(alphabet.length)]);
            String s = b.toString(), expected = s;
            for (int p = 0; p < patterns.length; p++) expected = patterns[p].matcher(expected).replaceAll(replacements[p]);
            assertEquals(PyStrings.normalizeSpaces(expected), Mteval13a.splitPunctuation(s), "on [" + s + "]");
        }
    }

    @Test
    void namesAreSacrebleus() {
        assertEquals(BleuTokenizer.MTEVAL_13A, BleuTokenizer.of("13a"));
        assertEquals(BleuTokenizer.ZH, BleuTokenizer.of("zh"));
        assertEquals("intl", BleuTokenizer.of("intl").id());
        assertThrows(IllegalArgumentException.class, () -> BleuTokenizer.of("moses"));
    }
}
