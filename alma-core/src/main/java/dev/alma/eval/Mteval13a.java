package dev.alma.eval;

import dev.alma.PyStrings;
/**
 * The mteval-v13a tokenizer as sacreBLEU implements it ({@code tok:13a}), and its punctuation part that the
 * {@code zh} tokenizer reuses.
 *
 * <p>sacreBLEU applies four regular-expression substitutions in turn; each is a two-code-point pattern replaced
 * left to right without overlaps, which a single scan per substitution reproduces exactly (and many times
 * faster):
 * <ol>
 * <li>{@code ([\{-\~\[-\` -\&\(-\+\:-\@\/])} → {@code " \1 "}: ASCII punctuation and symbols other than
 * {@code ' , . -} are split off;</li>
 * <li>{@code ([^0-9])([\.,])} → {@code "\1 \2 "}: period and comma after a non-digit;</li>
 * <li>{@code ([\.,])([^0-9])} → {@code " \1 \2"}: period and comma before a non-digit;</li>
 * <li>{@code ([0-9])(-)} → {@code "\1 \2 "}: a dash after a digit.</li>
 * </ol>
 * Digits here are ASCII {@code 0-9} only, as in the Python patterns.
 */
final class Mteval13a {
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
        int[] s = PyStrings.codePoints(line);
        // the first pass at most triples the length (2 spaces around 1 code point), each later one at most doubles it
        // (2 spaces per 2 code points consumed)
        int[] buf = new int[3 * s.length + 4];
        int n = 0;
        for (int cp : s) {
            if (isSymbol(cp)) {
                buf[n++] = ' ';
                buf[n++] = cp;
                buf[n++] = ' ';
            } else {
                buf[n++] = cp;
            }
        }
        int[][] io = {buf, new int[2 * n + 4]};
        n = periodAfterNonDigit(io[0], n, io[1]);
        io = swap(io, n);
        n = periodBeforeNonDigit(io[0], n, io[1]);
        io = swap(io, n);
        n = dashAfterDigit(io[0], n, io[1]);
        return PyStrings.normalizeSpaces(new String(io[1], 0, n));
    }

    private static int[][] swap(int[][] io, int n) {
        int[] out = io[0].length >= 2 * n + 4 ? io[0] : new int[2 * n + 4];
        return new int[][]{io[1], out};
    }

    /** {@code [{-~[-` -&(-+:-@/]}. */
    private static boolean isSymbol(int c) {
        return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') || (c >= '(' && c <= '+')
                || (c >= ':' && c <= '@') || c == '/';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isPeriodOrComma(int c) {
        return c == '.' || c == ',';
    }

    /** {@code ([^0-9])([\.,])} → {@code "\1 \2 "}. */
    private static int periodAfterNonDigit(int[] in, int len, int[] out) {
        int n = 0;
        for (int i = 0; i < len; ) {
            if (i + 1 < len && !isDigit(in[i]) && isPeriodOrComma(in[i + 1])) {
                out[n++] = in[i];
                out[n++] = ' ';
                out[n++] = in[i + 1];
                out[n++] = ' ';
                i += 2;
            } else {
                out[n++] = in[i++];
            }
        }
        return n;
    }

    /** {@code ([\.,])([^0-9])} → {@code " \1 \2"}. */
    private static int periodBeforeNonDigit(int[] in, int len, int[] out) {
        int n = 0;
        for (int i = 0; i < len; ) {
            if (i + 1 < len && isPeriodOrComma(in[i]) && !isDigit(in[i + 1])) {
                out[n++] = ' ';
                out[n++] = in[i];
                out[n++] = ' ';
                out[n++] = in[i + 1];
                i += 2;
            } else {
                out[n++] = in[i++];
            }
        }
        return n;
    }

    /** {@code ([0-9])(-)} → {@code "\1 \2 "}. */
    private static int dashAfterDigit(int[] in, int len, int[] out) {
        int n = 0;
        for (int i = 0; i < len; ) {
            if (i + 1 < len && isDigit(in[i]) && in[i + 1] == '-') {
                out[n++] = in[i];
                out[n++] = ' ';
                out[n++] = '-';
                out[n++] = ' ';
                i += 2;
            } else {
                out[n++] = in[i++];
            }
        }
        return n;
    }
}
