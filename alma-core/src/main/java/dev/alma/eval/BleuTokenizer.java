package dev.alma.eval;

import java.util.Locale;
import java.util.function.UnaryOperator;

/** The tokenizers BLEU can apply before counting word n-grams, named as in sacreBLEU's {@code --tokenize}. */
public enum BleuTokenizer {
    /** mteval-v13a, sacreBLEU's default ({@code 13a}). */
    MTEVAL_13A("13a", Mteval13a::tokenize),
    /** Chinese: every CJK character (in sacreBLEU's effective ranges) is a token, the rest as 13a ({@code zh}). */
    ZH("zh", ChineseTokenizer::tokenize),
    /** mteval-v14 international: Unicode punctuation and symbols split off ({@code intl}). */
    INTL("intl", IntlTokenizer::tokenize),
    /** Every code point is a token ({@code char}). */
    CHAR("char", BleuTokenizer::chars),
    /** No tokenization; tokens are the whitespace-separated words ({@code none}). */
    NONE("none", UnaryOperator.identity());

    private final String id;
    private final UnaryOperator<String> fn;

    BleuTokenizer(String id, UnaryOperator<String> fn) {
        this.id = id;
        this.fn = fn;
    }

    /** The name used on the command line and in signatures ({@code tok:…}). */
    public String id() {
        return id;
    }

    /** Tokenizes one line; the result's tokens are separated by spaces (plus whatever spaces {@code none} keeps). */
    public String tokenize(String line) {
        return fn.apply(line);
    }

    /** The tokenizer with this sacreBLEU name ({@code 13a}, {@code zh}, {@code intl}, {@code char}, {@code none}). */
    public static BleuTokenizer of(String id) {
        for (BleuTokenizer t : values()) {
            if (t.id.equals(id.toLowerCase(Locale.ROOT))) return t;
        }
        throw new IllegalArgumentException("unknown BLEU tokenizer '" + id + "' (expected 13a, zh, intl, char or none)");
    }

    private static String chars(String line) {
        StringBuilder b = new StringBuilder(line.length() * 2);
        for (int i = 0; i < line.length(); ) {
            int cp = line.codePointAt(i);
            if (i > 0) b.append(' ');
            b.appendCodePoint(cp);
            i += Character.charCount(cp);
        }
        return b.toString();
    }
}
