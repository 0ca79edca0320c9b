package dev.alma.eval;

import dev.alma.PyStrings;
import java.util.regex.Pattern;

/**
 * sacreBLEU's {@code intl} tokenizer (mteval-v14's international tokenization): punctuation (Unicode category P)
 * is split off unless it sits between digits on that side, symbols (category S) are always split off.
 */
final class IntlTokenizer {
    private static final Pattern PUNCT_AFTER_NON_DIGIT = Pattern.compile("(\\P{N})(\\p{P})");
    private static final Pattern PUNCT_BEFORE_NON_DIGIT = Pattern.compile("(\\p{P})(\\P{N})");
    private static final Pattern SYMBOL = Pattern.compile("(\\p{S})");

    private IntlTokenizer() {
    }

    static String tokenize(String line) {
        line = PUNCT_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PUNCT_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = SYMBOL.matcher(line).replaceAll(" $1 ");
        return PyStrings.normalizeSpaces(line);
    }
}
