package dev.alma.eval;

import java.util.regex.Pattern;

/**
 * The mteval-v13a tokenizer as sacreBLEU implements it ({@code tok:13a}), and its regular-expression part that the
 * {@code zh} tokenizer reuses. The character classes are ASCII-only, exactly as in sacreBLEU's Python patterns.
 */
final class Mteval13a {
    /** ASCII punctuation and symbols except {@code ' , . -} (and the space): split off on both sides. */
    private static final Pattern SYMBOLS = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    /** Period or comma preceded by a non-digit. */
    private static final Pattern PERIOD_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
    /** Period or comma followed by a non-digit. */
    private static final Pattern PERIOD_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
    /** Dash preceded by a digit. */
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Mteval13a() {
    }

    /** The full {@code 13a} tokenizer: mteval's language-independent normalisation, then {@link #splitPunctuation}. */
    static String tokenize(String line) {
        line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (line.indexOf('&') >= 0) {
            line = line.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        return splitPunctuation(" " + line + " ");
    }

    /** The language-dependent (Western) part, ending with Python's {@code ' '.join(line.split())}. */
    static String splitPunctuation(String line) {
        line = SYMBOLS.matcher(line).replaceAll(" $1 ");
        line = PERIOD_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
        return PyText.normalizeSpaces(line);
    }
}
