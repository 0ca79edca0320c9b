package dev.alma.eval;

import dev.alma.PyStrings;
import java.util.regex.Pattern;

/**
 * TER's own preprocessing, as sacreBLEU's {@code TercomTokenizer} (a port of tercom's Normalizer): lower-casing
 * unless case-sensitive, optional normalisation (tercom's Western punctuation rules, optionally CJK splitting),
 * optional punctuation removal, then single spaces.
 */
final class TercomTokenizer {
    private static final int F = Pattern.UNIX_LINES;
    private static final String ASIAN_PUNCT = "([\\u3001\\u3002\\u3008-\\u3011\\u3014-\\u301f\\uff61-\\uff65\\u30fb])";
    private static final String FULL_WIDTH_PUNCT = "([\\uff0e\\uff0c\\uff1f\\uff1a\\uff1b\\uff01\\uff02\\uff08\\uff09])";

    /** Western rules: each pattern with its replacement, applied in order to the space-padded line. */
    private static final Object[][] WESTERN = {
            {Pattern.compile("([{-~\\[-` -&(-+:-@/])", F), " $1 "},
            {Pattern.compile("'s ", F), " 's "},
            {Pattern.compile("'s$", F), " 's"},
            {Pattern.compile("([^0-9])([\\.,])", F), "$1 $2 "},
            {Pattern.compile("([\\.,])([^0-9])", F), " $1 $2"},
            {Pattern.compile("([0-9])(-)", F), "$1 $2 "},
    };

    /** CJK rules: ideographs and CJK punctuation become single tokens, kana runs are split off. */
    private static final Object[][] ASIAN = {
            {Pattern.compile("([\\u4e00-\\u9fff\\u3400-\\u4dbf])", F), " $1 "},
            {Pattern.compile("([\\u31c0-\\u31ef\\u2e80-\\u2eff])", F), " $1 "},
            {Pattern.compile("([\\u3300-\\u33ff\\uf900-\\ufaff\\ufe30-\\ufe4f])", F), " $1 "},
            {Pattern.compile("([\\u3200-\\u3f22])", F), " $1 "},
            {Pattern.compile("(^|^[\\u3040-\\u309f])([\\u3040-\\u309f]+)(?=$|^[\\u3040-\\u309f])", F), "$1 $2 "},
            {Pattern.compile("(^|^[\\u30a0-\\u30ff])([\\u30a0-\\u30ff]+)(?=$|^[\\u30a0-\\u30ff])", F), "$1 $2 "},
            {Pattern.compile("(^|^[\\u31f0-\\u31ff])([\\u31f0-\\u31ff]+)(?=$|^[\\u31f0-\\u31ff])", F), "$1 $2 "},
            {Pattern.compile(ASIAN_PUNCT, F), " $1 "},
            {Pattern.compile(FULL_WIDTH_PUNCT, F), " $1 "},
    };

    private static final Pattern PUNCT = Pattern.compile("[\\.,\\?:;!\"\\(\\)]", F);
    private static final Pattern ASIAN_PUNCT_ALL = Pattern.compile(ASIAN_PUNCT + "|" + FULL_WIDTH_PUNCT, F);

    private final boolean normalized;
    private final boolean noPunct;
    private final boolean asianSupport;
    private final boolean caseSensitive;

    TercomTokenizer(boolean normalized, boolean noPunct, boolean asianSupport, boolean caseSensitive) {
        this.normalized = normalized;
        this.noPunct = noPunct;
        this.asianSupport = asianSupport;
        this.caseSensitive = caseSensitive;
    }

    String tokenize(String sent) {
        if (sent.isEmpty()) return "";
        if (!caseSensitive) sent = PyStrings.lower(sent);
        if (normalized) {
            sent = sent.replace("\n-", "").replace("\n", " ").replace("&quot;", "\"").replace("&amp;", "&")
                    .replace("&lt;", "<").replace("&gt;", ">");
            sent = apply(WESTERN, " " + sent + " ");
            if (asianSupport) sent = apply(ASIAN, sent);
        }
        if (noPunct) {
            sent = PUNCT.matcher(sent).replaceAll("");
            if (asianSupport) sent = ASIAN_PUNCT_ALL.matcher(sent).replaceAll("");
        }
        return PyStrings.normalizeSpaces(sent);
    }

    private static String apply(Object[][] rules, String s) {
        for (Object[] rule : rules) s = ((Pattern) rule[0]).matcher(s).replaceAll((String) rule[1]);
        return s;
    }
}
